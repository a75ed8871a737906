"""Synthetic usage of any service catalogue: residents with needs, and who chose which service when.

The generative model is documented in :mod:`training.generate`. The catalogue may be one we made or
a real directory in the contract (categories may be arbitrary codes such as ``101-02-01``, with the
parent relation given by an optional ``code,name,parent`` taxonomy table). Needs are drawn from the
catalogue's own categories, so the usage fits whatever taxonomy the catalogue uses.

Everything about residents and interactions is vectorised: residents are processed in chunks, each
chunk scoring every service with float32 (chunk x services) arrays. Chunks draw from their own
random streams (seeded by ``(seed, stream, chunk index)``) so results do not depend on threading.
"""
from __future__ import annotations

import math
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from recommender import schema
from recommender.taxonomy import Taxonomy

from .tables import taxonomy_from_frame, validate_services

from .generate_population import (
    CITY_LAT, CITY_LON, DEFAULT_DISTRICTS, DEFAULT_LANGUAGES, FEATURES, DistrictSet, Population,
    default_districts, residents_table, synthesise_population,
)

#: Epoch seconds of the end of the simulated period (2025-01-01T00:00:00Z) and its length (2 years).
END = 1_735_689_600
SPAN = 730 * 86_400
DAY = 86_400

#: Streams of the random generator, so adding draws to one phase leaves the others unchanged.
_POPULATION, _NEEDS, _SERVICES, _RESIDENTS, _CHOICE, _MISSING = 11, 12, 13, 14, 15, 16
#: Residents per chunk when drawing needs (fixed, so needs do not depend on the catalogue size).
NEED_CHUNK = 65_536
#: Target (residents x services) cells per choice chunk: ~17 bytes each live at once.
CHUNK_CELLS = 8_000_000
#: (residents x services) cells per argpartition call within a chunk.
ARGPARTITION_CELLS = 1_000_000


@dataclass(frozen=True)
class ChoiceParams:
    """Coefficients of the choice model and the funnel (see :mod:`training.generate`)."""

    b_need: float = 5.0          # the service answers one of the resident's needs
    partial: float = 0.4         # ... or only shares the top-level need of a specific (child) need
    b_elig: float = 5.5          # the resident is eligible
    b_dist: float = 0.25         # per km (in default-city km) from home, in-person services
    remote: float = 0.25         # distance factor of phone / online services
    b_pop: float = 0.6           # per standard deviation of log popularity
    taste_dim: int = 8
    taste_sd: float = 1.5        # standard deviation of u_i . v_j
    activity_shape: float = 2.0  # Gamma shape of the per-resident activity multiplier (mean 1)
    max_choices: int = 200
    needs_extra_p: float = 0.2   # P(each of 2 extra needs), + 0.15 low income, + 0.15 disability
    child_p: float = 0.3         # P(a declared need is the more specific child code)
    supply_exponent: float = 0.5
    funnel_noise: float = 1.2    # scale of the logistic noise on the funnel depth
    #: thresholds of referred, applied, enrolled, completed on U - b_need - b_elig (0 for a
    #: service that answers a need and admits the resident, before distance, popularity and taste)
    funnel: tuple[float, float, float, float] = (-1.0, 0.3, 1.5, 3.5)
    turned_away: float = 0.8     # P(an ineligible applicant is declined)
    declines_referral: float = 0.3


# --------------------------------------------------------------------------- the catalogue


@dataclass
class Catalog:
    """The services table as arrays (numeric NaN where empty)."""

    ids: list[str]
    categories: list[list[str]]
    districts: list[list[str]]
    languages: list[list[str]]
    min_age: np.ndarray
    max_age: np.ndarray
    max_income: np.ndarray
    capacity: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    status: list[str]
    remote: np.ndarray  # bool: phone / online delivery

    def __len__(self) -> int:
        return len(self.ids)


