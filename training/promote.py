"""Promote a new model only when it is better than the current one, on data neither was trained on.

The gate a trainer can trust:

* **Fresh data only.** Both models are scored on holdout interactions newer than *both* models'
  training data (``trained_through`` in each ``model.json``): a model is never scored on what it learned
  from. Residents one model knows and the other does not (a resident held out by one run and trained on
  by the other) are left out of the comparison, so neither is flattered.
* **Enough residents.** Fewer than ``MIN_RESIDENTS`` residents with fresh positives: no promotion, and
  the reason says so.
* **A gain, not noise.** The per-resident ndcg@10 difference (challenger minus current, paired on the
  same residents) is resampled ``BOOTSTRAP`` times; the challenger is promoted only when the lower
  ``1 - CONFIDENCE`` quantile of the mean difference is above zero (a one-sided 95% bound).
* **No group served worse.** The same paired residents, broken down by district, language, age band,
  disability and gender (``training.equity``): a challenger that lowers any group's ndcg@10 or
  need_coverage@5 by more than ``equity.TOLERANCE`` is refused, naming the group.
* **One at a time.** Reading CURRENT, comparing and replacing it happen under an exclusive lock on the
  models folder, so two concurrent ``train`` runs cannot swap in a worse model: the second compares
  against what the first promoted.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MIN_RESIDENTS = 200
BOOTSTRAP = 1000
CONFIDENCE = 0.95
PRIMARY = "ndcg@10"


@contextlib.contextmanager
def promotion_lock(models_dir: Path):
    """Exclusive lock around read-compare-promote (held by the process; released on exit or crash)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(models_dir / ".promote.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass
class Comparison:
    """A paired comparison of two models on residents with positives after ``since``."""

    since: int | None
    residents: int
    excluded_residents: int
    mean_a: float = float("nan")
    mean_b: float = float("nan")
    diff: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    per_group: dict = field(default_factory=dict)
    #: (no group served worse?, why) from training.equity.equity_gate
    equity: tuple[bool, str] | None = None

    def to_json(self) -> dict:
        def r(x):
            return None if x is None or not np.isfinite(x) else round(float(x), 5)

        return {"since": self.since, "residents": self.residents, "excluded_residents": self.excluded_residents,
                f"{PRIMARY}_a": r(self.mean_a), f"{PRIMARY}_b": r(self.mean_b), "diff": r(self.diff),
                "ci": [r(self.low), r(self.high)], "confidence": CONFIDENCE, "groups": self.per_group,
                "equity": None if self.equity is None else {"ok": self.equity[0], "reason": self.equity[1]}}


def pooled(metrics: dict, primary: str = PRIMARY, counts: dict | None = None) -> float | None:
    """``primary`` averaged over warm and cold residents, each weighted by its number evaluated (a
    one-number summary for listings; the gate itself compares residents pairwise)."""
    total, weight = 0.0, 0
    for group in ("warm", "cold"):
        m = metrics.get(group)
        if not m or primary not in m:
            continue
        n = (counts or {}).get(f"{group}_residents_evaluated", 1) or 0
        total += m[primary] * n
        weight += n
    return total / weight if weight else None


def bootstrap_ci(diff: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Two-sided ``CONFIDENCE`` interval of the mean of ``diff`` by the percentile bootstrap (its lower end
    is a one-sided bound at (1 + CONFIDENCE) / 2; the gate uses the one-sided 95% bound below)."""
    if len(diff) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(BOOTSTRAP, len(diff)))].mean(axis=1)
    alpha = (1 - CONFIDENCE) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def one_sided_low(diff: np.ndarray, seed: int = 0) -> float:
    if len(diff) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(BOOTSTRAP, len(diff)))].mean(axis=1)
    return float(np.quantile(means, 1 - CONFIDENCE))


def compare(a, b, *, residents: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame,
            max_residents: int = 5_000, seed: int = 0, progress: bool = False,
            threads: int = 1) -> tuple[Comparison, np.ndarray]:
    """Score models ``a`` and ``b`` (Recommenders) on the same residents, fresh positives only
    (``threads``: batches ranked at once; the same figures for any number).

    Returns the comparison and the per-resident differences (b - a)."""
    from .equity import equity_gate, group_metrics
    from .evaluate import evaluate_holdout, groups_of, holdout_truth

    through = [m.meta.get("trained_through") for m in (a, b)]
    since = max((t for t in through if t is not None), default=None)
    fresh = holdout if since is None else holdout[holdout["timestamp"] > since]
    index = pd.Index(residents["resident_id"])
    _, truth = holdout_truth(b, index, train, fresh)
    groups = groups_of(residents, train, truth)
    rng = np.random.default_rng(seed)
    kept, excluded = {}, 0
    for g, rows in groups.items():
        ids = index[rows].astype(str)
        same = np.array([a.has_history(r) == b.has_history(r) for r in ids], dtype=bool)
        excluded += int((~same).sum())
        rows = rows[same]
        if len(rows) > max_residents:
            rows = np.sort(rng.choice(rows, size=max_residents, replace=False))
        kept[g] = rows
    ev = {name: evaluate_holdout(m, residents=residents, train=train, holdout=fresh, rankers=("model",), rows=kept,
                                 seed=seed, progress=progress, threads=threads)["per_resident"]
          for name, m in (("a", a), ("b", b))}
    both = ev["a"].merge(ev["b"], on=["resident_id", "group"], suffixes=("_a", "_b"))
    both = both.dropna(subset=[f"{PRIMARY}_a", f"{PRIMARY}_b"])
    diff = (both[f"{PRIMARY}_b"] - both[f"{PRIMARY}_a"]).to_numpy()
    c = Comparison(since=None if since is None else int(since), residents=len(both), excluded_residents=excluded)
    if len(both):
        c.mean_a, c.mean_b, c.diff = (float(both[f"{PRIMARY}_a"].mean()), float(both[f"{PRIMARY}_b"].mean()),
                                      float(diff.mean()))
        c.low, c.high = bootstrap_ci(diff, seed)
        c.equity = equity_gate(group_metrics(ev["b"], residents), group_metrics(ev["a"], residents))
        for g, part in both.groupby("group"):
            c.per_group[g] = {"residents": int(len(part)), f"{PRIMARY}_a": round(float(part[f"{PRIMARY}_a"].mean()), 5),
                              f"{PRIMARY}_b": round(float(part[f"{PRIMARY}_b"].mean()), 5)}
    return c, diff


def decide(comparison: Comparison | None, diff: np.ndarray | None, current: str | None, *, force: bool,
           error: str | None = None, seed: int = 0) -> tuple[bool, str]:
    """(promote?, why) for a challenger compared with the current model (``comparison``: a = current)."""
    unfair = comparison is not None and comparison.equity is not None and not comparison.equity[0]
    if force:
        return True, "promoted because --force was given" + (f" (equity: {comparison.equity[1]})" if unfair else "")
    if current is None:
        return True, "promoted: there was no current model"
    if error is not None:
        return True, f"promoted: the current model {current} could not be scored ({error})"
    n = comparison.residents
    if n < MIN_RESIDENTS:
        return False, (f"not promoted: only {n} residents have positives newer than both models' training data "
                       f"(at least {MIN_RESIDENTS} are needed to tell a better model from noise)")
    low = one_sided_low(diff, seed)
    summary = (f"{PRIMARY} {comparison.mean_b:.4f} vs current {current} {comparison.mean_a:.4f} on {n} residents "
               f"(paired difference {comparison.diff:+.4f}, one-sided {CONFIDENCE:.0%} bound {low:+.4f})")
    if low > 0 and unfair:
        return False, f"not promoted: a group is served worse - equity {comparison.equity[1]}; " + summary
    if low > 0:
        return True, "promoted: " + summary
    return False, "not promoted: the gain is not above noise - " + summary + " (use --force to promote anyway)"


def compare_versions(models_dir, version_a: str, version_b: str, data_dir, *, extra_interactions=(),
                     seed: int = 0, progress: bool = False, threads: int = 1) -> Comparison:
    """``servicematch compare``: two saved versions scored on the data directory's interactions newer
    than both models' training data, paired per resident, with the difference's bootstrap interval."""
    from recommender.engine import Recommender

    from .tables import load_data_dir, load_interactions

    models_dir = Path(models_dir)
    a, b = (Recommender.load(models_dir / v) for v in (version_a, version_b))
    data = load_data_dir(data_dir)
    inter = pd.concat([data.interactions, *(load_interactions(p, services=data.services, residents=data.residents)
                                            for p in extra_interactions)], ignore_index=True)
    since = max((m.meta.get("trained_through") for m in (a, b) if m.meta.get("trained_through") is not None),
                default=None)
    if since is None:
        raise ValueError("model.json: neither version records trained_through (trained before this release)")
    fresh = inter[inter["timestamp"] > since]
    if fresh.empty:
        raise ValueError(f"data: no interaction is newer than both models' training data ({since})")
    comparison, _ = compare(a, b, residents=data.residents, train=inter[inter["timestamp"] <= since],
                            holdout=fresh, seed=seed, progress=progress, threads=threads)
    return comparison
