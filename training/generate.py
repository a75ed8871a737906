"""Synthetic city generator: a service catalogue, residents and two years of interactions.

``generate_city(out_dir, residents=100_000, services=2_000, seed=7)`` writes ``services.csv``,
``residents.csv``, ``interactions.csv`` (``.parquet`` with ``fmt="parquet"``) in the contract of
:mod:`recommender.schema`, plus ``taxonomy.csv`` (code, name, parent) of the need categories used.
Every file is written atomically (temp file, fsync, rename). The same seed gives byte-identical
files: each phase draws from its own stream ``numpy.random.default_rng([seed, stream, ...])``.
``training.generate_usage.generate_usage(services_df, ...)`` runs the resident and interaction
model on ANY catalogue in the contract (e.g. an imported directory with codes like ``101-02-01``).

Generative model
================

Taxonomy. 11 top-level needs, each with 2-3 children (``/`` separated, lower case): housing
(shelter, rent, repairs), food (pantry, meals, benefits), jobs (training, placement), childcare
(daycare, afterschool), eldercare (homecare, daycenter), health (clinic, mental, dental),
disability (support, equipment), legal (aid, immigration), education (language, adult),
transport (rides, fares), utilities (bills, weatherization).

Districts. 12 districts ``D01``-``D12`` with centroids 0-9 km around Baltimore (39.29, -76.61),
population shares 6-10 %, an income multiplier (0.5 Cherry Hill ... 2.0 Roland Park), age-band
multipliers for 65+ (0.7-1.4) and 18-34 (0.8-1.7), an unemployment multiplier (0.6-2.0) and a
second-language mix (es up to 35 %, zh up to 12 %, ko, fr, ar, ru) with the share of those speakers
who speak no English (10-40 %). The table is ``generate_population.DEFAULT_DISTRICTS``.

Residents (adults; all draws vectorised; the latent profile is complete, see missing data below):

* district ~ Categorical(shares); position = centroid + N(0, 1.2 km) per axis.
* age: bands 18-24/25-34/35-44/45-54/55-64/65-74/75-84/85-95 with shares
  .12/.18/.16/.15/.16/.13/.07/.03 times the district's multipliers, uniform within the band.
* gender: female with p = 0.51 + 0.14 * clip((age - 60) / 30, 0, 1), nonbinary 1 %, else male.
* disability: p = min(0.7, (0.04 + 0.42 * ((age - 18) / 77)^2) * (1.3 in districts with income
  multiplier < 0.8)).
* household_size = 1 + Poisson(m), m = 1.6 (<25), 1.5 (<35), 2.2 (<45), 1.7 (<55), 0.9 (<65),
  0.6 (<80), 0.35 (80+), capped at 10. Hidden ``has_kids``: p = 0.15 + 0.22 * (size - 2) (capped
  0.9) aged 20-55 with size >= 2; 0.15 aged 56+ with size >= 3 (grandparents).
* employment_status (employed, unemployed, retired, student, unable_to_work) by age group:
  <25 .50/.12/0/.35/.03, <55 .80/.08/.01/.06/.05, <65 .62/.06/.22/.01/.09, <75 .20/.02/.75/0/.03,
  75+ .04/0/.94/0/.02; unemployed x district multiplier; unable_to_work x 8 for disabled under
  65; employed x 0.5 if disabled; renormalised.
* monthly_income ~ LogNormal(log median, sigma): median 3600/500/1800/800/1000 by status, sigma
  .60/.70/.50/.60/.45, times the district multiplier and, for the employed, 0.75 + 0.45 *
  exp(-((age - 48) / 14)^2); 20 % of unemployed and 15 % of students have 0; rounded to 10.
* languages: a second language ~ the district mix (or none); such a speaker lacks English with
  the district's share (x1.5 aged 60+, capped 0.9); others speak ``en``. Written ``en;es``, ``zh``...
* needs (1-3, ``;``-joined): propensity of need code c is p_ic = max(f_i . w_c, 0.01) *
  (supply_c / mean supply)^0.5, with f_i the profile indicators ``FEATURES`` (low income < 1500,
  very low < 700, unemployed, student, retired, unable_to_work, has_kids, 65+, 80+, under 25,
  disability, no English, bilingual, household >= 4, lives alone) and w_c the weights of the
  archetype the code's "code name" text matches (``generate_usage.ARCHETYPES``; e.g. eldercare:
  0.02 + 2.5*[65+] + 2.0*[80+] + 0.5*disability + 0.5*alone; food: 0.15 + 1.5*low + 0.8*very low
  + 0.5*large household; jobs: 0.1 + 3*unemployed + ...; education: ... + 2.0*no English). Codes
  matching no archetype get 0.1 + two random indicators with weights U(0.5, 2), seeded by the code.
  The number of needs is 1 + Binomial(2, 0.2 + 0.15*low income + 0.15*disability); the needs are
  top-level codes drawn without replacement by Gumbel-top-k on log p; each is replaced with
  probability 0.3 by one of its children, drawn ∝ the child's own propensity (its archetype, or
  the parent's) * supply^0.5 (so a non-English speaker needing education mostly gets
  ``education/language``).
* Missing data: written cells are blanked independently: age 5 %, gender 3 %, district 2 %,
  household_size 6 %, monthly_income 10 %, employment_status 4 %, disability 6 %, languages 3 %,
  needs 3 %, latitude+longitude 5 %. Needs and choices use the complete latent profile.

Services (``generate_catalog``): organisations (services / 3.5 of them, sizes LogNormal(0, 0.9),
home districts ∝ share / sqrt(income multiplier)) run the services. Per service: top-level need
∝ health .14, food .13, housing .12, education .09, jobs .08, eldercare .08, childcare .07,
legal .07, transport .06, utilities .06, disability .05; first category a random child (the
top-level code itself 15 %); a second category 30 % of the time (a child of the same need or a
related one, e.g. food -> utilities/health/housing). Scope: the organisation's district (50 %),
it and 1-2 nearest districts (10 %), or citywide (40 %, ``districts`` empty); location = district
centroid + N(0, 1 km). Eligibility: eldercare min_age 55/60/62/65 (90 %); youth programmes
(jobs/training, education/adult, health/mental, 18 %) 16 or 18 to 24; senior clinics (8 % of
health) 65+; max_income from {1200 ... 3500} for means-tested services (food 60 %, housing 70 %,
utilities 80 %, legal 60 %, childcare 50 %, others 10-30 %); languages for 20 % (the site's main
second language, with ``en`` 80 % of the time) and for language classes (the learners' languages,
60 %); capacity for 60 % (1 + LogNormal(log 40, 1); 6 % of those 0 = full), else empty; status
active 90 %, temporarily closed 4 %, inactive 4 %, defunct 2 %; ``delivery`` in_person/phone/
online (72/16/12 %, more phone for legal, more online for education and jobs); ``cost``
free/sliding_scale/fee (75/15/10 %). Names are "<district name or Baltimore> <category name>"
("Eastside Food Pantry"); descriptions join a category phrase per category, a delivery phrase,
a Chinese sentence (70 %) where the site's zh share >= 8 % or the service offers zh, and a
Spanish one (50 %) where es >= 20 % or offered; ``eligibility_description`` states the rules in
words ("Residents of D03 aged 60 and older with a monthly income of $2,000 or less.") and is
left empty for 5 %; 2-3 % of organisations, descriptions and locations are empty.

Interactions (``generate_usage.simulate``, coefficients in ``ChoiceParams``). Period: the two
years (730 days) ending 2025-01-01T00:00:00Z. Each resident has an activity window: arrival
~ U(start - 2 years, end), length 30 days + Exp(mean 0.35 * 2 years), redrawn until it overlaps
the period, clipped to it. Resident i makes k_i ~ Poisson(12 * g_i * e_i) choices (capped at 200),
g_i ~ Gamma(2, 1/2) (activity, mean 1), e_i = observed window length / its mean; so events are
spread evenly over the period and the last 20 % of it holds ~20 % of events, from residents
seen before and from new ones (a fair time holdout). Utility of service j for resident i:

    U_ij = 5.0 * a_ij + 5.5 * [i eligible for j] - 0.25 * d_ij * r_j + 0.6 * z_j + u_i . v_j + Gumbel

a_ij = 1 when a category of j is one of i's needs or a descendant of one, 0.4 when it only shares
the top-level need of a specific (child) need, else 0 (the best over i's needs); eligibility is
checked on the latent profile (age within min/max, income <= max_income, district listed, speaks
an offered language, capacity not 0); d_ij = km from home (straight line, in default-city km),
r_j = 1 in person, 0.25 phone/online; a service without a location counts from the city centre; z_j ~ N(0, 1) + clip(0.3 *
log(capacity / 40), -2, 2) (log popularity); u_i, v_j ~ N(0, I_8 / sqrt 8) scaled so that u.v
has standard deviation 1.5 (a hidden taste, independent of the profile). The k_i services are
drawn without replacement by Gumbel-top-k over all services; a service that closed (status not
active; closing time ~ U(5 %, 95 %) of the period) before the window opened cannot be chosen.
Each chosen pair gets ONE event, the deepest funnel stage reached: y = U_ij (without the Gumbel)
- 5.0 - 5.5 + 1.2 * Logistic noise (so y ~ 0 for a service that answers a need and admits the
resident, before distance, popularity and taste); viewed if y < -1.0, referred < 0.3, applied
< 1.5, enrolled < 3.5, else completed; an ineligible applicant (stage >= applied) is ``declined``
with p 0.8, a referred one declines with p 0.3; a full service (capacity 0) stops at applied
(waitlist). The timestamp is uniform in the resident's window, before the service closed.
Measured with 100k residents / 2k services / seed 7: 1.2M interactions; viewed 36 %, enrolled
20 %, applied 16 %, referred 12 %, completed 12 %, declined 5 %; 79 % answer a declared need
(15 % would by chance); 2.4 % are ineligible by the written profile; 19.6 % fall in the last
20 % of the period. A small catalogue runs out of services that fit sooner (600 services: 65 %
answer a need, 7 % ineligible).

Other catalogues (``generate_usage``). Parents of category codes come from the taxonomy table
(else from the ``a/b`` form; a code without either is its own top level). Declarable needs are
the catalogue's top-level codes (or, while fewer than 4 exist, the next level down) and the
level below them; each code's archetype is matched on its code and taxonomy name (an unmatched
child takes its parent's). Districts are the catalogue's own ``districts`` codes (each given a
default district's profile in turn, placed at the mean of the services serving only it, else on
a ring) or the default 12; the city is centred on the median service location and scaled by the
services' median distance from it relative to the default city's (clipped to 0.5-4), and
distances are divided by that scale. Languages services offer join the second languages at 1 %
in every district. Everything else is as above.

Scale. Residents are processed in chunks of ~8M (resident x service) float32 cells; no Python
loop runs per resident or interaction (services are few: their text is composed per row).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recommender.files import atomic_file

from .generate_catalog import generate_catalog, taxonomy_frame
from .generate_population import default_districts
from .generate_usage import synthesise_usage

FORMATS = ("csv", "parquet")
_CATALOG = 17


def write_arrow(table: pa.Table, path: str | os.PathLike) -> None:
    """Write ``table`` as CSV or Parquet (by extension) atomically: temp file, fsync, rename."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"{target}: unsupported file type {target.suffix!r}; use .csv or .parquet")
    with atomic_file(target, "wb") as f:
        if fmt == "csv":
            pacsv.write_csv(table, f)
        else:
            pq.write_table(table, f)