def parse_services(services: pd.DataFrame) -> Catalog:
    """The services table as arrays, validated by the data layer (``training.tables``) exactly as a
    data directory's services file is: a bad cell raises DataError (a ValueError) naming row and column."""
    df, _ = validate_services(services.reset_index(drop=True))

    def numbers(col: str) -> np.ndarray:
        return df[col].to_numpy(dtype=np.float64, copy=True)

    def lists(col: str) -> list[list[str]]:
        return [schema.split_list(v) for v in df[col].tolist()]

    ids = df["service_id"]
    min_age, max_age = numbers("min_age"), numbers("max_age")
    status = df["status"].tolist()
    remote = np.zeros(len(df), dtype=bool)
    if "delivery" in df.columns:
        remote = df["delivery"].astype("string").str.strip().str.lower().isin(["phone", "online"]).to_numpy()
    lat, lon = numbers("latitude"), numbers("longitude")
    return Catalog(
        ids=ids.tolist(), categories=lists("categories"), districts=lists("districts"),
        languages=lists("languages"), min_age=min_age, max_age=max_age,
        max_income=numbers("max_income"), capacity=numbers("capacity"), lat=lat, lon=lon,
        status=status, remote=remote,
    )


# --------------------------------------------------------------------------- needs

#: Need archetypes: a pattern over "code name" (lower case) and the propensity weights it implies.
#: The first match wins, so specific patterns come first. Unmatched codes get random weights.
ARCHETYPES: tuple[tuple[str, str, dict[str, float]], ...] = (
    ("language", r"language|\besl\b|english|literacy|interpret|translat",
     {"const": .05, "non_english_only": 3.0, "bilingual": .6}),
    ("shelter", r"shelter|homeless",
     {"const": .05, "very_low_income": 2.5, "unemployed": 1.0, "lives_alone": .5}),
    ("repairs", r"repair|weatheri[sz]",
     {"const": .1, "age65": 1.0, "low_income": .6}),
    ("homecare", r"home ?care|in-home",
     {"const": .05, "age80": 2.5, "disability": 1.0}),
    ("daycenter", r"day ?cent",
     {"const": .05, "age65": 1.5, "lives_alone": .8}),
    ("meals", r"\bmeals?\b|kitchen",
     {"const": .1, "age65": .8, "very_low_income": 1.0, "lives_alone": .5}),
    ("mental", r"mental|counsel|substance|behavio",
     {"const": .3, "unemployed": .6, "unable_to_work": .8, "lives_alone": .4}),
    ("childcare", r"child|daycare|day care|after.?school|youth|infant|parent|head start|pre-?k",
     {"const": .02, "has_kids": 3.0}),
    ("eldercare", r"elder|senior|aging|older adult|geriatric|age group",
     {"const": .02, "age65": 2.5, "age80": 2.0, "disability": .5, "lives_alone": .5}),
    ("disability", r"disab|accessib|wheelchair|blind|deaf|special needs|assistive",
     {"const": .02, "disability": 3.0}),
    ("jobs", r"\bjobs?\b|employ|career|workforce|vocation|\bwork\b|placement",
     {"const": .1, "unemployed": 3.0, "student": .6, "young": .4}),
    ("housing", r"hous|\brent|evict|mortgage|landlord|tenant",
     {"const": .15, "low_income": 1.5, "very_low_income": 1.0, "unemployed": .4}),
    ("food", r"food|pantry|nutrition|snap|\bwic\b|grocer",
     {"const": .15, "low_income": 1.5, "very_low_income": .8, "large_household": .5}),
    ("utilities", r"utilit|energy|electric|heating|water bill|\bgas\b",
     {"const": .15, "low_income": 1.2, "age65": .3}),
    ("transport", r"transport|transit|\bbus\b|\brides?\b|fare|vehicle",
     {"const": .15, "disability": .8, "age80": .6, "unable_to_work": .3}),
    ("legal", r"legal|\blaw\b|court|immigra|attorney|citizenship",
     {"const": .2, "non_english_only": .4, "bilingual": .3, "low_income": .4}),
    ("money", r"money|cash|financ|benefit|income|\btax",
     {"const": .2, "low_income": 1.2, "unemployed": .6, "unable_to_work": .5}),
    ("education", r"educat|school|\bged\b|college|class|tutor",
     {"const": .1, "student": 1.2, "young": .5, "unemployed": .3, "non_english_only": 2.0, "bilingual": .3}),
    ("health", r"health|clinic|medic|dental|hospital|prescri|insur|care\b",
     {"const": .4, "age65": .6, "disability": .8}),
    ("emergency", r"emergenc|crisis|disaster",
     {"const": .2, "very_low_income": 1.0}),
)
_FEATURE_INDEX = {f: i for i, f in enumerate(FEATURES)}


