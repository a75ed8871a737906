"""Why a service was suggested, in parts that add up to its score and in words a caseworker can read.

The collaborative part of a score is ``z_j = (u . v_j + b_j - mean) / std`` over the catalogue, and
``u = x @ W + w0 + r`` (see ``recommender.model``). Writing ``v_j - v_mean`` for the service's offset
from the average service, ``z_j`` splits exactly into

* one term per profile feature ``f`` the resident has: ``W_f . (v_j - v_mean) / std``;
* the resident's own taste learned from their history: ``r . (v_j - v_mean) / std`` (warm only);
* the service's baseline: ``(w0 . (v_j - v_mean) + b_j - b_mean) / std``;

to which the blend adds the declared-need and popularity terms. These are the contributions reported.
"""
from __future__ import annotations

import numpy as np

from .catalog import ServiceCatalog
from .features import ResidentFeaturizer
from .model import HybridModel
from .profile import Profile
from .results import Contribution

TASTE = "history:own taste"
BASELINE = "service:baseline"


def describe(feature: str) -> str:
    """A feature token in words: ``need:food`` -> ``declared need: food``."""
    kind, _, value = feature.partition(":")
    return {
        "need": f"profile declares {value}",
        "need_match": f"answers declared need {value}",
        "age": f"age {value}",
        "gender": f"gender {value}",
        "district": f"district {value.upper()}",
        "household": f"household of {value}",
        "income": f"monthly income {value}",
        "employment": f"employment: {value}",
        "disability": f"disability: {value}",
        "language": f"speaks {value}",
        "history": "services used before (their own pattern)",
        "service": "how well it suits residents in general",
        "popularity": "how many residents use it",
    }.get(kind, f"{kind} {value}")


def describe_with(catalog: ServiceCatalog, feature: str) -> str:
    kind, _, value = feature.partition(":")
    if kind == "used":
        j = catalog.index.get(value)
        name = catalog.records[j].get("name") if j is not None else value
        return f"often used together with {name}, which the resident used"
    return describe(feature)


class Explainer:
    def __init__(self, catalog: ServiceCatalog, featurizer: ResidentFeaturizer, model: HybridModel):
        self.catalog = catalog
        self.featurizer = featurizer
        self.model = model
        self._v_mean = model.item_embeddings.mean(axis=0)
        self._b_mean = float(model.item_biases.mean())

    def contributions(self, i: int, profile: Profile, u: np.ndarray, raw: np.ndarray, warm: bool,
                      need_masks: dict[str, np.ndarray], hist: np.ndarray = (), top: int = 5) -> list[Contribution]:
        m = self.model
        std = float(raw.std()) or 1.0
        dv = m.item_embeddings[i] - self._v_mean
        idx = self.featurizer.indices(profile)
        parts: dict[str, float] = {}
        if len(idx):
            per_feature = m.feature_map[idx] @ dv / std
            names = self.featurizer.feature_names_
            for f, val in zip(idx, per_feature):
                parts[names[f]] = float(val)
        predicted = m.predicted_embedding(idx)
        if warm:
            parts[TASTE] = float((u - predicted) @ dv / std)
        parts[BASELINE] = float((m.feature_intercept @ dv + m.item_biases[i] - self._b_mean) / std)
        blend = m.warm_blend if warm else m.cold_blend
        if blend.knn and len(hist):
            # the neighbour term is w * z(sum_h S[h]): one exact part per service in the history
            rows = m.neighbors[np.asarray(hist)]
            total = np.asarray(rows.sum(axis=0)).ravel()
            sd = float(total.std()) or 1.0
            col = rows[:, i].toarray().ravel()
            means = np.asarray(rows.mean(axis=1)).ravel()
            for h, c, mu in zip(hist, col, means):
                parts[f"used:{self.catalog.ids[h]}"] = float(blend.knn * (c - mu) / sd)
        if blend.pop:
            parts["popularity:overall"] = float(blend.pop * m.popularity[i])
        if blend.need:
            for need, mask in need_masks.items():
                if mask[i]:
                    parts[f"need_match:{need}"] = float(blend.need)
        ranked = sorted(parts.items(), key=lambda kv: -abs(kv[1]))[:top]
        return [Contribution(feature=k, value=round(v, 4)) for k, v in ranked]

    def sentence(self, rec: dict, needs: list[str], status: str, reasons: list[str], questions: list[str],
                 contributions: list[Contribution], distance_km: float | None) -> str:
        parts = []
        if needs:
            parts.append("Answers " + "; ".join(needs) + ".")
        if status == "eligible":
            parts.append("Eligible" + (": " + "; ".join(reasons) if reasons else " (no restrictions listed)") + ".")
        else:
            parts.append("Eligibility to confirm: " + " ".join(questions or reasons).rstrip(".?") + "?")
        # "unknown" bands are real features but tell a caseworker nothing
        drivers = [describe_with(self.catalog, c.feature) for c in contributions
                   if c.value > 0 and not c.feature.endswith(":unknown")][:3]
        if drivers:
            parts.append("Suggested mainly for: " + ", ".join(drivers) + ".")
        if distance_km is not None:
            parts.append(f"{distance_km:.1f} km away.")
        return " ".join(parts)
