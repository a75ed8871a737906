"""Promote a new model only when it is better than the current one on the same holdout.

Both models are scored on the new training run's holdout (the current model is re-scored, not
trusted from its own metrics.json, which came from another split). The comparison is the primary
metric averaged over warm and cold residents, each weighted by its number of evaluated residents,
so a model cannot win by serving one group while failing the other.
"""
from __future__ import annotations


def pooled(metrics: dict, primary: str, counts: dict | None = None) -> float | None:
    total, weight = 0.0, 0
    for group in ("warm", "cold"):
        m = metrics.get(group)
        if not m or primary not in m:
            continue
        n = (counts or {}).get(f"{group}_residents_evaluated", 1) or 0
        total += m[primary] * n
        weight += n
    return total / weight if weight else None


def decide(metrics: dict, current: str | None, current_metrics: dict | None, *, force: bool,
           primary: str) -> tuple[bool, str]:
    """(promote?, why) for a new model's metrics against the current model's re-scored ones."""
    counts = metrics.get("counts") or metrics.get("data") or {}
    new = pooled({g: metrics[g]["model"] for g in ("warm", "cold") if "model" in metrics.get(g, {})}, primary, counts)
    if force:
        return True, "promoted because --force was given" + (f" (new {primary} {new:.4f})" if new is not None else "")
    if current is None:
        return True, "promoted: there was no current model"
    if current_metrics is None or "error" in current_metrics:
        err = (current_metrics or {}).get("error", "not scored")
        return True, f"promoted: the current model {current} could not be re-scored ({err})"
    old = pooled(current_metrics, primary, counts)
    if new is None:
        return False, f"not promoted: the new model has no {primary} on this holdout"
    if old is None or new > old:
        return True, f"promoted: {primary} {new:.4f} beats current {current} at {old if old is not None else float('nan'):.4f} on the same holdout"
    return False, (f"not promoted: {primary} {new:.4f} does not beat current {current} at {old:.4f} "
                   "on the same holdout (use --force to promote anyway)")