def archetype_weights(code: str, name: str) -> tuple[str | None, np.ndarray]:
    """(archetype name or None, propensity weights over FEATURES) for one category."""
    text = f"{code} {name}".lower()
    w = np.zeros(len(FEATURES), dtype=np.float32)
    for label, pattern, weights in ARCHETYPES:
        if re.search(pattern, text):
            for f, v in weights.items():
                w[_FEATURE_INDEX[f]] = v
            return label, w
    # Stable per code (not per position), so a catalogue's order does not change who needs what.
    rng = np.random.default_rng(zlib.crc32(code.encode("utf-8")))
    w[0] = 0.1
    picks = rng.choice(np.arange(1, len(FEATURES)), size=2, replace=False)
    w[picks] = rng.uniform(0.5, 2.0, size=2)
    return None, w


@dataclass
class NeedModel:
    """Which codes residents may declare, how likely given a profile, and which services answer them."""

    codes: list[str]             # primary (top-level) codes, then child codes
    n_primary: int
    primary_of: np.ndarray       # int: index of each code's primary (itself for a primary)
    weights: np.ndarray          # (FEATURES x codes) float32
    supply: np.ndarray           # services under each code
    answer: np.ndarray           # (codes + 1) x services float32; the last row (padding) is zeros
    taxonomy: Taxonomy = field(repr=False)

    @property
    def child_mask(self) -> np.ndarray:
        """(primary x child) bool: child c belongs to primary p."""
        kids = self.primary_of[self.n_primary:]
        return np.arange(self.n_primary)[:, None] == kids[None, :]


def build_need_model(catalog: Catalog, taxonomy: Taxonomy, params: ChoiceParams) -> NeedModel:
    """Need codes from the catalogue's categories: the top level (descending while it has fewer than
    4 codes) and the level below; propensity weights from archetypes matched on code and name."""
    taxonomy.add_codes(c for cats in catalog.categories for c in cats)
    paths = {c: list(reversed(taxonomy.ancestors(c))) for cats in catalog.categories for c in cats}
    if not paths:
        raise ValueError("services: no service has a category, so there are no needs to draw")
    level = 0
    while (len({p[min(level, len(p) - 1)] for p in paths.values()}) < 4
           and any(len(p) > level + 1 for p in paths.values())):
        level += 1

    def top(path):
        return path[min(level, len(path) - 1)]

    primaries = sorted({top(p) for p in paths.values()})
    children = sorted({p[level + 1] for p in paths.values() if len(p) > level + 1})
    codes = primaries + children
    index = {c: i for i, c in enumerate(codes)}
    primary_of = np.array([index[top(list(reversed(taxonomy.ancestors(c))))] for c in codes])
    n = len(catalog)
    answer = np.zeros((len(codes) + 1, n), dtype=np.float32)
    for j, cats in enumerate(catalog.categories):
        under = {a for c in cats for a in paths[c] if a in index}
        tops = {top(paths[c]) for c in cats}
        for c in under:
            answer[index[c], j] = 1.0
        for k, c in enumerate(codes):
            if answer[k, j] == 0 and codes[primary_of[k]] in tops:
                answer[k, j] = params.partial
    supply = (answer[:-1] == 1.0).sum(axis=1).astype(np.float64)
    weights = np.zeros((len(FEATURES), len(codes)), dtype=np.float32)
    for k, c in enumerate(codes):
        label, w = archetype_weights(c, taxonomy.names.get(c, c))
        if k >= len(primaries) and label is None:
            w = weights[:, primary_of[k]]  # an unrecognised child inherits its parent's profile
        weights[:, k] = w
    return NeedModel(codes=codes, n_primary=len(primaries), primary_of=primary_of, weights=weights,
                     supply=supply, answer=answer, taxonomy=taxonomy)


def _gumbel_keys(rng: np.random.Generator, logp: np.ndarray) -> np.ndarray:
    return logp - np.log(rng.standard_exponential(logp.shape))


