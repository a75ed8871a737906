"""Allocate a caseload jointly: which service each (resident, need) pair gets, under capacity.

Ranking each resident alone sends everyone to the same five-place programme. Here every pair's
candidates (from the ranking path: scores and eligibility come from the engine) compete for the
services' open places at once:

    maximise    sum_e value_e * x_e                    over candidate edges e = (pair, service)
    subject to  sum_{e of pair p} x_e <= 1             each pair gets at most one service
                sum_{e of service s} x_e <= capacity_s every bounded service (NaN = unbounded)
                sum_{e of resident r, service s} x_e <= 1    one place per resident and service
                coverage_g >= floor * max_h coverage_h  per grouping (district, language, ...)
                x_e in {0, 1}

``value_e`` is the candidate's score minus ``unknown_penalty`` when its eligibility is unknown,
shifted so that the lowest candidate is worth ``base_value`` (> 0): every assignment is worth more
than none, so maximising value also maximises coverage before it prefers better matches. A group's
coverage is the share of its *answerable* pairs (those with at least one candidate) that get a
service, so a group nobody can serve does not drag the others down; groups with fewer than
``min_group`` answerable pairs, and pairs with no label, are reported but not constrained (their
coverage is noise). The coverage floor uses one auxiliary variable ``t`` per grouping
(coverage_h <= t for all h, coverage_g >= floor * t for all g), which is exactly
"every group >= floor x the best group".

Solving: the LP relaxation (HiGHS) gives the bound and the capacity constraints' duals -- the
*shadow price* of a place, i.e. how much total value one more place at that service would add;
single-resident serving subtracts it from nearly full services. Without the floor rows the
constraint matrix is an interval/bipartite one and the LP optimum is usually integral. When it is
not, the LP solution is rounded (integral edges kept, the rest greedily by LP weight then value,
within capacity) -- always feasible for capacity and one-per-pair -- and repaired greedily until
every group meets the floor (``floor_met`` in the report says whether it did); only if that is
further than ``AUTO_GAP`` from the bound, or the repair did not meet the floor (also not from the
LP of a floor ``FLOOR_MARGIN`` higher, rounded and repaired the same way), does ``scipy.optimize.milp`` (HiGHS branch and bound) try within what is left, and
the better of the two is kept, a solution meeting the floor first (``method="auto"``; "milp"
always branches, "round" never). On the 100k city the rounding is within 0.01% of the bound while
branch and bound on 75,000 binaries does not finish in 30 s. ``gap`` = 1 - objective / bound.

Pure numpy/scipy: no I/O, no web. ``allocate`` takes arrays; callers map ids to indices.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: Value of the worst candidate after the shift (see the module docstring).
BASE_VALUE = 1.0
#: Subtracted from a candidate's score when an eligibility check could not be made.
UNKNOWN_PENALTY = 0.5
#: Every group's coverage >= FLOOR x the best group's, per grouping.
FLOOR = 0.9
#: Groups with fewer answerable pairs are reported but not constrained.
MIN_GROUP = 20
#: ``method="auto"`` tries branch and bound only when the rounded solution is further than this from the bound.
AUTO_GAP = 0.005
#: When a rounded solution cannot be repaired to the floor, the LP of floor + this is rounded instead.
FLOOR_MARGIN = 0.03
#: LP values within this of 0 or 1 count as integral.
_TOL = 1e-6


@dataclass
class Allocation:
    #: per pair: the chosen candidate edge (index into the inputs) or -1
    edge: np.ndarray
    #: per pair: the service index or -1
    service: np.ndarray
    #: per service: shadow price of one more place (0 where capacity was not binding or unbounded)
    shadow_prices: np.ndarray
    report: dict = field(default_factory=dict)


def _coverage_by_group(assigned: np.ndarray, answerable: np.ndarray, labels: np.ndarray,
                       min_group: int) -> dict:
    """Per group value: pairs, answerable pairs, assigned, coverage of all and of answerable pairs;
    plus the worst-to-best ratio over the groups large enough to count."""
    out: dict = {"groups": {}}
    eligible = {}
    for g in sorted(set(labels[labels != ""].tolist())):
        m = labels == g
        n, a, k = int(m.sum()), int((m & answerable).sum()), int((m & assigned).sum())
        out["groups"][g] = {"pairs": n, "answerable": a, "assigned": k,
                            "coverage": round(k / n, 4) if n else None,
                            "coverage_of_answerable": round(k / a, 4) if a else None}
        if a >= min_group:
            eligible[g] = k / a
    if eligible:
        worst = min(eligible, key=eligible.get)
        best = max(eligible, key=eligible.get)
        out["worst"], out["best"] = worst, best
        out["worst_to_best"] = round(eligible[worst] / eligible[best], 4) if eligible[best] > 0 else None
    missing = labels == ""
    if missing.any():
        out["not_given"] = {"pairs": int(missing.sum()), "assigned": int((missing & assigned).sum())}
    return out


def _group_rows(groups: dict[str, np.ndarray], pair: np.ndarray, answerable: np.ndarray,
                n_edges: int, floor: float, min_group: int):
    """The coverage floor over variables [x_e..., t per grouping..., y per held group...]:
    equalities sum_{e in g} x_e - y_g = 0, and y_g / n_g - t <= 0, floor * t - y_g / n_g <= 0.
    The group counts are variables of their own so the floor rows stay short (with the edges
    written into them HiGHS took ~5x longer). Returns (A_ub, A_eq, upper bounds of the extra variables)."""
    eq_r, eq_c, eq_v, ub_r, ub_c, ub_v = [], [], [], [], [], []
    aux_ub = [1.0] * len(groups)
    y = n_edges + len(groups)
    for gi, labels in enumerate(groups.values()):
        t_col = n_edges + gi
        edge_labels = labels[pair]
        for g in sorted(set(labels[labels != ""].tolist())):
            n_ans = int(((labels == g) & answerable).sum())
            if n_ans < min_group:
                continue
            edges = np.flatnonzero(edge_labels == g)
            row = len(aux_ub) - len(groups)
            eq_r += [row] * (len(edges) + 1)
            eq_c += edges.tolist() + [y]
            eq_v += [1.0] * len(edges) + [-1.0]
            top = 2 * row
            ub_r += [top, top, top + 1, top + 1]
            ub_c += [y, t_col, y, t_col]
            ub_v += [1.0 / n_ans, -1.0, -1.0 / n_ans, floor]
            aux_ub.append(float(n_ans))
            y += 1
    held = len(aux_ub) - len(groups)
    A_ub = sp.csr_matrix((ub_v, (ub_r, ub_c)), shape=(2 * held, y))
    A_eq = sp.csr_matrix((eq_v, (eq_r, eq_c)), shape=(held, y))
    return A_ub, A_eq, np.array(aux_ub)


def _round(x: np.ndarray, value: np.ndarray, pair: np.ndarray, service: np.ndarray, resident: np.ndarray,
           capacity: np.ndarray, n_pairs: int) -> np.ndarray:
    """A feasible 0/1 assignment from an LP solution: integral edges first, then the rest by LP
    weight and value while places last; the coverage floor is repaired afterwards (_repair_floor)."""
    order = np.lexsort((-value, -np.round(x, 6)))
    order = order[x[order] > _TOL]
    left = np.where(np.isnan(capacity), np.inf, capacity)
    taken_pair = np.zeros(n_pairs, dtype=bool)
    held: set[tuple[int, int]] = set()
    chosen = np.zeros(len(x), dtype=bool)
    for e in order:
        p, s, r = pair[e], service[e], resident[e]
        if taken_pair[p] or left[s] < 1 or (r, s) in held:
            continue
        chosen[e] = True
        taken_pair[p] = True
        left[s] -= 1
        held.add((r, s))
    return chosen


def _floor_groups(groups: dict[str, np.ndarray], answerable: np.ndarray, min_group: int) -> list[np.ndarray]:
    """Per grouping, the label codes of each pair (-1: not held to the floor) -- see _group_rows."""
    out = []
    for labels in groups.values():
        codes = np.full(len(labels), -1)
        for k, g in enumerate(sorted(set(labels[labels != ""].tolist()))):
            m = labels == g
            if int((m & answerable).sum()) >= min_group:
                codes[m] = k
        out.append(codes)
    return out


def _floor_met(assigned: np.ndarray, answerable: np.ndarray, codes: list[np.ndarray], floor: float) -> tuple | None:
    """None when every grouping meets the floor, else (grouping, worst code, best code)."""
    for gi, c in enumerate(codes):
        held = c >= 0
        if not held.any():
            continue
        n = np.bincount(c[held & answerable])
        k = np.bincount(c[held & assigned], minlength=len(n))
        present = n > 0
        cov = np.where(present, k / np.maximum(n, 1), np.nan)
        best, worst = int(np.nanargmax(cov)), int(np.nanargmin(cov))
        if cov[worst] < floor * cov[best] - 1e-9:
            return gi, worst, best
    return None


def _floor_met_lp(x: np.ndarray, pair: np.ndarray, answerable: np.ndarray, codes: list[np.ndarray],
                  floor: float) -> tuple | None:
    """``_floor_met`` for a fractional solution (coverage = sum of x over the group's edges)."""
    for gi, c in enumerate(codes):
        ce = c[pair]
        held = ce >= 0
        if not held.any():
            continue
        n = np.bincount(c[(c >= 0) & answerable])
        k = np.bincount(ce[held], weights=x[held], minlength=len(n))
        cov = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        best, worst = int(np.nanargmax(cov)), int(np.nanargmin(cov))
        if cov[worst] < floor * cov[best] - 1e-7:
            return gi, worst, best
    return None


def _repair_floor(chosen, value, pair, service, resident, capacity, n_pairs, answerable, codes, floor,
                  deadline: float = float("inf")):
    """Greedy repair of a rounded solution until every grouping meets the floor: serve an unserved pair
    of the worst group where a place is free; else move a place from the best group to it; else
    give up the best group's least valuable assignment (what the LP does when places cannot move).
    ``resident`` is per candidate edge. Stops at ``deadline`` (perf_counter) whether met or not."""
    chosen = chosen.copy()
    left = np.where(np.isnan(capacity), np.inf, capacity) - np.bincount(service[chosen], minlength=len(capacity))
    edge_of = np.full(n_pairs, -1)
    edge_of[pair[chosen]] = np.flatnonzero(chosen)
    held = {(int(resident[e]), int(service[e])) for e in np.flatnonzero(chosen)}

    def take(e):
        chosen[e] = True
        edge_of[pair[e]] = e
        left[service[e]] -= 1
        held.add((int(resident[e]), int(service[e])))

    def drop(d):
        chosen[d] = False
        edge_of[pair[d]] = -1
        left[service[d]] += 1
        held.discard((int(resident[d]), int(service[d])))

    for _ in range(4 * n_pairs + 10):
        if time.perf_counter() > deadline:
            break
        bad = _floor_met(edge_of >= 0, answerable, codes, floor)
        if bad is None:
            return chosen, True
        gi, worst, best = bad
        c = codes[gi]
        want = np.flatnonzero((c[pair] == worst) & (edge_of[pair] < 0))
        want = want[np.argsort(-value[want], kind="stable")]
        free = [e for e in want[left[service[want]] >= 1] if (int(resident[e]), int(service[e])) not in held]
        if free:
            take(free[0])
            continue
        donors: dict[int, list[int]] = {}
        for d in np.flatnonzero(chosen & (c[pair] == best)):
            donors.setdefault(int(service[d]), []).append(int(d))
        swap = None
        for e in want:
            if (int(resident[e]), int(service[e])) in held:
                continue
            pool = donors.get(int(service[e]))
            if pool:
                d = min(pool, key=lambda d: value[d])
                if swap is None or value[e] - value[d] > swap[0]:
                    swap = (value[e] - value[d], int(e), d)
        if swap is not None:
            drop(swap[2])
            take(swap[1])
        else:
            all_donors = [d for pool in donors.values() for d in pool]
            drop(min(all_donors, key=lambda d: value[d]))
    return chosen, _floor_met(edge_of >= 0, answerable, codes, floor) is None


def _independent_top1(value: np.ndarray, score: np.ndarray, pair: np.ndarray, service: np.ndarray,
                      resident: np.ndarray, capacity: np.ndarray, n_pairs: int, seed: int):
    """Each pair takes its own best candidate; places then go first come, first served (pairs in a
    seeded random order): what ranking each resident alone does to a caseload."""
    best = np.full(n_pairs, -1)
    order = np.lexsort((-value, pair))  # by pair, best value first
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    best[pair[order][first]] = order[first]
    has = best >= 0
    n_services = len(capacity)
    load = np.bincount(service[best[has]], minlength=n_services)
    cap = np.where(np.isnan(capacity), np.inf, capacity)
    over = int(np.maximum(load - cap, 0)[np.isfinite(cap)].sum())
    left = cap.copy()
    served = np.zeros(n_pairs, dtype=bool)
    sent_to_full = np.zeros(n_pairs, dtype=bool)
    for p in np.random.default_rng(seed).permutation(np.flatnonzero(has)):
        s = service[best[p]]
        if left[s] >= 1:
            left[s] -= 1
            served[p] = True
        else:
            sent_to_full[p] = True
    return best, served, sent_to_full, over


def _gap(objective: float, bound: float) -> float:
    gap = 1 - objective / bound if bound > 0 else 0.0
    return 0.0 if abs(gap) < 1e-9 else round(gap, 6)  # not "-0.0000%" for float noise at the optimum


def allocate(pair, service, score, unknown, *, n_pairs: int, capacity, resident=None,
             groups: dict[str, np.ndarray] | None = None, unknown_penalty: float = UNKNOWN_PENALTY,
             floor: float = FLOOR, min_group: int = MIN_GROUP, base_value: float = BASE_VALUE,
             time_limit: float = 30.0, method: str = "auto", seed: int = 0) -> Allocation:
    """Allocate candidate edges (parallel arrays ``pair``, ``service``, ``score``, ``unknown``).

    ``capacity``: open places per service index (NaN = unbounded). ``resident``: per pair, the
    resident it belongs to (None: every pair is its own resident). ``groups``: grouping name ->
    label per pair (``""`` = not given). ``method``: "auto", "milp" or "round" (module docstring).
    Raises ValueError on
    inconsistent inputs (the message names the argument).
    """
    t0 = time.perf_counter()
    n_pairs = int(n_pairs)
    pair = np.asarray(pair, dtype=np.int64)
    service = np.asarray(service, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    unknown = np.asarray(unknown, dtype=bool)
    capacity = np.asarray(capacity, dtype=np.float64)
    n_edges = len(pair)
    for name, arr in (("service", service), ("score", score), ("unknown", unknown)):
        if len(arr) != n_edges:
            raise ValueError(f"{name}: {len(arr)} values for {n_edges} candidate edges")
    if n_edges and (pair.min() < 0 or pair.max() >= n_pairs):
        raise ValueError(f"pair: indices must be within 0..{n_pairs - 1}")
    if n_edges and (service.min() < 0 or service.max() >= len(capacity)):
        raise ValueError(f"service: indices must be within 0..{len(capacity) - 1} (one capacity per service)")
    if not np.all(np.isfinite(score)):
        raise ValueError("score: every candidate score must be a finite number")
    if np.any(capacity[~np.isnan(capacity)] < 0):
        raise ValueError("capacity: open places cannot be negative")
    if not 0 <= floor <= 1:
        raise ValueError("floor: must be within 0..1")
    if method not in ("auto", "milp", "round"):
        raise ValueError("method: 'auto', 'milp' or 'round'")
    resident = np.arange(n_pairs) if resident is None else np.asarray(resident, dtype=np.int64)
    if len(resident) != n_pairs:
        raise ValueError(f"resident: {len(resident)} values for {n_pairs} pairs")
    groups = {k: np.asarray(["" if v is None or v != v else str(v) for v in labels], dtype=object)
              for k, labels in (groups or {}).items()}
    for name, labels in groups.items():
        if len(labels) != n_pairs:
            raise ValueError(f"groups[{name!r}]: {len(labels)} labels for {n_pairs} pairs")
    capacity = np.floor(capacity)  # places are whole

    adjusted = score - unknown_penalty * unknown
    value = adjusted - (adjusted.min() if n_edges else 0.0) + base_value
    edge_resident = resident[pair] if n_edges else pair
    answerable = np.zeros(n_pairs, dtype=bool)
    answerable[pair] = True

    # -- constraints: pair rows, capacity rows, resident-service rows (all <= b), floor rows (<= 0)
    ones = np.ones(n_edges)
    A_pair = sp.csr_matrix((ones, (pair, np.arange(n_edges))), shape=(n_pairs, n_edges))
    A_pair = A_pair[np.flatnonzero(answerable)]
    bounded = np.flatnonzero(~np.isnan(capacity) & np.isin(np.arange(len(capacity)), service))
    cap_row = np.full(len(capacity), -1)
    cap_row[bounded] = np.arange(len(bounded))
    on_bounded = cap_row[service] >= 0
    A_cap = sp.csr_matrix((ones[on_bounded], (cap_row[service[on_bounded]], np.flatnonzero(on_bounded))),
                          shape=(len(bounded), n_edges))
    rs_key = edge_resident * len(capacity) + service
    uniq, inv, counts = np.unique(rs_key, return_inverse=True, return_counts=True)
    multi = counts[inv] > 1
    rs_index = np.unique(inv[multi], return_inverse=True)[1]
    A_rs = sp.csr_matrix((ones[multi], (rs_index, np.flatnonzero(multi))),
                         shape=(int(rs_index.max()) + 1 if multi.any() else 0, n_edges))
    A_floor, A_eq, aux_ub = _group_rows(groups if floor > 0 else {}, pair, answerable, n_edges, floor, min_group)
    n_t = len(aux_ub)

    def widen(A):
        return sp.hstack([A, sp.csr_matrix((A.shape[0], n_t))]).tocsr() if n_t else A

    A = sp.vstack([widen(A_pair), widen(A_cap), widen(A_rs), A_floor]).tocsr()
    b = np.concatenate([np.ones(A_pair.shape[0]), capacity[bounded], np.ones(A_rs.shape[0]),
                        np.zeros(A_floor.shape[0])])
    c = -np.concatenate([value, np.zeros(n_t)])
    lb, ub = np.zeros(n_edges + n_t), np.concatenate([np.ones(n_edges), aux_ub])
    eq = dict(A_eq=A_eq, b_eq=np.zeros(A_eq.shape[0])) if A_eq.shape[0] else {}
    codes = _floor_groups(groups, answerable, min_group) if floor > 0 else []

    shadow = np.zeros(len(capacity))
    chosen = np.zeros(n_edges, dtype=bool)
    solver = "none"
    bound = 0.0
    lp_seconds = 0.0
    if n_edges:
        # Without the floor first (several times faster): when its optimum already meets the floor it
        # is the floored optimum too, and its duals (0 on the floor rows) are valid.
        n_plain = A.shape[0] - A_floor.shape[0]
        lp = linprog(c[:n_edges], A_ub=A[:n_plain, :n_edges], b_ub=b[:n_plain],
                     bounds=np.column_stack([lb[:n_edges], ub[:n_edges]]), method="highs")
        if lp.status == 0 and eq and _floor_met_lp(lp.x, pair, answerable, codes, floor) is not None:
            lp = linprog(c, A_ub=A, b_ub=b, bounds=np.column_stack([lb, ub]), method="highs", **eq)
        lp_seconds = time.perf_counter() - t0
        if lp.status != 0:  # x = 0 is always feasible, so only a solver failure lands here
            raise RuntimeError(f"LP relaxation failed: {lp.message}")
        bound = float(-lp.fun)
        x = lp.x[:n_edges]
        duals = -np.asarray(lp.ineqlin.marginals)
        shadow[bounded] = np.maximum(duals[A_pair.shape[0]:A_pair.shape[0] + len(bounded)], 0.0)
        if np.all((x < _TOL) | (x > 1 - _TOL)):
            chosen, solver = x > 0.5, "lp (integral)"
        else:
            met = True
            deadline = t0 + time_limit
            if method in ("auto", "round"):
                chosen, solver = _round(x, value, pair, service, edge_resident, capacity, n_pairs), "lp + rounding"
                if floor > 0 and groups:
                    # part of the time for the repair; the rest for the fallbacks below
                    chosen, met = _repair_floor(chosen, value, pair, service, edge_resident, capacity, n_pairs,
                                                answerable, codes, floor, t0 + time_limit * 0.4)
            if not met and method == "auto":
                # rounding loses a little coverage in small groups: round the LP of a slightly higher
                # floor instead (the bound stays that of the real floor)
                A_hi, A_eq_hi, _ = _group_rows(groups, pair, answerable, n_edges, min(1.0, floor + FLOOR_MARGIN),
                                               min_group)
                hi = linprog(c, A_ub=sp.vstack([widen(A_pair), widen(A_cap), widen(A_rs), A_hi]).tocsr(), b_ub=b,
                             bounds=np.column_stack([lb, ub]), method="highs",
                             **(dict(A_eq=A_eq_hi, b_eq=np.zeros(A_eq_hi.shape[0])) if eq else {}))
                if hi.status == 0:
                    again = _round(hi.x[:n_edges], value, pair, service, edge_resident, capacity, n_pairs)
                    again, met = _repair_floor(again, value, pair, service, edge_resident, capacity, n_pairs,
                                               answerable, codes, floor, t0 + time_limit * 0.75)
                    if met:
                        chosen, solver = again, "lp + rounding (floor margin)"
            rounded_gap = 1 - value[chosen].sum() / bound if bound > 0 else 0.0
            if method == "milp" or (method == "auto" and (rounded_gap > AUTO_GAP or not met)):
                left = max(1.0, deadline - time.perf_counter())
                integrality = np.concatenate([np.ones(n_edges), np.zeros(n_t)])
                rows = [LinearConstraint(A, -np.inf, b)] + ([LinearConstraint(A_eq, 0.0, 0.0)] if eq else [])
                res = milp(c, constraints=rows, integrality=integrality,
                           bounds=Bounds(lb, ub), options={"time_limit": left, "mip_rel_gap": 1e-3})
                if res.x is not None:
                    found = res.x[:n_edges] > 0.5
                    # branch and bound meets the floor: preferred to a rounding that does not
                    if solver == "none" or not met or value[found].sum() > value[chosen].sum():
                        chosen, solver = found, "milp" if res.status == 0 else "milp (time limit)"
            if solver == "none":  # branch and bound found nothing in time
                chosen, solver = _round(x, value, pair, service, edge_resident, capacity, n_pairs), "lp + rounding"
                if floor > 0 and groups:
                    chosen, _ = _repair_floor(chosen, value, pair, service, edge_resident, capacity, n_pairs,
                                              answerable, codes, floor, deadline + time_limit / 2)

    edge_of_pair = np.full(n_pairs, -1)
    edge_of_pair[pair[chosen]] = np.flatnonzero(chosen)
    assigned = edge_of_pair >= 0
    service_of_pair = np.full(n_pairs, -1)
    service_of_pair[assigned] = service[edge_of_pair[assigned]]
    load = np.bincount(service[chosen], minlength=len(capacity))
    finite = ~np.isnan(capacity)
    objective = float(value[chosen].sum())
    seconds = time.perf_counter() - t0

    best, served, sent_to_full, top1_over = _independent_top1(value, score, pair, service, edge_resident,
                                                              capacity, n_pairs, seed)
    top1_has = best >= 0
    report = {
        "pairs": n_pairs,
        "answerable_pairs": int(answerable.sum()),
        "candidates": n_edges,
        "solver": solver,
        "objective": round(objective, 4),
        "bound": round(bound, 4),
        "gap": _gap(objective, bound),
        "total_score": round(float(score[chosen].sum()), 4),
        "need_coverage": round(float(assigned.mean()), 4) if n_pairs else None,
        "assigned": int(assigned.sum()),
        "unknown_eligibility_assigned": int(unknown[chosen].sum()),
        "over_capacity": int(np.maximum(load[finite] - capacity[finite], 0).sum()),
        "floor_met": floor == 0 or _floor_met(assigned, answerable, _floor_groups(groups, answerable, min_group),
                                              floor - 1e-6) is None,
        "seconds": round(seconds, 3),
        "lp_seconds": round(lp_seconds, 3),
        "settings": {"unknown_penalty": unknown_penalty, "floor": floor, "min_group": min_group,
                     "base_value": base_value, "method": method},
        "groups": {name: _coverage_by_group(assigned, answerable, labels, min_group)
                   for name, labels in groups.items()},
        "independent_top1": {
            "objective": round(float(value[best[top1_has]].sum()), 4),
            "need_coverage_ignoring_capacity": round(float(top1_has.mean()), 4) if n_pairs else None,
            "over_capacity": top1_over,
            "pairs_sent_to_full": int(sent_to_full.sum()),
            "residents_sent_to_full": int(len(np.unique(resident[sent_to_full]))),
            "need_coverage": round(float(served.mean()), 4) if n_pairs else None,
            "groups": {name: _coverage_by_group(served, answerable, labels, min_group)
                       for name, labels in groups.items()},
        },
    }
    if n_pairs:
        report["coverage_gained"] = round(report["need_coverage"] - report["independent_top1"]["need_coverage"], 4)
    return Allocation(edge=edge_of_pair, service=service_of_pair, shadow_prices=shadow, report=report)
