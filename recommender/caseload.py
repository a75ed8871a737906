"""A caseload allocated at once: candidates from the one ranking path, then the allocation solver.

    result = allocate_caseload(rec, [Case(resident_id="R000123"), Case(profile={...})], candidates=10)
    result.rows            # one dict per (resident, declared need): case (index), resident_id, need,
                           # service_id ("" where none has room), score (None there)
    result.report          # recommender.allocation's report plus timings and the model version
    result.shadow_prices   # service_id -> value of one more place (only where > 0)

Each (resident, declared need) pair's candidates are the top ``candidates`` services of
``Recommender.recommend(..., needs=[need], categories=[need], explain=False)``: the same scores,
eligibility (a full service -- capacity 0 -- is already ineligible there), exclusions and history as
a single recommendation; computed in batches through ``Recommender.rank_batch`` (the same kernel)
when the engine has it. Live capacity reaches both the ranking (``overrides``) and the solver.
"""
from __future__ import annotations

import math
import time
from types import MappingProxyType
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import allocation
from .eligibility import Outcome
from .schema import split_list

#: Candidates per pair: 10,000 residents x 2,000 services stays a small problem.
CANDIDATES = 10
#: Groupings whose coverage gets the floor (resident field -> how the group is read).
GROUPINGS = ("district", "language")


@dataclass
class Case:
    resident_id: str | None = None
    profile: dict | None = None
    #: (service_id, event) recorded after training (the API's stored events)
    history: list = field(default_factory=list)
    exclude_service_ids: list = field(default_factory=list)


@dataclass
class CaseloadAllocation:
    rows: list[dict]
    report: dict
    shadow_prices: dict[str, float]


def _group_labels(rec, case: Case) -> dict[str, str]:
    merged = dict(rec.resident_profile(case.resident_id) or {}) if case.resident_id else {}
    merged.update({k: v for k, v in (case.profile or {}).items() if v not in (None, "", [])})
    langs = split_list(merged.get("languages"))
    district = merged.get("district")
    return {"district": str(district).strip().lower() if district not in (None, "") else "",
            "language": langs[0] if langs else ""}


def _needs(rec, case: Case) -> list[str]:
    if case.profile is not None and case.profile.get("needs") not in (None, "", []):
        return split_list(case.profile["needs"])
    known = rec.resident_profile(case.resident_id) if case.resident_id else None
    return split_list((known or {}).get("needs"))


def _category(rec, case: Case, need: str, overrides) -> str | None:
    """The catalogue term a declared need stands for (free text is matched as the engine does)."""
    if need in rec.catalog.term_index:
        return need
    probe = rec.recommend(resident_id=case.resident_id, profile=case.profile, needs=[need], k=1,
                          explain=False, overrides=overrides)
    answer = probe.needs.get(need)
    return answer.need if answer is not None and answer.need in rec.catalog.term_index else None


def _one_by_one(rec, jobs, n: int, overrides):
    """(pair, service index, score, eligibility unknown?) from one ``recommend`` call per pair."""
    for p, _ci, case, code, _profile in jobs:
        result = rec.recommend(resident_id=case.resident_id, profile=case.profile, needs=[code],
                               categories=[code], k=n, explain=False, history=case.history,
                               exclude_service_ids=case.exclude_service_ids, overrides=overrides)
        for item in result.items:
            yield p, rec.catalog.index[item.service_id], float(item.score), item.eligibility == Outcome.UNKNOWN.label


def _batched(rec, jobs, n: int, overrides, chunk: int = 256):
    """The same as :func:`_one_by_one` through ``rank_batch``: the exclusions ``recommend`` makes
    (services outside the need, used or declined since training, excluded by the caller) and the
    history since training are handed over as matrices, eligibility with the live overrides."""
    cat = rec.catalog
    m = len(cat)
    outcomes: dict[int, np.ndarray] = {}  # eligibility does not read needs: once per resident
    for start in range(0, len(jobs), chunk):
        part = jobs[start:start + chunk]
        excluded = np.zeros((len(part), m), dtype=bool)
        recorded = []
        for r, (_p, ci, case, code, profile) in enumerate(part):
            if ci not in outcomes:
                outcomes[ci] = rec.eligibility([profile], overrides)[0]
            excluded[r] = ~cat.answers(code)
            for item in case.history or ():
                sid, event = (item[0], item[1]) if not isinstance(item, str) else (item, "enrolled")
                j = cat.index.get(str(sid))
                if j is not None and event != "viewed":  # as recommend: a view is not use
                    excluded[r, j] = True
            for sid in case.exclude_service_ids or ():
                j = cat.index.get(str(sid))
                if j is not None:
                    excluded[r, j] = True
            row = rec._recorded(case.history)
            recorded.append(row if row is not None else sp.csr_matrix((1, m), dtype=np.float32))
        elig = np.stack([outcomes[ci] for _p, ci, *_ in part])
        top, s = rec.rank_batch([case.resident_id for _p, _ci, case, *_ in part], [j[4] for j in part], k=n,
                                exclude=sp.csr_matrix(excluded), extra_history=sp.vstack(recorded).tocsr(),
                                outcomes=elig)
        for r, (p, *_rest) in enumerate(part):
            for j in top[r]:
                if j < 0:
                    break
                yield p, int(j), round(float(s[r, j]), 4), bool(elig[r, j] == Outcome.UNKNOWN)