def draw_needs(pop: Population, model: NeedModel, params: ChoiceParams, seed: int) -> np.ndarray:
    """(residents x 3) int32 indices into ``model.codes``; -1 pads residents with fewer needs."""
    n = len(pop)
    out = np.full((n, 3), -1, dtype=np.int32)
    npri = model.n_primary
    supply_factor = (model.supply / model.supply[:npri].mean()) ** params.supply_exponent
    mask = model.child_mask
    for c, lo in enumerate(range(0, n, NEED_CHUNK)):
        rng = np.random.default_rng([seed, _NEEDS, c])
        part = pop.subset(slice(lo, lo + NEED_CHUNK))
        f = part.features()
        m = len(part)
        logp = np.log(np.maximum(f @ model.weights[:, :npri], 0.01) * supply_factor[:npri])
        order = np.argsort(-_gumbel_keys(rng, logp), axis=1)[:, :3]
        p_extra = params.needs_extra_p + 0.15 * f[:, 1] + 0.15 * f[:, 11]
        k = np.minimum(1 + rng.binomial(2, p_extra), npri)
        order = np.pad(order, ((0, 0), (0, 3 - order.shape[1])), constant_values=-1)
        chosen = np.where(np.arange(3)[None, :] < k[:, None], order, -1).astype(np.int32)
        if model.n_primary < len(model.codes):
            has_children = mask.any(axis=1)
            for s in range(3):
                slot = chosen[:, s]
                rows = np.flatnonzero((slot >= 0) & (rng.random(m) < params.child_p))
                rows = rows[has_children[slot[rows]]]
                if len(rows) == 0:
                    continue
                prop = np.maximum(f[rows] @ model.weights[:, npri:], 0.01) * supply_factor[npri:]
                logc = np.where(mask[slot[rows]], np.log(prop), -np.inf)
                pick = np.argmax(_gumbel_keys(rng, logc), axis=1)
                chosen[rows, s] = npri + pick
        out[lo:lo + m] = chosen
    return out


def needs_text(need_idx: np.ndarray, codes: list[str]) -> pa.Array:
    """``;``-joined need codes per resident (null for none)."""
    vocab = pa.array(codes, pa.string())
    cols = [pc.take(vocab, pa.array(need_idx[:, s], mask=need_idx[:, s] < 0)) for s in range(3)]
    joined = pc.binary_join_element_wise(*cols, ";", null_handling="skip")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


# --------------------------------------------------------------------------- districts


def districts_for_catalog(catalog: Catalog) -> DistrictSet:
    """Districts for residents of a catalogue we did not make.

    The catalogue's own district codes when it lists any (each takes the profile of a default
    district, cycling, and sits at the mean of the services serving only it, or on a ring),
    else the default 12. The city is centred on the median service location (the default city
    when no service has one) and scaled to the services' spread. Languages offered by services
    join the default second languages at a 1% share in every district.
    """
    located = ~np.isnan(catalog.lat)
    lat0, lon0, scale = CITY_LAT, CITY_LON, 1.0
    base = default_districts()
    if located.any():
        lat0 = float(np.median(catalog.lat[located]))
        lon0 = float(np.median(catalog.lon[located]))
        probe = DistrictSet(DEFAULT_DISTRICTS, lat0=lat0, lon0=lon0)
        x, y = probe.to_km(catalog.lat[located], catalog.lon[located])
        spread = float(np.median(np.hypot(x, y)))
        default_spread = float(np.median(np.hypot([d.east_km for d in base.districts],
                                                  [d.north_km for d in base.districts])))
        scale = float(np.clip(spread / default_spread, 0.5, 4.0)) if spread > 0 else 1.0
    extra = sorted({lang for langs in catalog.languages for lang in langs}
                   - set(DEFAULT_LANGUAGES) - {"en"})
    languages = tuple(DEFAULT_LANGUAGES) + tuple(extra)
    codes = sorted({d for ds in catalog.districts for d in ds})
    if not codes:
        return DistrictSet(DEFAULT_DISTRICTS, lat0=lat0, lon0=lon0, scale=scale, languages=languages)
    probe = DistrictSet(DEFAULT_DISTRICTS, lat0=lat0, lon0=lon0, scale=scale)
    built = []
    for i, code in enumerate(codes):
        profile = DEFAULT_DISTRICTS[i % len(DEFAULT_DISTRICTS)]
        own = np.array([located[j] and ds == [code] for j, ds in enumerate(catalog.districts)], dtype=bool)
        if own.any():
            x, y = probe.to_km(catalog.lat[own], catalog.lon[own])
            east, north = float(x.mean()), float(y.mean())
        else:
            angle = 2 * math.pi * i / len(codes)
            east, north = 6.0 * math.cos(angle), 6.0 * math.sin(angle)
        built.append(replace(profile, code=code, name=code.upper(), east_km=east, north_km=north))
    return DistrictSet(tuple(built), lat0=lat0, lon0=lon0, scale=scale, languages=languages)