def generate_city(
    out_dir: str | os.PathLike, *, residents: int = 100_000, services: int = 2_000,
    interactions_per_resident: float = 12.0, seed: int = 7, fmt: str = "csv", progress: bool = True,
    n_jobs: int = 1,
) -> dict:
    """Write a synthetic city's data directory; return counts, seconds per phase and file paths."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if services < 1:
        raise ValueError(f"services must be at least 1, got {services}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    districts = default_districts()
    t0 = time.perf_counter()
    catalog = generate_catalog(services, districts, np.random.default_rng([seed, _CATALOG]))
    seconds = {"catalog": time.perf_counter() - t0}
    residents_tbl, interactions, phases = synthesise_usage(
        catalog, residents=residents, seed=seed, taxonomy=taxonomy_frame(),
        interactions_per_resident=interactions_per_resident, districts=districts,
        progress=progress, n_jobs=n_jobs)
    seconds.update(phases)
    t0 = time.perf_counter()
    need_codes = pc.list_flatten(pc.split_pattern(residents_tbl.column("needs").drop_null(), ";"))
    used = sorted({c for v in catalog["categories"].dropna() for c in v.split(";")}
                  | set(pc.unique(need_codes).to_pylist()))
    tables = {
        "services": pa.Table.from_pandas(catalog, preserve_index=False),
        "residents": residents_tbl,
        "interactions": interactions,
        "taxonomy": pa.Table.from_pandas(taxonomy_frame(used), preserve_index=False),
    }
    files = {}
    for name, table in tables.items():
        path = out / f"{name}.{fmt if name != 'taxonomy' else 'csv'}"
        write_arrow(table, path)
        files[name] = str(path)
        # A table must exist in one format only: drop the other one left by an earlier run.
        stale = path.with_suffix(".parquet" if path.suffix == ".csv" else ".csv")
        if name != "taxonomy" and stale.exists():
            stale.unlink()
    seconds["write"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    return {
        "residents": residents_tbl.num_rows,
        "services": len(catalog),
        "interactions": interactions.num_rows,
        "taxonomy": tables["taxonomy"].num_rows,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "files": files,
    }
