"""From scores to a top-k list: drop what may not be suggested, then make every declared need answered.

"One key opens one lock": a resident who declared housing and food should not get ten food banks. After
ranking by score, each declared need with no answer in the top k gets its best eligible service swapped
in for the lowest-ranked item that no other need depends on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eligibility import Outcome


@dataclass
class Ranked:
    indices: list[int]                 # services, best first
    need_answers: dict[str, list[int]]  # need -> indices in the list that answer it
    unanswerable: dict[str, str]        # need -> why nothing answers it


def candidate_scores(scores: np.ndarray, outcome: np.ndarray, excluded: np.ndarray | None,
                     include_unknown: bool = True) -> np.ndarray:
    """Scores with -inf wherever a service may not be suggested."""
    s = np.asarray(scores, dtype=np.float64).copy()
    s[outcome == Outcome.INELIGIBLE] = -np.inf
    if not include_unknown:
        s[outcome == Outcome.UNKNOWN] = -np.inf
    if excluded is not None:
        s[excluded] = -np.inf
    return s


def top_k(s: np.ndarray, k: int) -> list[int]:
    """Indices of the k best finite scores, best first (ties broken by index for repeatability)."""
    finite = np.flatnonzero(np.isfinite(s))
    if len(finite) == 0:
        return []
    if len(finite) > k:
        part = finite[np.argpartition(-s[finite], k - 1)[:k]]
    else:
        part = finite
    return [int(i) for i in part[np.lexsort((part, -s[part]))]]


def rank(s: np.ndarray, k: int, need_masks: dict[str, np.ndarray]) -> Ranked:
    """Top k of candidate scores ``s`` (see :func:`candidate_scores`) with every need answered if possible."""
    top = top_k(s, k)
    unanswerable: dict[str, str] = {}
    if need_masks and top:
        finite = np.isfinite(s)
        for need, mask in need_masks.items():
            if any(mask[i] for i in top):
                continue
            pool = np.flatnonzero(mask & finite)
            if len(pool) == 0:
                unanswerable[need] = ("no service in the catalogue answers this need" if not mask.any()
                                      else "no service answering this need is open to this resident")
                continue
            best = int(pool[np.argmax(s[pool])])
            # replace the lowest-ranked item whose removal leaves no other need unanswered
            for pos in range(len(top) - 1, -1, -1):
                victim = top[pos]
                sole = any(m[victim] and sum(bool(m[j]) for j in top) == 1
                           for n, m in need_masks.items() if n != need)
                if not sole:
                    top[pos] = best
                    break
            else:
                unanswerable[need] = f"the top {k} is taken by services answering other needs"
        top.sort(key=lambda i: (-s[i], i))
    elif need_masks:
        for need, mask in need_masks.items():
            unanswerable[need] = "no service is open to this resident"
    answers = {need: [i for i in top if mask[i]] for need, mask in need_masks.items()}
    for need, items in answers.items():
        if items:
            unanswerable.pop(need, None)
    return Ranked(top, answers, unanswerable)
