"""``deep_funnel``: fixed needs from the profile, deep casework funnels, strict eligibility, capacity.

Story (parameters in ``data/deep_funnel.json``):

* six districts with different incomes; residents with age, household (and ``young_children``),
  income, employment, disability, languages (en, es, vi), and two extra columns, ``veteran`` and
  ``housing`` (housed / homeless);
* needs are fixed by the profile and recorded at intake (rules like "low income -> food pantry
  0.55", "veteran -> veteran benefits 0.6"), coded in a 211-style taxonomy (``taxonomy.csv``:
  ``bd-1800.2000`` Food Pantries is a child of ``bd-1800`` Food, a child of ``bd``);
* services have strict eligibility: age bands, income caps, service areas of one or two districts,
  language-only services, limited places (8% full at the end) and 5% closed during the period;
  two programmes per category are county-wide and open to all, so every need can be answered;
* each need has one or more episodes spread over 18 months; in an episode the resident views 2-4
  services of the category (ineligible ones rarely), is referred to the best eligible one, and goes
  on along viewed -> referred -> applied -> enrolled -> completed (or declines the referral);
  the choice weighs the service's reputation, being in the resident's district, speaking the
  resident's first language and a weak hidden taste (scale 0.3).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .draw import DAY, epoch, funnel, gumbel_pick, lognormal_income, needs_by_rules, weighted
from .output import interaction_frame, join, write_city
from .story import load_story

TASTE_DIM, TASTE_SCALE = 3, 0.3


def _residents(rng, n: int, s: dict) -> tuple[pd.DataFrame, dict]:
    d = rng.choice(len(s["districts"]), size=n, p=[0.2, 0.2, 0.15, 0.15, 0.2, 0.1])
    age = np.clip(np.round(rng.normal(44, 19, size=n)), 18, 96).astype(int)
    kids = np.where((age < 50) & (rng.random(n) < 0.45), rng.integers(1, 4, size=n), 0)
    young = (kids > 0) & (rng.random(n) < 0.5)
    household = 1 + kids + (rng.random(n) < 0.5)
    income = lognormal_income(rng, np.array(s["district_income"])[d] * np.where(age >= 66, 0.55, 1.0), 0.6)
    unemployed = (age < 66) & (rng.random(n) < 0.11 + 0.05 * (np.array(s["district_income"])[d] < 2000))
    income = np.where(unemployed, np.round(income * 0.3, -1), income)
    emp = np.where(age >= 66, "retired", np.where(unemployed, "unemployed",
                                                  weighted(rng, ["employed", "part_time", "student"], [7, 2, 1], n)))
    disabled = rng.random(n) < 0.08 + 0.003 * np.maximum(age - 45, 0)
    veteran = (age > 24) & (rng.random(n) < 0.07)
    homeless = rng.random(n) < 0.03 + 0.04 * (income < 900)
    first = weighted(rng, list(s["languages"]), list(s["languages"].values()), n)
    lang = np.where(first == "en", "en", np.where(rng.random(n) < 0.5, first + ";en", first))
    groups = {
        "anyone": np.ones(n, bool), "low_income": income < 1800, "senior": age >= 62,
        "senior_low_income": (age >= 62) & (income < 2200), "senior_disabled": (age >= 58) & disabled,
        "homeless": homeless, "unemployed": unemployed, "young_adult": (age < 26),
        "young_children": young, "disabled": disabled, "veteran": veteran,
    }
    res = pd.DataFrame({
        "resident_id": [f"DF-{i:06d}" for i in range(n)], "age": age,
        "gender": weighted(rng, ["female", "male"], [52, 48], n),
        "district": np.asarray(s["districts"], dtype=object)[d], "household_size": household,
        "monthly_income": income, "employment_status": emp,
        "disability": np.where(disabled, "true", "false"), "languages": lang,
        "veteran": np.where(veteran, "yes", "no"), "housing": np.where(homeless, "homeless", "housed"),
    })
    return res, groups


def _services(rng, n: int, s: dict, leaves: list[str]) -> pd.DataFrame:
    cat = np.sort(rng.choice(len(leaves), size=n))
    cat[: len(leaves)] = np.arange(len(leaves))  # every category has a service
    nd = len(s["districts"])
    min_age, max_age, max_income = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for j, c in enumerate(cat):
        rule = s["eligibility"].get(leaves[c], {})
        if "min_age" in rule and rng.random() < 0.85:
            min_age[j] = rule["min_age"]
        if "max_age" in rule and rng.random() < 0.6:
            max_age[j] = rule["max_age"]
        if rng.random() < rule.get("income_cap", 0.1):
            max_income[j] = rng.choice(s["income_caps"])
    area = []
    for j in range(n):
        k = rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15])
        area.append(join(sorted(rng.choice(s["districts"], size=k, replace=False))) if k else "")
    lang = weighted(rng, ["", "en;es", "es", "vi", "en;vi", "en"], [45, 20, 8, 5, 7, 15], n).astype(object)
    # every category keeps two county-wide, open-to-all programmes, so each need can be answered
    open_ = np.concatenate([np.flatnonzero(cat == c)[:2] for c in range(len(leaves))])
    min_age[open_], max_age[open_], max_income[open_] = np.nan, np.nan, np.nan
    for j in open_:
        area[j] = ""
        lang[j] = ""
    capacity = np.where(rng.random(n) < 0.7, np.where(rng.random(n) < 0.11, 0, rng.integers(1, 60, size=n)), np.nan)
    capacity[open_] = np.nan
    names = [f"{rng.choice(s['agencies'])} {dict((r[0], r[1]) for r in s['taxonomy'])[leaves[c]]} Program {j % 97 + 1}"
             for j, c in enumerate(cat)]
    return pd.DataFrame({
        "service_id": [f"DF-S{j:04d}" for j in range(n)], "name": names,
        "description": [f"{nm}. Serving {a.replace(';', ' and ') or 'the whole county'}." for nm, a in zip(names, area)],
        "organization": [nm.rsplit(" ", 3)[0] for nm in names],
        "status": np.where(rng.random(n) < 0.05, "inactive", "active"), "categories": np.asarray(leaves)[cat],
        "min_age": min_age, "max_age": max_age, "districts": area, "languages": lang, "max_income": max_income,
        "capacity": capacity, "intake": weighted(rng, ["walk_in", "appointment", "referral_only"], [3, 5, 2], n),
    })


def _eligible(svc: pd.DataFrame, res_row, cand: np.ndarray) -> np.ndarray:
    age, income = res_row.age, res_row.monthly_income
    speaks = set(res_row.languages.split(";"))
    mn, mx, cap = svc["min_age"].to_numpy()[cand], svc["max_age"].to_numpy()[cand], svc["max_income"].to_numpy()[cand]
    ok = (np.isnan(mn) | (mn <= age)) & (np.isnan(mx) | (mx >= age)) & (np.isnan(cap) | (cap >= income))
    area = svc["districts"].to_numpy()[cand]
    lang = svc["languages"].to_numpy()[cand]
    ok &= np.array([a == "" or res_row.district in a.split(";") for a in area])
    ok &= np.array([lg == "" or bool(speaks & set(lg.split(";"))) for lg in lang])
    return ok


def generate(out, *, residents: int = 24_000, services: int = 650, seed: int = 0) -> dict:
    s = load_story("deep_funnel")
    rng = np.random.default_rng(seed)
    parents = {r[2] for r in s["taxonomy"]}
    leaves = [r[0] for r in s["taxonomy"] if r[0] not in parents]
    res, groups = _residents(rng, residents, s)
    svc = _services(rng, services, s, leaves)
    needs = needs_by_rules(rng, s["needs"], groups, residents)
    start, span = epoch(s["start"]), s["days"] * DAY
    closes = np.where(svc["status"].to_numpy() == "inactive", start + rng.random(services) * span, np.inf)
    fills = np.where(svc["capacity"].to_numpy() == 0, start + (0.45 + 0.3 * rng.random(services)) * span, np.inf)
    reputation = rng.normal(0.0, 1.0, size=services)
    s_taste = rng.normal(0.0, 1.0, size=(services, TASTE_DIM))
    r_taste = rng.normal(0.0, TASTE_SCALE, size=(residents, TASTE_DIM))
    cats = svc["categories"].to_numpy()
    by_leaf = {c: np.flatnonzero(cats == c) for c in leaves}
    f = s["funnel"]
    rows = []
    for r, row in enumerate(res.itertuples(index=False)):
        first_lang = row.languages.split(";")[0]
        for code in needs[r]:
            cand = by_leaf[code]
            ok = _eligible(svc, row, cand)
            local = np.array([row.district in a.split(";") for a in svc["districts"].to_numpy()[cand]])
            own_lang = np.array([first_lang in lg.split(";") and first_lang != "en" for lg in svc["languages"].to_numpy()[cand]])
            base = reputation[cand] + s_taste[cand] @ r_taste[r] + 1.0 * local + 0.8 * own_lang
            for _ in range(1 + min(rng.poisson(0.7), 3)):
                t = start + int(rng.random() * span)
                open_ = closes[cand] > t
                u = np.where(open_, base + np.where(ok, 0.0, -2.5), -np.inf)
                seen = gumbel_pick(rng, u, int(rng.integers(2, 5)))
                when = t + np.cumsum(rng.exponential(2 * DAY, size=len(seen))).astype(np.int64)
                rows.extend((r, int(cand[j]), "viewed", int(w)) for j, w in zip(seen, when))
                best = [j for j in seen if ok[j] and fills[cand[j]] > t]
                if not best:
                    continue
                j = int(cand[best[0]])
                w = int(when[-1] + rng.exponential(4 * DAY))
                reached = funnel(rng, f["stages"], f["go_on"])
                if len(reached) > 1 and rng.random() < f["declined_after_referral"]:
                    rows.append((r, j, "referred", w))
                    rows.append((r, j, "declined", w + int(rng.exponential(6 * DAY))))
                    continue
                for stage in reached[1:]:
                    rows.append((r, j, stage, w))
                    w += int(rng.exponential({"referred": 7, "applied": 14, "enrolled": 60}.get(stage, 5) * DAY))
    inter = interaction_frame(rows, res, svc, start + span)
    res["needs"] = [join(n) for n in needs]
    tax = pd.DataFrame(s["taxonomy"], columns=["code", "name", "parent"])
    story = {"scenario": "deep_funnel", "seed": seed, "about": s["about"], "taste": [TASTE_DIM, TASTE_SCALE],
             "span": [s["start"], s["days"]]}
    return write_city(out, services=svc, residents=res, interactions=inter, story=story, taxonomy=tax)
