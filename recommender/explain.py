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

import functools
import json
from pathlib import Path

import numpy as np

from .catalog import ServiceCatalog
from .eligibility import Outcome
from .features import ResidentFeaturizer
from .model import DENSE_BYTES, HybridModel
from .profile import Profile
from .results import Contribution
from .signals import row_sum, std

TASTE = "history:own taste"
BASELINE = "service:baseline"
#: the signals whose part is their weight times their value, and the names of those parts
PLAIN_SIGNALS = (("hyb", "similar:services like those that suit this resident"),
                 ("seg", "similar:what residents with a similar profile use"),
                 ("pop", "popularity:overall"), ("recent", "popularity:recent"),
                 ("near", "near:home"), ("area", "local:serves the resident's district"),
                 ("speaks", "local:offers a language the resident speaks"),
                 ("unknown", "eligibility:unknown"), ("new", "new:a programme nobody has used yet"))


TEMPLATES_FILE = Path(__file__).parent / "data" / "explanations.json"
#: Languages an explanation sentence can be written in (request ``lang``).
LANGUAGES = ("en", "zh")


@functools.lru_cache(maxsize=1)
def _templates() -> dict:
    data = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    return {lang: data[lang] for lang in LANGUAGES}


def _lang(lang: str | None) -> dict:
    lang = (lang or "en").strip().lower()
    if lang not in LANGUAGES:
        raise ValueError(f"lang: {lang!r} is not one of {', '.join(LANGUAGES)}")
    return _templates()[lang]


@functools.lru_cache(maxsize=4096)
def describe(feature: str, lang: str = "en") -> str:
    """A feature token in words: ``age:65+`` -> ``age 65+``."""
    kind, _, value = feature.partition(":")
    t = _lang(lang)
    template = t["words"].get(kind)
    if template is None:
        return f"{kind} {value}"
    value = t.get("values", {}).get(value, value)
    return template.format(value.upper() if kind == "district" else value)


def describe_with(catalog: ServiceCatalog, feature: str, lang: str = "en") -> str:
    """A feature in words, naming services and taxonomy terms, never their codes."""
    kind, _, value = feature.partition(":")
    if kind == "used":
        j = catalog.index.get(value)
        name = catalog.records[j].get("name") if j is not None else value
        return _lang(lang)["used_with"].format(name)
    if kind in ("need", "need_match"):
        return catalog.taxonomy.path_in(value, lang)
    return describe(feature, lang)


