"""``life_events``: needs arise over a year from life events; history is mostly views.

Story (parameters in ``data/life_events.json``):

* residents of nine districts with age, household, income, employment, tenure (an extra column) and
  languages; nobody has needs at the start of the year;
* life events arrive as Poisson processes whose rate depends on who the resident is (a job loss
  only for the employed, frailty only from 65, a debt crisis only on a low income...); each event
  brings a few needs (hierarchical codes ``area/leaf``, e.g. ``hous/rent_help``);
* for each need the resident browses 1-6 services of that category over the following weeks
  (views) among those open to them (a listed district, language, age or income limit binds),
  chosen by a softmax over: the service's quality, being a local service of the resident's
  district, having used the same organisation before (organisations run several services) and a
  hidden taste (a 4-dimensional dot product the profile does not reveal); the best
  browsed service may be referred (25%), then enrolled and completed; 3% of referrals are declined;
* the ``needs`` column is what a caseworker would record at the end of the year: the needs of
  events in the last five months (each kept with probability 0.85), older ones rarely.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .draw import DAY, epoch, gumbel_pick, lognormal_income, weighted
from .output import interaction_frame, join, write_city
from .story import load_story

TASTE_DIM = 4


def _residents(rng: np.random.Generator, n: int, s: dict) -> pd.DataFrame:
    districts = list(s["districts"])
    district = rng.choice(len(districts), size=n)
    age = np.clip(np.round(rng.gamma(6.0, 7.2, size=n)) + 16, 16, 98).astype(int)
    household = np.clip(rng.poisson(1.3, size=n) + 1, 1, 9)
    median = s["median_income"] * np.array([s["districts"][d] for d in districts])[district]
    income = lognormal_income(rng, median * np.where(age > 67, 0.6, 1.0))
    employed_p = np.where(age < 67, 0.74, 0.05)
    emp = np.where(rng.random(n) < employed_p, "employed",
                   np.where(age >= 67, "retired", weighted(rng, ["unemployed", "student", "carer"], [5, 3, 2], n)))
    income = np.where(emp == "employed", income, np.round(income * 0.45, -1))
    langs = list(s["languages"])
    first = weighted(rng, langs, list(s["languages"].values()), n)
    lang = np.where((first != "en") & (rng.random(n) < 0.55), first + ";en", first)
    tenure = weighted(rng, list(s["tenure"]), list(s["tenure"].values()), n)
    return pd.DataFrame({
        "resident_id": [f"LE{i:06d}" for i in range(n)], "age": age,
        "gender": weighted(rng, ["female", "male", "nonbinary"], [50, 48, 2], n),
        "district": np.asarray(districts, dtype=object)[district], "household_size": household,
        "monthly_income": income, "employment_status": emp,
        "disability": np.where(rng.random(n) < 0.06 + 0.002 * np.maximum(age - 50, 0), "true", "false"),
        "languages": lang, "tenure": tenure,
    })


def _who(res: pd.DataFrame, rule: str) -> np.ndarray:
    age, emp = res["age"].to_numpy(), res["employment_status"].to_numpy()
    return {
        "employed": emp == "employed", "age_20_42": (age >= 20) & (age <= 42), "anyone": np.ones(len(res), bool),
        "renter": res["tenure"].isin(["private_renter", "social_housing", "no_fixed_address"]).to_numpy(),
        "age_65_plus": age >= 65, "not_english": ~res["languages"].str.startswith("en").to_numpy(),
        "age_25_60": (age >= 25) & (age <= 60), "low_income": res["monthly_income"].to_numpy() < 1400,
        "parent": (res["household_size"].to_numpy() >= 3) & (age < 55),
    }[rule]


def _services(rng: np.random.Generator, n: int, s: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    leaves = [f"{top}/{leaf}" for top, t in s["taxonomy"].items() for leaf in t["children"]]
    # demand-weighted: categories many events ask for get more services, and every leaf at least 4
    demand = {c: 0.02 for c in leaves}
    for ev in s["events"].values():
        for code, p in ev["needs"].items():
            demand[code] += ev["rate"] * p
    per = np.maximum(4, np.floor(n * np.array([demand[c] for c in leaves]) / sum(demand.values()))).astype(int)
    while per.sum() > n:
        per[np.argmax(per)] -= 1
    per[np.argmax(per)] += n - per.sum()
    cat = np.repeat(np.arange(len(leaves)), per)
    districts = list(s["districts"])
    n_org = max(n // 4, 1)
    org_district = rng.integers(len(districts), size=n_org)
    org = rng.integers(n_org, size=n)
    local = rng.random(n) < 0.6
    langs = [x for x in s["languages"] if x != "en"]
    lang_restricted = rng.random(n) < 0.18
    lang = np.where(lang_restricted, np.array([f"en;{x}" for x in rng.choice(langs, size=n)], dtype=object), "")
    top = np.array([leaves[c].split("/")[0] for c in cat])
    min_age = np.where(top == "elder", 60.0, np.where(np.isin(cat, [leaves.index("work/job_search")]) & (rng.random(n) < 0.2), 18.0, np.nan))
    max_income = np.where(np.isin(top, ["food", "money", "hous"]) & (rng.random(n) < 0.35),
                          rng.choice([1200, 1600, 2000, 2600], size=n), np.nan)
    second = np.where(rng.random(n) < 0.25, rng.integers(len(leaves), size=n), -1)
    cats = [join([leaves[c]] + ([leaves[x]] if x >= 0 and x != c else [])) for c, x in zip(cat, second)]
    w = s["service_words"]
    names = [f"{rng.choice(w['adj'])} {s['taxonomy'][leaves[c].split('/')[0]]['children'][leaves[c].split('/')[1]]} "
             f"{rng.choice(w['kind'])}" for c in cat]
    dist_cell = [districts[org_district[o]] if loc else "" for o, loc in zip(org, local)]
    desc = [f"{nm}: {s['taxonomy'][leaves[c].split('/')[0]]['children'][leaves[c].split('/')[1]].lower()} "
            f"{'for ' + d.replace('_', ' ') if d else 'across the city'}." for nm, c, d in zip(names, cat, dist_cell)]
    services = pd.DataFrame({
        "service_id": [f"LS{i:05d}" for i in range(n)], "name": names, "description": desc,
        "organization": [f"Org {o:04d}" for o in org],
        "status": np.where(rng.random(n) < 0.03, "inactive", "active"), "categories": cats,
        "min_age": min_age, "districts": dist_cell, "languages": lang, "max_income": max_income,
    })
    tax_rows = []
    for t, spec in s["taxonomy"].items():
        tax_rows.append((t, spec["name"], ""))
        tax_rows.extend((f"{t}/{leaf}", name, t) for leaf, name in spec["children"].items())
    hidden = {"quality": rng.normal(0.0, 1.0, size=n), "taste": rng.normal(0.0, 0.8, size=(n, TASTE_DIM)),
              "cat": cat, "org": org, "home": np.where(local, org_district[org], -1), "leaves": leaves}
    return services, pd.DataFrame(tax_rows, columns=["code", "name", "parent"]), hidden


def generate(out, *, residents: int = 40_000, services: int = 900, seed: int = 0) -> dict:
    s = load_story("life_events")
    rng = np.random.default_rng(seed)
    res = _residents(rng, residents, s)
    svc, tax, h = _services(rng, services, s)
    leaves = h["leaves"]
    by_leaf = {c: np.flatnonzero((h["cat"] == leaves.index(c)) & (svc["status"].to_numpy() == "active"))
               for c in leaves}
    districts = list(s["districts"])
    r_district = pd.Index(districts).get_indexer(res["district"])
    r_lang = res["languages"].to_numpy()
    r_age, r_income = res["age"].to_numpy(), res["monthly_income"].to_numpy()
    taste = rng.normal(0.0, 1.0, size=(residents, TASTE_DIM))
    svc_lang = svc["languages"].to_numpy()
    min_age, max_income = svc["min_age"].to_numpy(), svc["max_income"].to_numpy()
    start, span = epoch(s["start"]), s["days"] * DAY

    # life events: (resident, time, event name)
    happened = []
    for name, ev in s["events"].items():
        who = np.flatnonzero(_who(res, ev["who"]))
        k = rng.poisson(ev["rate"], size=len(who))
        for r, c in zip(who[k > 0], k[k > 0]):
            for t in rng.random(c):
                happened.append((int(r), start + int(t * span), name))
    happened.sort(key=lambda x: (x[1], x[0]))

    rows, declared = [], [[] for _ in range(residents)]
    used_orgs: list[set] = [set() for _ in range(residents)]
    cut = start + span - 150 * DAY
    for r, t, name in happened:
        for code, p in s["events"][name]["needs"].items():
            if rng.random() >= p:
                continue
            if (t >= cut and rng.random() < 0.85) or rng.random() < 0.08:
                declared[r].append(code)
            cand = by_leaf[code]
            # only services the resident may use: a listed district, language, age or income limit binds
            speaks = np.array([sl == "" or any(x in sl.split(";") for x in r_lang[r].split(";")) for sl in svc_lang[cand]])
            ok = ((np.isnan(min_age[cand]) | (min_age[cand] <= r_age[r]))
                  & (np.isnan(max_income[cand]) | (max_income[cand] >= r_income[r]))
                  & ((h["home"][cand] < 0) | (h["home"][cand] == r_district[r])) & speaks)
            cand = cand[ok]
            if not len(cand):
                continue
            home = h["home"][cand]
            u = (h["quality"][cand] + h["taste"][cand] @ taste[r] + 0.9 * (home >= 0)
                 + 1.2 * np.isin(h["org"][cand], list(used_orgs[r])))
            n_view = 1 + min(rng.poisson(1.6), 5)
            picked = gumbel_pick(rng, u, n_view)
            when = t + np.sort(rng.exponential(6 * DAY, size=len(picked))).astype(np.int64)
            for j, w in zip(cand[picked], when):
                rows.append((r, j, "viewed", w))
            if len(picked) and rng.random() < 0.3:
                best = cand[picked[0]]
                w = int(when[0] + rng.exponential(5 * DAY))
                if rng.random() < 0.03:
                    rows.append((r, best, "declined", w))
                    continue
                rows.append((r, best, "referred", w))
                used_orgs[r].add(int(h["org"][best]))
                if rng.random() < 0.45:
                    w += int(rng.exponential(10 * DAY))
                    rows.append((r, best, "enrolled", w))
                    if rng.random() < 0.4:
                        rows.append((r, best, "completed", w + int(rng.exponential(40 * DAY))))
    # a little idle browsing that no need explains
    idle = rng.choice(residents, size=residents // 10, replace=False)
    popular = np.argsort(-h["quality"])[: max(len(svc) // 10, 1)]
    for r in idle:
        for j in rng.choice(popular, size=rng.integers(1, 4), replace=False):
            rows.append((int(r), int(j), "viewed", start + int(rng.random() * span)))
    inter = interaction_frame(rows, res, svc, start + span)
    res["needs"] = [join(dict.fromkeys(d)) for d in declared]
    story = {"scenario": "life_events", "seed": seed, "about": s["about"], "taste_dim": TASTE_DIM,
             "span": [s["start"], s["days"]]}
    return write_city(out, services=svc, residents=res, interactions=inter, story=story, taxonomy=tax)


