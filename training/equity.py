"""The equity audit: the evaluation's figures per population group, and a promotion gate on them.

A model can raise the average while serving one district or language group worse. The evaluation's
per-resident figures (the same holdout, every ranker) are broken down by:

- ``district``; ``language`` (the resident's first language); ``age_band`` (``AGE_BANDS``);
  ``disability`` (yes/no); ``gender`` -- each only where the residents table has the column filled;
- figures: ``ndcg@10``, ``need_coverage@5`` (over residents who declared a need) and
  ``eligible_share`` (share of residents given at least one eligible service).

Per population (``warm``/``cold``) and grouping: each group's ``n`` and the three figures for each
ranker; and per ranker and figure the worst-to-best ratio and which group is worst. Groups with
fewer than ``MIN_GROUP`` residents (for need_coverage@5: residents with a need) are reported but
left out of the ratio -- a handful of residents makes any ratio noise; residents whose field is
empty are reported as ``"not given"`` and left out too (they are not a population group).

:func:`equity_gate` refuses a challenger that lowers any group's need_coverage@5 or ndcg@10 by more
than ``TOLERANCE`` (absolute) against the current model re-scored on the same holdout, naming the
group. :func:`format_worst` is the CLI's one line per grouping.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Groups smaller than this are reported but not compared.
MIN_GROUP = 30
#: Largest drop of a group's need_coverage@5 or ndcg@10 a challenger may make (absolute). Both models
#: are scored on the same holdout residents, so the difference is paired. Two fits of the same data
#: (a 20,000-resident generated city, same split, 2,000 residents evaluated per population) differ
#: by up to 0.013 in a district's ndcg@10 (districts of ~150 residents); scaled to the 30-resident
#: minimum that is ~0.03, so 0.05 refuses real regressions without refusing a retrain for noise.
TOLERANCE = 0.05
#: Figures per group; the gate checks GATED.
FIGURES = ("ndcg@10", "need_coverage@5", "eligible_share")
GATED = ("need_coverage@5", "ndcg@10")
#: (lowest age, label) in increasing order; a band runs to the next one's lowest age.
AGE_BANDS = ((0, "0-17"), (18, "18-24"), (25, "25-44"), (45, "45-64"), (65, "65+"))
NOT_GIVEN = "not given"
GROUPINGS = ("district", "language", "age_band", "disability", "gender")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip().str.lower()


def group_labels(residents: pd.DataFrame) -> pd.DataFrame:
    """resident_id plus one label column per grouping the table has filled (``NOT_GIVEN`` when empty)."""
    out = pd.DataFrame({"resident_id": residents["resident_id"].astype(str).to_numpy()})
    if "district" in residents:
        out["district"] = _text(residents["district"]).to_numpy()
    if "languages" in residents:
        langs = residents["languages"].map(
            lambda v: v[0] if isinstance(v, (list, tuple)) and v else v)
        out["language"] = _text(langs).str.split(";").str[0].fillna("").to_numpy()
    if "age" in residents:
        age = pd.to_numeric(residents["age"], errors="coerce").to_numpy(dtype=float)
        lows = np.array([lo for lo, _ in AGE_BANDS], dtype=float)
        names = np.array([name for _, name in AGE_BANDS], dtype=object)
        idx = np.searchsorted(lows, np.nan_to_num(age, nan=-1.0), side="right") - 1
        out["age_band"] = np.where(np.isnan(age) | (idx < 0), "", names[np.maximum(idx, 0)])
    if "disability" in residents:
        d = residents["disability"].astype("boolean")
        out["disability"] = np.where(d.isna(), "", np.where(d.fillna(False), "yes", "no"))
    if "gender" in residents:
        out["gender"] = _text(residents["gender"]).to_numpy()
    for col in GROUPINGS:
        if col in out:
            if (out[col] == "").all():
                out = out.drop(columns=col)
            else:
                out[col] = out[col].replace("", NOT_GIVEN)
    return out


def _figures(rows: pd.DataFrame) -> dict:
    cov = rows["need_coverage@5"].dropna()
    return {
        "ndcg@10": _num(rows["ndcg@10"].mean()),
        "need_coverage@5": _num(cov.mean()) if len(cov) else None,
        "eligible_share": _num(rows["has_eligible"].astype(float).mean()),
        "n_with_needs": int(len(cov)),
    }


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def _compare(groups: dict, rankers: list[str], min_group: int) -> tuple[dict, dict]:
    ratio: dict = {}
    worst: dict = {}
    for ranker in rankers:
        ratio[ranker], worst[ranker] = {}, {}
        for fig in FIGURES:
            size = "n_with_needs" if fig == "need_coverage@5" else "n"
            vals = {g: v[ranker][fig] for g, v in groups.items()
                    if g != NOT_GIVEN and ranker in v and v[ranker][fig] is not None
                    and (v[ranker][size] if size == "n_with_needs" else v["n"]) >= min_group}
            if len(vals) < 2:
                ratio[ranker][fig], worst[ranker][fig] = None, None
                continue
            lo = min(vals, key=lambda g: (vals[g], g))
            hi = max(vals.values())
            ratio[ranker][fig] = round(vals[lo] / hi, 4) if hi > 0 else None
            worst[ranker][fig] = lo
    return ratio, worst


def group_metrics(per_resident: pd.DataFrame, residents: pd.DataFrame, *, min_group: int = MIN_GROUP) -> dict:
    """Figures per population group (see the module docstring) for ``warm`` and ``cold``.

    ``per_resident``: resident_id, ranker, group (warm/cold), ndcg@10, need_coverage@5 (NaN without
    a declared need), has_eligible. ``residents``: the contract residents table.
    """
    missing = {"resident_id", "ranker", "group", "ndcg@10", "need_coverage@5", "has_eligible"} - set(per_resident)
    if missing:
        raise ValueError(f"per_resident: missing column(s) {', '.join(sorted(missing))}")
    labels = group_labels(residents)
    rows = per_resident.assign(resident_id=per_resident["resident_id"].astype(str)).merge(
        labels, on="resident_id", how="left")
    groupings = [g for g in GROUPINGS if g in labels]
    out: dict = {"min_group": min_group}
    for population in ("warm", "cold"):
        pop = rows[rows["group"] == population]
        if pop.empty:
            continue
        rankers = list(dict.fromkeys(pop["ranker"]))
        out[population] = {}
        for grouping in groupings:
            col = pop[grouping].fillna(NOT_GIVEN)
            groups: dict = {}
            for value, members in pop.groupby(col, sort=True):
                entry: dict = {"n": int(members["resident_id"].nunique())}
                for ranker, r in members.groupby("ranker", sort=False):
                    entry[ranker] = _figures(r)
                groups[str(value)] = entry
            ratio, worst = _compare(groups, rankers, min_group)
            out[population][grouping] = {"groups": groups, "worst_to_best": ratio, "worst": worst}
    return out


def equity_gate(challenger: dict, current: dict, tolerance: float = TOLERANCE,
                ranker: str = "model") -> tuple[bool, str]:
    """(ok, reason): refuse when a group's need_coverage@5 or ndcg@10 under the challenger is lower than
    under the current model by more than ``tolerance``. Both are :func:`group_metrics` of the same
    holdout. Groups below the minimum size, or not given, are not judged. The reason names the
    largest drop (or says none exceeded the tolerance)."""
    if tolerance < 0:
        raise ValueError("tolerance: must be >= 0")
    min_group = max(challenger.get("min_group", MIN_GROUP), current.get("min_group", MIN_GROUP))
    drops = []
    for population in ("warm", "cold"):
        for grouping, new in challenger.get(population, {}).items():
            old = current.get(population, {}).get(grouping)
            if old is None:
                continue
            for group, new_entry in new["groups"].items():
                old_entry = old["groups"].get(group)
                if group == NOT_GIVEN or old_entry is None or min(new_entry["n"], old_entry["n"]) < min_group:
                    continue
                for fig in GATED:
                    a = (old_entry.get(ranker) or {}).get(fig)
                    b = (new_entry.get(ranker) or {}).get(fig)
                    if a is None or b is None:
                        continue
                    if fig == "need_coverage@5" and min(old_entry[ranker]["n_with_needs"],
                                                        new_entry[ranker]["n_with_needs"]) < min_group:
                        continue
                    drops.append((a - b, population, grouping, group, fig, a, b))
    worst = max(drops, default=None)
    if worst is None or worst[0] <= tolerance:
        biggest = "" if worst is None else (
            f" (largest drop {worst[0]:.4f}: {worst[1]} residents, {worst[2]} {worst[3]}, {worst[4]})")
        return True, f"no group's need_coverage@5 or ndcg@10 drops by more than {tolerance}{biggest}"
    drop, population, grouping, group, fig, a, b = worst
    return False, (f"refused: {population} residents, {grouping} {group!r}: {fig} {a:.4f} -> {b:.4f} "
                   f"(-{drop:.4f}, more than the tolerance {tolerance})")


def format_worst(groups: dict, ranker: str = "model") -> str:
    """One line per population and grouping: the worst group of the ranker on each figure, with its
    ratio to the best group (``groups``: :func:`group_metrics`)."""
    lines = []
    for population in ("warm", "cold"):
        for grouping, g in groups.get(population, {}).items():
            parts = []
            for fig in FIGURES:
                name = (g["worst"].get(ranker) or {}).get(fig)
                if name is None:
                    continue
                value = g["groups"][name][ranker][fig]
                ratio = g["worst_to_best"][ranker][fig]
                parts.append(f"{fig} {name} {value:.3f}" + (f" ({ratio:.2f} of best)" if ratio is not None else ""))
            if parts:
                lines.append(f"{population} {grouping}: worst " + "; ".join(parts))
            else:
                lines.append(f"{population} {grouping}: fewer than two groups of at least "
                             f"{groups.get('min_group', MIN_GROUP)} residents to compare")
    return "\n".join(lines)
