"""Random draws the scenario generators share: seeded, vectorised where it matters."""
from __future__ import annotations

import datetime as dt

import numpy as np

DAY = 86_400


def epoch(date: str) -> int:
    """``YYYY-MM-DD`` (UTC midnight) as epoch seconds."""
    return int(dt.datetime.fromisoformat(date).replace(tzinfo=dt.timezone.utc).timestamp())


def gumbel_pick(rng: np.random.Generator, utility: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` distinct items drawn without replacement from softmax(utility) (Gumbel top-k).

    Items with utility -inf are never drawn; fewer than ``n`` come back when fewer are possible.
    """
    if len(utility) == 0 or n <= 0:
        return np.array([], dtype=np.int64)
    noisy = utility + rng.gumbel(size=len(utility))
    n = min(n, int(np.isfinite(noisy).sum()))
    if n == 0:
        return np.array([], dtype=np.int64)
    top = np.argpartition(-noisy, n - 1)[:n] if n < len(noisy) else np.arange(len(noisy))
    return top[np.argsort(-noisy[top], kind="stable")]


def weighted(rng: np.random.Generator, options: list, weights, size: int) -> np.ndarray:
    """``size`` draws from ``options`` with (unnormalised) ``weights``."""
    p = np.asarray(weights, dtype=np.float64)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p / p.sum())]


def funnel(rng: np.random.Generator, stages: list[str], go_on: list[float]) -> list[str]:
    """Events a resident reaches along ``stages``: the first always, each next one with ``go_on[i]``."""
    out = [stages[0]]
    for stage, p in zip(stages[1:], go_on):
        if rng.random() >= p:
            break
        out.append(stage)
    return out


def lognormal_income(rng: np.random.Generator, median: np.ndarray, sigma: float = 0.55) -> np.ndarray:
    return np.round(np.asarray(median, dtype=np.float64) * np.exp(rng.normal(0.0, sigma, size=np.shape(median))), -1)


def needs_by_rules(rng: np.random.Generator, rules: dict[str, dict[str, float]], groups: dict[str, np.ndarray],
                   n: int) -> list[list[str]]:
    """Each resident's needs: ``rules`` maps a need code to {group: probability}; a resident in several
    groups gets the need unless every one of them misses it."""
    needs: list[list[str]] = [[] for _ in range(n)]
    for code, rule in rules.items():
        p = np.zeros(n)
        for group, q in rule.items():
            p = 1 - (1 - p) * (1 - q * groups[group])
        for r in np.flatnonzero(rng.random(n) < p):
            needs[r].append(code)
    return needs