class Explainer:
    def __init__(self, catalog: ServiceCatalog, featurizer: ResidentFeaturizer, model: HybridModel):
        self.catalog = catalog
        self.featurizer = featurizer
        self.model = model
        self._v_mean = model.cf.item_embeddings.mean(axis=0)
        self._b_mean = float(model.cf.item_biases.mean())
        # each service's offset from the average service (embedding, bias): what every part multiplies
        self._dV = model.cf.item_embeddings - self._v_mean
        self._db = model.cf.item_biases - self._b_mean
        # every profile feature's and the intercept's product with every service's offset, when small
        # (a request then reads its features' rows instead of multiplying)
        W = model.cf.feature_map
        self._WdV = W @ self._dV.T if W.shape[0] * self._dV.shape[0] * 4 <= DENSE_BYTES else None
        self._base = model.cf.feature_intercept @ self._dV.T + self._db
        #: lang -> feature -> the feature in words as a driver of a sentence ("" when not said)
        self._drivers: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        # each service's average co-use weight over the catalogue (the neighbour parts' offsets)
        self._knn_mean = np.asarray(model.neighbors.sum(axis=1)).ravel() / model.neighbors.shape[1]
        self._used_names = [f"used:{sid}" for sid in catalog.ids]

    def contributions(self, items: list[int], profile: Profile, signals, weights: dict[str, float], warm: bool,
                      need_masks: dict[str, np.ndarray], hist: np.ndarray = (), top: int = 5,
                      features: np.ndarray | None = None) -> list[list[Contribution]]:
        """The largest parts of each listed service's score, computed for all of them at once.

        ``signals`` are the request's (``recommender.signals.Signals``, one resident) and ``weights``
        its segment's ranker weights: the parts of every signal add up to the ranking score exactly.
        ``features``: the profile's feature columns, when the caller has them (the request's batch).
        """
        if not items:
            return []
        m = self.model
        items = np.asarray(items, dtype=np.int64)
        names: list[str] = []
        blocks: list[np.ndarray] = []
        w_cf = weights.get("cf", 0.0)
        if w_cf:
            sd = signals.stds.get("cf")
            scale = w_cf / (float(sd[0, 0]) if sd is not None else (std(signals.cf_raw[0]) or 1.0))
            idx = self.featurizer.indices(profile) if features is None else features
            feature_names = self.featurizer.feature_names_
            names.extend([feature_names[f] for f in idx.tolist()])
            # the profile's features, the resident's own taste (warm: u minus the embedding predicted
            # from the profile), the intercept with the bias
            feat = (self._WdV[idx[:, None], items] if self._WdV is not None
                    else m.cf.feature_map[idx] @ self._dV[items].T)
            base = self._base[items]
            if warm:
                names.append(TASTE)
                own = signals.U[0] - m.cf.feature_intercept
                own -= np.add.reduce(m.cf.feature_map.take(idx, axis=0), axis=0)
                part = np.vstack([feat, self._dV[items] @ own, base])
            else:
                part = np.vstack([feat, base])
            names.append(BASELINE)
            part *= scale
            blocks.append(part)
        w_knn = weights.get("knn", 0.0)
        if w_knn and len(hist):
            # the neighbour term is w * z(sum_h S[h]): one exact part per service in the history
            hist = np.asarray(hist)
            sd = signals.stds.get("knn")
            sd = float(sd[0, 0]) if sd is not None else (std(row_sum(m.neighbors, hist)) or 1.0)
            dense = m.dense("neighbors")
            sub = dense[hist[:, None], items] if dense is not None else m.neighbors[hist][:, items].toarray()
            sub -= self._knn_mean[hist, None]
            sub *= w_knn / sd
            blocks.append(sub)
            used = self._used_names
            names.extend([used[h] for h in hist.tolist()])
        rows, ws = [], []
        for signal, name in PLAIN_SIGNALS:
            w = weights.get(signal, 0.0)
            v = signals.values.get(signal)
            if w and v is not None:
                names.append(name)
                rows.append(v[0].take(items))
                ws.append(w)
        w_need = weights.get("need", 0.0)
        if w_need:
            for need, mask in need_masks.items():
                names.append(f"need_match:{need}")
                rows.append(mask.take(items))
                ws.append(w_need)
        if rows:
            part = np.array(rows, dtype=np.float64)
            part *= np.array(ws)[:, None]
            blocks.append(part)
        if not blocks:
            return [[] for _ in items]
        parts = np.vstack(blocks) if len(blocks) > 1 else blocks[0]  # features x items
        size = np.abs(parts)
        np.negative(size, out=size)
        order = np.argsort(size, axis=0, kind="stable")[:top]
        values = parts[order, np.arange(len(items))].round(4).T.tolist()
        return [[Contribution(names[f], v) for f, v in zip(fs, vs) if v != 0.0]
                for fs, vs in zip(order.T.tolist(), values)]

    def _driver(self, feature: str, lang: str) -> str:
        """``feature`` in words for a sentence's drivers, worked out once per feature and language; ""
        for what a sentence leaves out: "unknown" bands (real features, but they tell a caseworker
        nothing) and the declared needs (already said)."""
        table = self._drivers[(lang or "en").strip().lower()]
        words = table.get(feature)
        if words is None:
            words = table[feature] = ("" if feature.endswith(":unknown") or feature.startswith(("need:", "need_match:"))
                                      else describe_with(self.catalog, feature, lang))
        return words

    def sentence(self, rec: dict, needs: list[str], status: Outcome, reasons: list[str], questions: list[str],
                 contributions: list[Contribution], distance_km: float | None, lang: str = "en") -> str:
        """The suggestion in plain words: the needs it answers (taxonomy names, not codes), eligibility
        (reasons once each) or what to confirm, the main drivers of the score (no numbers; the
        declared needs are not repeated), the distance. In English or Chinese (``lang``)."""
        return self._sentence(_lang(lang), lang, rec, needs, status, list(dict.fromkeys(reasons)), questions,
                              contributions, distance_km)

    def _sentence(self, t: dict, lang: str, rec: dict, needs: list[str], status: Outcome, reasons: list[str],
                  questions: list[str], contributions: list[Contribution], distance_km: float | None) -> str:
        """:meth:`sentence` with the language's templates ``t`` (``_lang(lang)``) looked up once per request
        and ``reasons`` each once (as ``Eligibility.details`` gives them)."""
        parts = []
        if needs:
            parts.append(t["answers"].format(t["sep"].join(dict.fromkeys(needs)) if len(needs) > 1 else needs[0]))
        if status == Outcome.ELIGIBLE:
            shown = reasons if lang in (None, "en") else []
            parts.append(t["eligible"].format(t["sep"].join(shown)) if shown else t["eligible_open"])
        else:
            asked = [t["questions"].get(q, q) for q in dict.fromkeys(questions)] or list(dict.fromkeys(reasons))
            parts.append(t["confirm"].format(" ".join(asked)).rstrip(".?") + ("？" if lang == "zh" else "?"))
        said = self._drivers[lang] if lang in self._drivers else self._drivers[(lang or "en").strip().lower()]
        drivers = []
        for c in contributions:
            if c.value > 0:
                words = said.get(c.feature)
                if words is None:
                    words = self._driver(c.feature, lang)
                if words and words not in drivers:
                    drivers.append(words)
        if drivers:
            parts.append(t["mainly"].format(t["list"].join(drivers[:3])))
        if distance_km is not None:
            parts.append(t["km"].format(f"{distance_km:.1f}"))
        return ("" if lang == "zh" else " ").join(parts)