# --------------------------------------------------------------------------- choices


@dataclass
class _Context:
    """Everything a choice chunk reads (shared, read-only across threads)."""

    params: ChoiceParams
    seed: int
    # services (S columns)
    answer: np.ndarray          # (codes + 1) x S float32
    svc_const: np.ndarray       # (S,) float32: b_pop * popularity
    svc_xy2: np.ndarray         # (2 x S) float32: -2 * (east, north)
    svc_sq: np.ndarray          # (S,) float32: east^2 + north^2
    dist_w: np.ndarray          # (S,) float32: -b_dist * delivery factor (0 where unlocated)
    taste_v: np.ndarray         # (dim x S) float32
    district_ok: np.ndarray     # (districts x S) bool
    min_age: np.ndarray         # (S,) float32, -inf when open
    max_age: np.ndarray         # (S,) float32, +inf when open
    max_income: np.ndarray      # (S,) float32, +inf when open
    lang_svc: np.ndarray        # ((1 + languages) x S) float32: offered in; all ones when open
    full_cols: np.ndarray       # capacity 0
    closed_cols: np.ndarray     # status other than active
    close_at: np.ndarray        # (S,) float64, inf when never closed
    # residents (N rows)
    needs: np.ndarray
    pop: Population
    res_xy: np.ndarray          # (N x 2) float32
    res_sq: np.ndarray          # (N,) float32
    taste_u: np.ndarray         # (N x dim) float32
    choices: np.ndarray         # (N,) int
    start: np.ndarray           # (N,) int64 window start
    end: np.ndarray             # (N,) int64 window end
    speaks: np.ndarray          # (N x (1 + languages)) float32
    chunk_rows: int
    _local: threading.local = field(default_factory=threading.local)

    def buffers(self, rows: int, cols: int):
        """Per-thread scratch arrays, reused across chunks (allocating 100 MB per chunk is slow)."""
        buf = getattr(self._local, "buf", None)
        if buf is None:
            shape = (self.chunk_rows, cols)
            buf = (np.empty(shape, np.float32), np.empty(shape, np.float32), np.empty(shape, np.float32),
                   np.empty(shape, bool), np.empty(shape, bool))
            self._local.buf = buf
        return tuple(b[:rows] for b in buf)


