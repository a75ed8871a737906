"""``aside``: a small multilingual port town; language and distance decide. KEPT ASIDE.

This city is for the end of a round of engine work: ``bench/quality.py`` runs it only with
``--aside``, so nobody tunes to it while developing.

Story (parameters in ``data/aside.json``):

* five neighbourhoods with their own language mixes (Chinatown mostly Chinese speakers, La Loma
  mostly Spanish); residents have coordinates around their neighbourhood's centre, and many
  Spanish or Chinese speakers speak no English;
* twelve flat need codes (``meals``, ``english_class``, ``immigration``...; no hierarchy) that
  follow from the profile; only a handful of services per need, named and described in their
  language, a third of them for one language only, each with coordinates;
* use is walk-in: for each need the resident goes to a service picked by a softmax over
  -1.2 x distance in km, reputation and a very weak hidden taste among the services that speak one
  of the resident's languages (others are never used), and comes back
  (repeat ``enrolled`` visits); a few views, some referrals between services of the same need;
* needs start at some moment of the nine months; a second service for the same need is tried
  with probability 0.35 later on.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .draw import DAY, epoch, gumbel_pick, lognormal_income, needs_by_rules, weighted
from .output import interaction_frame, join, write_city
from .story import load_story

KM_PER_DEG_LAT = 111.0


def _km(lat1, lon1, lat2, lon2) -> np.ndarray:
    dy = (np.asarray(lat2) - lat1) * KM_PER_DEG_LAT
    dx = (np.asarray(lon2) - lon1) * KM_PER_DEG_LAT * np.cos(np.radians(lat1))
    return np.hypot(dx, dy)


def generate(out, *, residents: int = 6_000, services: int = 90, seed: int = 0) -> dict:
    s = load_story("aside")
    rng = np.random.default_rng(seed)
    hoods = list(s["neighbourhoods"])
    centre = np.array([s["neighbourhoods"][h] for h in hoods])
    needs_vocab = list(s["needs"])
    # residents
    hood = rng.choice(len(hoods), size=residents, p=[0.25, 0.2, 0.2, 0.2, 0.15])
    lat = centre[hood, 0] + rng.normal(0, 0.006, size=residents)
    lon = centre[hood, 1] + rng.normal(0, 0.008, size=residents)
    first = np.array([weighted(rng, list(s["neighbourhood_languages"][hoods[h]]),
                               list(s["neighbourhood_languages"][hoods[h]].values()), 1)[0] for h in hood])
    mono = (first != "en") & (rng.random(residents) < 0.6)
    langs = np.where(first == "en", "en", np.where(mono, first, np.char.add(first.astype(str), ";en")))
    age = np.clip(np.round(rng.normal(45, 20, size=residents)), 18, 95).astype(int)
    household = np.clip(rng.poisson(1.8, size=residents) + 1, 1, 10)
    income = lognormal_income(rng, np.where(mono, 1500.0, 2600.0) * np.where(age >= 65, 0.6, 1.0))
    unemployed = (age < 65) & (rng.random(residents) < np.where(mono, 0.18, 0.08))
    groups = {"anyone": np.ones(residents, bool), "senior": age >= 62, "poor": income < 1500,
              "homeless": rng.random(residents) < 0.025, "family": (household >= 3) & (age < 50),
              "unemployed": unemployed, "no_english": mono}
    needs = needs_by_rules(rng, s["needs"], groups, residents)
    res = pd.DataFrame({
        "resident_id": [f"A{r:05d}" for r in range(residents)], "age": age,
        "gender": weighted(rng, ["female", "male"], [1, 1], residents), "district": np.asarray(hoods, dtype=object)[hood],
        "household_size": household, "monthly_income": income,
        "employment_status": np.where(age >= 65, "retired", np.where(unemployed, "unemployed", "employed")),
        "languages": langs, "needs": [join(n) for n in needs],
        "latitude": lat.round(5), "longitude": lon.round(5),
    })
    # services: a few per need, each in one or more languages, placed in a neighbourhood
    need_of = np.concatenate([np.arange(len(needs_vocab)), rng.integers(0, len(needs_vocab), size=max(services - len(needs_vocab), 0))])[:services]
    s_hood = rng.choice(len(hoods), size=services)
    s_lang = weighted(rng, ["en", "es", "zh", "en;es", "en;zh", "en;es;zh", ""], [2, 2, 2, 3, 3, 2, 2], services)
    main_lang = np.array([l.split(";")[0] if l else "en" for l in s_lang])
    # a one-language service sits where its speakers live
    s_hood = np.where(main_lang == "zh", np.where(rng.random(services) < 0.7, hoods.index("chinatown"), s_hood), s_hood)
    s_hood = np.where(main_lang == "es", np.where(rng.random(services) < 0.7, hoods.index("la_loma"), s_hood), s_hood)
    s_lat = centre[s_hood, 0] + rng.normal(0, 0.005, size=services)
    s_lon = centre[s_hood, 1] + rng.normal(0, 0.006, size=services)
    names = [f"{s['names'][ml][needs_vocab[n]]} {hoods[h].replace('_', ' ').title()} {j}"
             for j, (ml, n, h) in enumerate(zip(main_lang, need_of, s_hood))]
    descs = [s["describe"][ml].format(place=hoods[h].replace("_", " ").title()) for ml, h in zip(main_lang, s_hood)]
    min_age = np.where(np.asarray(needs_vocab)[need_of] == "senior_centre", 60.0, np.nan)
    svc = pd.DataFrame({
        "service_id": [f"AS{j:03d}" for j in range(services)], "name": names, "description": descs,
        "categories": np.asarray(needs_vocab)[need_of], "min_age": min_age, "languages": s_lang,
        "latitude": s_lat.round(5), "longitude": s_lon.round(5),
        "delivery": weighted(rng, ["walk_in", "appointment"], [3, 1], services),
    })
    reputation = rng.normal(0, 0.5, size=services)
    taste = rng.normal(0, 0.15, size=(residents, 2)) @ rng.normal(0, 1, size=(2, services))
    start, span = epoch(s["start"]), s["days"] * DAY
    rows = []
    speak = [set(l.split(";")) for l in langs]
    s_speak = [set(l.split(";")) if l else None for l in s_lang]
    for r in range(residents):
        for code in needs[r]:
            cand = np.flatnonzero(need_of == needs_vocab.index(code))
            cand = cand[~(min_age[cand] > age[r])]
            if not len(cand):
                continue
            understood = np.array([sl is None or bool(sl & speak[r]) for sl in (s_speak[j] for j in cand)])
            cand = cand[understood]  # nobody walks in where nobody speaks their language
            if not len(cand):
                continue
            km = _km(lat[r], lon[r], s_lat[cand], s_lon[cand])
            u = -1.2 * km + reputation[cand] + taste[r, cand]
            t = start + int(rng.random() * span * 0.9)
            tries = gumbel_pick(rng, u, 2 if rng.random() < 0.35 else 1)
            for k, i in enumerate(tries):
                j = int(cand[i])
                w = t + k * int(rng.exponential(40 * DAY))
                if rng.random() < 0.15:
                    rows.append((r, j, "viewed", w))
                    w += int(rng.exponential(3 * DAY))
                if rng.random() < 0.3:
                    rows.append((r, j, "referred", w))
                    w += int(rng.exponential(5 * DAY))
                for _ in range(1 + min(rng.poisson(1.5), 6)):
                    rows.append((r, j, "enrolled", w))
                    w += int(rng.exponential(14 * DAY))
    inter = interaction_frame(rows, res, svc, start + span)
    story = {"scenario": "aside", "seed": seed, "about": s["about"], "span": [s["start"], s["days"]]}
    return write_city(out, services=svc, residents=res, interactions=inter, story=story)