def allocate_caseload(rec, cases: list[Case], *, candidates: int = CANDIDATES, overrides=None,
                      unknown_penalty: float = allocation.UNKNOWN_PENALTY, floor: float = allocation.FLOOR,
                      min_group: int = allocation.MIN_GROUP, time_limit: float = 30.0,
                      method: str = "auto", batch: bool = True) -> CaseloadAllocation:
    """Allocate every declared need of every case. ValueError/KeyError name the case (0-based).
    ``batch``: rank the pairs through ``Recommender.rank_batch`` (the same kernel, many rows at once)
    rather than one ``recommend`` call each; both give the same candidates."""
    t0 = time.perf_counter()
    # one read-only mapping for every ranking call: the catalogue builds its arrays once for it
    overrides = MappingProxyType(dict(overrides)) if overrides else None
    pair_rows: list[dict] = []
    pair_resident: list[int] = []
    labels: dict[str, list[str]] = {g: [] for g in GROUPINGS}
    e_pair: list[int] = []
    e_service: list[int] = []
    e_score: list[float] = []
    e_unknown: list[bool] = []
    no_needs = 0
    #: (pair, case index, case, need code, the engine's query profile when ranking in batches)
    jobs: list[tuple] = []
    batched = hasattr(rec, "rank_batch") and batch
    for ci, case in enumerate(cases):
        try:
            if case.profile is None and not (case.resident_id and rec.knows(case.resident_id)):
                raise KeyError(f"resident_id {case.resident_id!r} is not known to model {rec.version} "
                               "and no profile was given")
            needs = _needs(rec, case)
            if not needs:
                no_needs += 1
                continue
            group = _group_labels(rec, case)
            for need in needs:
                p = len(pair_rows)
                pair_rows.append({"case": ci, "resident_id": case.resident_id or "", "need": need,
                                  "service_id": "", "score": None})
                pair_resident.append(ci)
                for g in GROUPINGS:
                    labels[g].append(group[g])
                code = _category(rec, case, need, overrides)
                if code is not None:
                    jobs.append((p, ci, case, code, rec._query(case.resident_id, case.profile, [code]).profile
                                 if batched else None))
        except (KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise type(e)(f"resident #{ci}{' (' + case.resident_id + ')' if case.resident_id else ''}: {msg}") from None
    for p, service, score, unknown in (_batched(rec, jobs, candidates, overrides) if batched
                                       else _one_by_one(rec, jobs, candidates, overrides)):
        e_pair.append(p)
        e_service.append(service)
        e_score.append(score)
        e_unknown.append(unknown)
    ranked_seconds = time.perf_counter() - t0

    capacity = np.asarray(rec.catalog.with_overrides(overrides)[1], dtype=np.float64)
    result = allocation.allocate(
        e_pair, e_service, e_score, e_unknown, n_pairs=len(pair_rows), capacity=capacity,
        resident=np.asarray(pair_resident, dtype=np.int64),
        groups={g: np.asarray(v, dtype=object) for g, v in labels.items()},
        unknown_penalty=unknown_penalty, floor=floor, min_group=min_group, time_limit=time_limit,
        method=method)
    score = np.asarray(e_score)
    for p, row in enumerate(pair_rows):
        e = result.edge[p]
        if e >= 0:
            row["service_id"] = rec.catalog.ids[e_service[e]]
            row["score"] = round(float(score[e]), 4)
    report = dict(result.report)
    report["model_version"] = rec.version
    report["residents"] = len(cases)
    report["residents_without_needs"] = no_needs
    report["candidates_per_pair"] = candidates
    report["ranking_seconds"] = round(ranked_seconds, 3)
    report["solve_seconds"] = report["seconds"]
    report["seconds"] = round(time.perf_counter() - t0, 3)
    shadow = {rec.catalog.ids[i]: round(float(v), 6) for i, v in enumerate(result.shadow_prices)
              if v > 0 and not math.isnan(v)}
    return CaseloadAllocation(rows=pair_rows, report=report, shadow_prices=shadow)
