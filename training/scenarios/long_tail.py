"""``long_tail``: tens of thousands of small programmes, most used once or twice, many opened late.

Story (parameters in ``data/long_tail.json``):

* 120 tags in 12 interest areas (``sport/swim``, ``support/grief``...); each programme has a main
  tag and one to three more (mostly from the same area), a one-line description built from its
  tags, kind and place, an opening date (from eight months before the data until its end, so a
  share of programmes first appears in the holdout period), a district (15% are regional) and, for
  youth and senior areas, an age band; a few (1%) are well-known and draw many people;
* residents declare one to three interest areas (``needs``: the area codes); their real taste is
  four favourite tags, two inside the declared areas and two outside them (hidden: the profile does
  not reveal them), plus an age-driven pull to youth or senior programmes;
* each resident joins 1-8 programmes at random moments of the year, chosen among programmes that
  are open at that moment, carry a favourite tag and are near (own or a neighbouring district, or
  regional), by a softmax over taste, the programme's appeal and a buzz that fades over the six
  weeks after it opens; the event is mostly ``enrolled`` (some ``viewed``, ``referred``,
  ``completed``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .draw import DAY, epoch, gumbel_pick, lognormal_income, weighted
from .output import interaction_frame, join, write_city
from .story import load_story


def _tags(s: dict) -> tuple[list[str], np.ndarray]:
    codes, group = [], []
    for g, (area, tags) in enumerate(s["groups"].items()):
        codes.extend(f"{area}/{t}" for t in tags)
        group.extend([g] * len(tags))
    return codes, np.array(group)


def _services(rng, n: int, s: dict, codes: list[str], group: np.ndarray, start: int, span: int) -> tuple[pd.DataFrame, dict]:
    n_tags = len(codes)
    tag_pop = rng.pareto(1.2, size=n_tags) + 0.3
    main = rng.choice(n_tags, size=n, p=tag_pop / tag_pop.sum())
    rows, cols = [np.arange(n)], [main]
    for _ in range(3):
        has = rng.random(n) < 0.55
        same = rng.random(n) < 0.65
        within = group[main] * 10 + rng.integers(0, 10, size=n)
        other = np.where(same, within, rng.integers(0, n_tags, size=n))
        rows.append(np.arange(n)[has])
        cols.append(other[has])
    r, c = np.concatenate(rows), np.concatenate(cols)
    st = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n_tags))
    st.data[:] = 1.0
    st.sum_duplicates()
    st.data[:] = 1.0
    nd = s["n_districts"]
    district = np.where(rng.random(n) < 0.15, -1, rng.integers(0, nd, size=n))
    opened = start - s["opened_before_days"] * DAY + (rng.random(n) * (span + s["opened_before_days"] * DAY)).astype(np.int64)
    appeal = rng.normal(0.0, 0.6, size=n) + 3.0 * (rng.random(n) < 0.01)
    areas = list(s["groups"])
    min_age, max_age = np.full(n, np.nan), np.full(n, np.nan)
    for area, (lo, hi) in s["ages"].items():
        m = group[main] == areas.index(area)
        min_age[m] = lo
        if hi is not None:
            max_age[m] = hi
    kinds = rng.choice(s["kinds"], size=n)
    places = rng.choice(s["places"], size=n)
    cats, names, descs = [], [], []
    for j in range(n):
        tags = [codes[t] for t in st.indices[st.indptr[j]:st.indptr[j + 1]]]
        tags.sort(key=lambda x: x != codes[main[j]])
        cats.append(join(tags))
        word = codes[main[j]].split("/")[1].replace("_", " ")
        names.append(f"{word.title()} {kinds[j]} #{j}")
        where = f"d{district[j]:02d}" if district[j] >= 0 else "the region"
        descs.append(f"{word.capitalize()} {kinds[j]} at the {places[j]}, {where}; also "
                     + ", ".join(t.split("/")[1].replace("_", " ") for t in tags[1:]) if len(tags) > 1
                     else f"{word.capitalize()} {kinds[j]} at the {places[j]}, {where}.")
    svc = pd.DataFrame({
        "service_id": [f"P{j:06d}" for j in range(n)], "name": names, "description": descs,
        "organization": [f"Group {j // 3:05d}" for j in range(n)], "categories": cats,
        "min_age": min_age, "max_age": max_age,
        "districts": [f"d{d:02d}" if d >= 0 else "" for d in district],
        "opened": pd.to_datetime(opened, unit="s").strftime("%Y-%m"),
    })
    return svc, {"st": st, "district": district, "opened": opened, "appeal": appeal, "main": main}


def generate(out, *, residents: int = 20_000, services: int = 50_000, seed: int = 0) -> dict:
    s = load_story("long_tail")
    rng = np.random.default_rng(seed)
    codes, group = _tags(s)
    areas = list(s["groups"])
    start, span = epoch(s["start"]), s["days"] * DAY
    svc, h = _services(rng, services, s, codes, group, start, span)
    nd, n_tags = s["n_districts"], len(codes)
    age = np.clip(np.round(rng.uniform(8, 88, size=residents)), 8, 95).astype(int)
    district = rng.integers(0, nd, size=residents)
    income = lognormal_income(rng, np.full(residents, 2300.0))
    st_csc = h["st"].tocsc()
    by_tag = [st_csc.indices[st_csc.indptr[t]:st_csc.indptr[t + 1]] for t in range(n_tags)]
    youth, seniors = areas.index("youth"), areas.index("seniors")
    rows, declared = [], []
    for r in range(residents):
        pull = np.ones(len(areas))
        if age[r] < 19:
            pull[youth] = 8.0
            pull[seniors] = 0.0
        elif age[r] >= 60:
            pull[seniors] = 6.0
            pull[youth] = 0.0
        else:
            pull[youth] = pull[seniors] = 0.3
        mine = rng.choice(len(areas), size=int(rng.integers(1, 4)), replace=False, p=pull / pull.sum())
        declared.append(join(areas[a] for a in mine))
        fav = list(group_pick(rng, group, mine, 2)) + list(rng.choice(np.flatnonzero(~np.isin(group, mine) & (pull[group] > 0)), 2, replace=False))
        aff = np.zeros(n_tags)
        aff[fav] = rng.uniform(1.5, 3.0, size=len(fav))
        aff[np.isin(group, mine)] += 0.5
        pool = np.unique(np.concatenate([by_tag[t] for t in fav]))
        d = h["district"][pool]
        pool = pool[(d < 0) | (np.abs(d - district[r]) <= 1)]
        ok_age = ~(svc["min_age"].to_numpy()[pool] > age[r]) & ~(svc["max_age"].to_numpy()[pool] < age[r])
        pool = pool[ok_age]
        if not len(pool):
            continue
        base = h["st"][pool] @ aff + h["appeal"][pool] + 1.0 * (h["district"][pool] == district[r])
        for t in np.sort(start + (rng.random(1 + min(rng.poisson(2.5), 7)) * span).astype(np.int64)):
            age_days = (t - h["opened"][pool]) / DAY
            u = np.where(age_days >= 0, base + 1.8 * np.exp(-np.maximum(age_days, 0) / 42.0), -np.inf)
            j = gumbel_pick(rng, u, 1)
            if not len(j):
                continue
            base[j[0]] = -np.inf  # joined once
            ev = weighted(rng, ["viewed", "referred", "enrolled"], [2, 1, 6], 1)[0]
            rows.append((r, int(pool[j[0]]), ev, int(t)))
            if ev == "enrolled" and rng.random() < 0.3:
                rows.append((r, int(pool[j[0]]), "completed", int(t + rng.exponential(30 * DAY))))
    res = pd.DataFrame({
        "resident_id": [f"LT{r:06d}" for r in range(residents)], "age": age,
        "gender": weighted(rng, ["female", "male"], [51, 49], residents), "district": [f"d{d:02d}" for d in district],
        "household_size": np.clip(rng.poisson(1.5, size=residents) + 1, 1, 8), "monthly_income": income,
        "employment_status": np.where(age < 18, "student", np.where(age >= 66, "retired",
                                      weighted(rng, ["employed", "unemployed", "student"], [8, 1, 1], residents))),
        "languages": "en", "needs": declared,
    })
    inter = interaction_frame(rows, res, svc, start + span)
    story = {"scenario": "long_tail", "seed": seed, "about": s["about"], "span": [s["start"], s["days"]]}
    return write_city(out, services=svc, residents=res, interactions=inter, story=story)


def group_pick(rng, group: np.ndarray, areas: np.ndarray, n: int) -> np.ndarray:
    """``n`` distinct tags from the given interest areas."""
    return rng.choice(np.flatnonzero(np.isin(group, areas)), size=n, replace=False)