def _choose_chunk(ctx: _Context, c: int):
    """Choices of one chunk of residents: (resident index, service index, event index, timestamp).

    Full-width operations on (rows x services) buffers throughout: on this hardware a compare over
    every column is ~8x cheaper than a fancy-indexed update of a subset of them.
    """
    p = ctx.params
    lo = c * ctx.chunk_rows
    hi = min(lo + ctx.chunk_rows, len(ctx.choices))
    k = ctx.choices[lo:hi]
    kmax = int(k.max(initial=0))
    if kmax == 0:
        return (np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.int8), np.empty(0, np.int64))
    rng = np.random.default_rng([ctx.seed, _CHOICE, c])
    m, n_svc = hi - lo, ctx.answer.shape[1]
    U, T, G, E, B = ctx.buffers(m, n_svc)
    pad = ctx.answer.shape[0] - 1
    idx = np.where(ctx.needs[lo:hi] < 0, pad, ctx.needs[lo:hi])

    # need match: the best of the (up to 3) declared needs
    np.take(ctx.answer, idx[:, 0], axis=0, out=U)
    for s in (1, 2):
        np.take(ctx.answer, idx[:, s], axis=0, out=T)
        np.maximum(U, T, out=U)
    U *= p.b_need
    U += ctx.svc_const
    np.matmul(ctx.taste_u[lo:hi], ctx.taste_v, out=T)
    U += T
    # distance via |r|^2 + |s|^2 - 2 r.s
    np.matmul(ctx.res_xy[lo:hi], ctx.svc_xy2, out=T)
    T += ctx.res_sq[lo:hi, None]
    T += ctx.svc_sq
    np.maximum(T, 0.0, out=T)
    np.sqrt(T, out=T)
    T *= ctx.dist_w
    U += T
    # eligibility on the true profile
    pop = ctx.pop
    np.take(ctx.district_ok, pop.district[lo:hi], axis=0, out=E)
    age = pop.age[lo:hi, None].astype(np.float32)
    np.greater_equal(age, ctx.min_age, out=B)
    E &= B
    np.less_equal(age, ctx.max_age, out=B)
    E &= B
    np.less_equal(pop.income[lo:hi, None], ctx.max_income, out=B)
    E &= B
    np.matmul(ctx.speaks[lo:hi], ctx.lang_svc, out=T)
    np.greater(T, 0.0, out=B)
    E &= B
    E[:, ctx.full_cols] = False
    np.multiply(E, np.float32(p.b_elig), out=T)
    U += T
    # Gumbel-top-k: keys = U + Gumbel, Gumbel = -log(-log(uniform))
    rng.random(out=G, dtype=np.float32)
    with np.errstate(divide="ignore"):  # a uniform of exactly 0 gives key -inf: never chosen
        np.log(G, out=G)
        np.negative(G, out=G)
        np.log(G, out=G)
    np.subtract(U, G, out=G)
    if len(ctx.closed_cols):
        gone = ctx.close_at[ctx.closed_cols][None, :] <= (ctx.start[lo:hi, None] + DAY)
        sub = G[:, ctx.closed_cols]
        sub[gone] = -np.inf
        G[:, ctx.closed_cols] = sub
    # argpartition in row blocks: its int64 output stays small enough to be recycled by the
    # allocator instead of being page-faulted in afresh for every chunk
    top = np.empty((m, kmax), dtype=np.int64)
    block = max(1, ARGPARTITION_CELLS // n_svc)
    for b in range(0, m, block):
        top[b:b + block] = np.argpartition(G[b:b + block], n_svc - kmax, axis=1)[:, n_svc - kmax:]
    keys = np.take_along_axis(G, top, axis=1)
    order = np.argsort(-keys, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    keys = np.take_along_axis(keys, order, axis=1)
    take = (np.arange(kmax)[None, :] < k[:, None]) & (keys > -np.inf)
    rows, cols = np.nonzero(take)
    cols = top[rows, cols]
    util = U[rows, cols]
    elig = E[rows, cols]

    # funnel: depth grows with utility
    y = util - (p.b_need + p.b_elig) + p.funnel_noise * rng.logistic(size=len(rows)).astype(np.float32)
    stage = np.searchsorted(np.asarray(p.funnel, dtype=np.float32), y).astype(np.int8)
    r = rng.random(len(rows))
    declined = ((~elig) & (stage >= 2) & (r < p.turned_away)) | ((stage == 1) & (r < p.declines_referral))
    full = np.isin(cols, ctx.full_cols)
    stage = np.where(full & (stage >= 3), 2, stage)
    stage = np.where(declined, 5, stage).astype(np.int8)
    # time: uniform in the resident's window, before the service closed
    g = rows + lo
    t_hi = np.minimum(ctx.end[g].astype(np.float64), ctx.close_at[cols])
    t_lo = ctx.start[g].astype(np.float64)
    ts = (t_lo + rng.random(len(rows)) * np.maximum(t_hi - t_lo, 0.0)).astype(np.int64)
    return g.astype(np.int32), cols.astype(np.int32), stage, ts


def simulate(
    catalog: Catalog, model: NeedModel, districts: DistrictSet, residents: int, *,
    interactions_per_resident: float = 12.0, seed: int = 7, params: ChoiceParams = ChoiceParams(),
    end: int = END, span: int = SPAN, progress: bool = False, n_jobs: int = 1,
    chunk_cells: int = CHUNK_CELLS,
) -> tuple[pa.Table, pa.Table, dict[str, float]]:
    """Residents and interactions as Arrow tables, plus seconds per phase.

    ``chunk_cells`` sets the residents per chunk (it bounds memory); results depend on it, as each
    chunk has its own random stream, but not on ``n_jobs``.
    """
    if residents < 1:
        raise ValueError(f"residents must be at least 1, got {residents}")
    if interactions_per_resident < 0:
        raise ValueError(f"interactions_per_resident must be >= 0, got {interactions_per_resident}")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    pop = synthesise_population(residents, districts, np.random.default_rng([seed, _POPULATION]))
    seconds["population"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    needs = draw_needs(pop, model, params, seed)
    seconds["needs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_svc = len(catalog)
    begin = end - span
    srng = np.random.default_rng([seed, _SERVICES])
    popularity = srng.standard_normal(n_svc)
    cap = catalog.capacity
    sized = ~np.isnan(cap) & (cap > 0)
    popularity[sized] += np.clip(0.3 * np.log(cap[sized] / 40.0), -2.0, 2.0)
    taste_v = (srng.standard_normal((params.taste_dim, n_svc)) * params.taste_dim ** -0.25).astype(np.float32)
    closed = np.array([s != "active" for s in catalog.status])
    close_at = np.full(n_svc, np.inf)
    close_at[closed] = begin + srng.uniform(0.05, 0.95, size=int(closed.sum())) * span

    rrng = np.random.default_rng([seed, _RESIDENTS])
    taste_u = (rrng.standard_normal((residents, params.taste_dim))
               * params.taste_dim ** -0.25 * params.taste_sd).astype(np.float32)
    # Activity windows: arrivals uniform from one span before the period to its end, lengths
    # 30 days + Exp(mean 0.35 span); windows missing the period are redrawn. A resident's choices
    # scale with the observed part of the window, so events are spread evenly over the period.
    first = rrng.uniform(begin - span, end - DAY, size=residents)
    length = 30 * DAY + rrng.exponential(0.35 * span, size=residents)
    for _ in range(100):
        miss = np.flatnonzero(first + length < begin + DAY)
        if len(miss) == 0:
            break
        first[miss] = rrng.uniform(begin - span, end - DAY, size=len(miss))
        length[miss] = 30 * DAY + rrng.exponential(0.35 * span, size=len(miss))
    start = np.maximum(first, begin)
    stop = np.maximum(np.minimum(first + length, end), start + DAY)
    exposure = (stop - start) / (stop - start).mean()
    activity = rrng.gamma(params.activity_shape, 1.0 / params.activity_shape, size=residents)
    choices = np.minimum(rrng.poisson(interactions_per_resident * activity * exposure),
                         min(n_svc, params.max_choices))
    start, stop = start.astype(np.int64), stop.astype(np.int64)

    rx, ry = districts.to_km(pop.lat, pop.lon)
    res_xy = np.column_stack([rx, ry]).astype(np.float32)
    located = ~np.isnan(catalog.lat)
    sx, sy = districts.to_km(np.where(located, catalog.lat, districts.lat0),
                             np.where(located, catalog.lon, districts.lon0))
    # a service with no place is as far as the city centre: free of any distance penalty it would
    # draw a quarter of all choices on a real directory, and the model would learn that as popularity
    dist_w = -params.b_dist * np.where(catalog.remote, params.remote, 1.0)

    codes = {d.code.lower(): i for i, d in enumerate(districts.districts)}
    district_ok = np.ones((len(codes), n_svc), dtype=bool)
    for j, ds in enumerate(catalog.districts):
        if ds:
            district_ok[:, j] = False
            district_ok[[codes[d] for d in ds if d in codes], j] = True
    lang_index = {lang: i for i, lang in enumerate(("en", *districts.languages))}
    lang_svc = np.ones((len(lang_index), n_svc), dtype=np.float32)
    for j, langs in enumerate(catalog.languages):
        if langs:
            lang_svc[:, j] = [lang in langs for lang in lang_index]
    chunk_rows = int(np.clip(chunk_cells // n_svc, 64, 20_000))
    ctx = _Context(
        params=params, seed=seed, answer=model.answer,
        svc_const=(params.b_pop * popularity).astype(np.float32),
        svc_xy2=(-2.0 * np.vstack([sx, sy])).astype(np.float32),
        svc_sq=(sx ** 2 + sy ** 2).astype(np.float32), dist_w=dist_w.astype(np.float32),
        taste_v=taste_v, district_ok=district_ok,
        min_age=np.nan_to_num(catalog.min_age, nan=-np.inf).astype(np.float32),
        max_age=np.nan_to_num(catalog.max_age, nan=np.inf).astype(np.float32),
        max_income=np.nan_to_num(catalog.max_income, nan=np.inf).astype(np.float32),
        lang_svc=lang_svc,
        full_cols=np.flatnonzero(catalog.capacity == 0), closed_cols=np.flatnonzero(closed),
        close_at=close_at, needs=needs, pop=pop, res_xy=res_xy,
        res_sq=(res_xy ** 2).sum(axis=1), taste_u=taste_u, choices=choices, start=start, end=stop,
        speaks=pop.speaks(len(districts.languages)), chunk_rows=chunk_rows,
    )
    n_chunks = -(-residents // chunk_rows)
    parts = []
    bar = tqdm(total=residents, unit="resident", desc="interactions", disable=not progress)
    with threadpool_limits(limits=1, user_api="blas"):
        if n_jobs <= 1:
            for c in range(n_chunks):
                parts.append(_choose_chunk(ctx, c))
                bar.update(min(chunk_rows, residents - c * chunk_rows))
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                for c, part in enumerate(pool.map(lambda c: _choose_chunk(ctx, c), range(n_chunks))):
                    parts.append(part)
                    bar.update(min(chunk_rows, residents - c * chunk_rows))
    bar.close()
    res_idx, svc_idx, stage, ts = (np.concatenate(x) for x in zip(*parts))
    del parts
    order = np.lexsort((svc_idx, res_idx, ts))
    res_idx, svc_idx, stage, ts = res_idx[order], svc_idx[order], stage[order], ts[order]
    seconds["choices"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    width = max(6, len(str(residents)))
    resident_ids = pa.array(np.strings.add("R", np.strings.zfill(np.arange(1, residents + 1).astype(str), width)))
    service_ids = pa.array(catalog.ids, pa.string())
    interactions = pa.table({
        "resident_id": pc.take(resident_ids, pa.array(res_idx)),
        "service_id": pc.take(service_ids, pa.array(svc_idx)),
        "event": pc.take(pa.array(list(schema.EVENTS), pa.string()), pa.array(stage)),
        "timestamp": pa.array(ts),
    })
    residents_tbl = residents_table(pop, resident_ids, districts, needs_text(needs, model.codes),
                                    np.random.default_rng([seed, _MISSING]))
    seconds["tables"] = time.perf_counter() - t0
    return residents_tbl, interactions, seconds


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Integer and boolean columns with empty cells become nullable (Int64, boolean), not float."""
    frame = table.to_pandas()
    for name, col in zip(table.column_names, table.columns):
        if col.null_count and pa.types.is_integer(col.type):
            frame[name] = col.to_pandas().astype("Int64")
        elif col.null_count and pa.types.is_boolean(col.type):
            frame[name] = col.to_pandas().astype("boolean")
    return frame


def generate_usage(
    services_df: pd.DataFrame, *, residents: int = 10_000, seed: int = 7,
    taxonomy: pd.DataFrame | None = None, interactions_per_resident: float = 12.0,
    districts: DistrictSet | None = None, progress: bool = False, n_jobs: int = 1,
    chunk_cells: int = CHUNK_CELLS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthesise residents and their interactions with ANY services table in the contract.

    ``taxonomy`` (columns code, name, parent) gives the parent of each category code; without it
    parents come from the ``a/b`` form of codes. Residents' needs are drawn from the catalogue's own
    categories; ``districts`` defaults to the catalogue's district codes (or 12 default ones).
    Returns (residents, interactions) as DataFrames in the contract of :mod:`recommender.schema`.
    """
    residents_tbl, interactions, _ = synthesise_usage(
        services_df, residents=residents, seed=seed, taxonomy=taxonomy,
        interactions_per_resident=interactions_per_resident, districts=districts,
        progress=progress, n_jobs=n_jobs, chunk_cells=chunk_cells)
    return _to_pandas(residents_tbl), _to_pandas(interactions)


def synthesise_usage(
    services_df: pd.DataFrame, *, residents: int, seed: int, taxonomy: pd.DataFrame | None = None,
    interactions_per_resident: float = 12.0, districts: DistrictSet | None = None,
    params: ChoiceParams = ChoiceParams(), progress: bool = False, n_jobs: int = 1,
    chunk_cells: int = CHUNK_CELLS,
) -> tuple[pa.Table, pa.Table, dict[str, float]]:
    """:func:`generate_usage` returning Arrow tables and seconds per phase (for writing files)."""
    catalog = parse_services(services_df)
    model = build_need_model(catalog, taxonomy_from_frame(taxonomy), params)
    if districts is None:
        districts = districts_for_catalog(catalog)
    return simulate(catalog, model, districts, residents, interactions_per_resident=interactions_per_resident,
                    seed=seed, params=params, progress=progress, n_jobs=n_jobs, chunk_cells=chunk_cells)
