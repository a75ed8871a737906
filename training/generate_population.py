"""Synthetic residents: districts of a city and a population whose attributes hang together.

The generative model is documented in :mod:`training.generate` (the facade); this module holds the
district table and the vectorised draw of latent profiles. A :class:`Population` keeps the *true*
values (no missing cells): the needs and the choice model use them, and only the written table
(:func:`residents_table`) blanks a share of cells, as real intake forms are incomplete.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Centre of the default city (Baltimore, MD).
CITY_NAME = "Baltimore"
CITY_LAT = 39.29
CITY_LON = -76.61
KM_PER_DEG_LAT = 110.57

#: Second languages spoken in the default city, besides English.
DEFAULT_LANGUAGES = ("es", "zh", "ko", "fr", "ar", "ru")

GENDERS = ("female", "male", "nonbinary")
EMPLOYMENT = ("employed", "unemployed", "retired", "student", "unable_to_work")
EMPLOYED, UNEMPLOYED, RETIRED, STUDENT, UNABLE = range(5)

#: Profile features the need propensities are linear in (see ``Population.features``).
FEATURES = (
    "const", "low_income", "very_low_income", "unemployed", "student", "retired", "unable_to_work",
    "has_kids", "age65", "age80", "young", "disability", "non_english_only", "bilingual",
    "large_household", "lives_alone",
)


@dataclass(frozen=True)
class District:
    code: str
    name: str
    #: centroid offset from the city centre, km
    east_km: float
    north_km: float
    #: share of the population
    weight: float
    #: multiplier of every median income
    income: float
    #: multipliers of the 65+ and 18-34 age-band weights
    elder: float
    young: float
    #: multiplier of the probability of being unemployed
    unemployment: float
    #: share of residents speaking each second language
    languages: tuple[tuple[str, float], ...]
    #: share of second-language speakers who speak no English (x1.5 aged 60+, capped 0.9)
    non_english: float


#: The default city. Poorer districts (income < 1) have more unemployment and more disability.
DEFAULT_DISTRICTS = (
    District("D01", "Downtown", 0.0, 0.0, .07, 1.30, 0.8, 1.5, 1.0, (("es", .08), ("zh", .10), ("ko", .03), ("fr", .02)), .15),
    District("D02", "Eastside", 4.0, 0.5, .10, 0.60, 1.0, 1.1, 1.6, (("es", .25), ("ar", .02)), .35),
    District("D03", "Westside", -4.0, 0.0, .10, 0.55, 1.1, 1.0, 1.8, (("es", .04), ("fr", .03)), .20),
    District("D04", "Northwood", 1.0, 6.0, .09, 1.20, 1.3, 0.9, 0.8, (("ko", .06), ("zh", .04)), .25),
    District("D05", "Highlandtown", 5.0, -1.5, .09, 0.80, 0.9, 1.2, 1.2, (("es", .35),), .40),
    District("D06", "Charles Village", 0.5, 3.0, .08, 1.00, 0.7, 1.7, 0.9, (("zh", .12), ("ko", .05), ("es", .05)), .30),
    District("D07", "Roland Park", -1.0, 8.0, .06, 2.00, 1.4, 0.8, 0.6, (("fr", .02), ("es", .03)), .10),
    District("D08", "Cherry Hill", -1.5, -5.0, .08, 0.50, 0.9, 1.1, 2.0, (("es", .05),), .20),
    District("D09", "Canton", 3.0, -3.5, .07, 1.50, 0.8, 1.3, 0.7, (("es", .06), ("ru", .03)), .15),
    District("D10", "Hamilton", 7.0, 6.0, .08, 1.00, 1.3, 0.9, 1.0, (("ru", .08), ("ar", .04), ("es", .05)), .35),
    District("D11", "Edmondson", -7.0, 1.0, .09, 0.60, 1.2, 1.0, 1.7, (("es", .05), ("ar", .06)), .30),
    District("D12", "Pimlico", -3.0, 6.0, .09, 0.65, 1.1, 1.0, 1.5, (("ru", .10), ("ko", .03), ("es", .04)), .30),
)

#: Adult age bands [lo, hi) and their population shares before the district multipliers.
AGE_BANDS = ((18, 25, .12), (25, 35, .18), (35, 45, .16), (45, 55, .15), (55, 65, .16),
             (65, 75, .13), (75, 85, .07), (85, 96, .03))
#: Employment mix per age group (columns follow EMPLOYMENT), before disability/district modifiers.
EMPLOYMENT_BY_AGE = (
    (25, (.50, .12, .00, .35, .03)),
    (55, (.80, .08, .01, .06, .05)),
    (65, (.62, .06, .22, .01, .09)),
    (75, (.20, .02, .75, .00, .03)),
    (200, (.04, .00, .94, .00, .02)),
)
#: Median monthly income (USD) per employment status, before district/age factors; lognormal sigma.
MEDIAN_INCOME = (3600.0, 500.0, 1800.0, 800.0, 1000.0)
INCOME_SIGMA = (0.60, 0.70, 0.50, 0.60, 0.45)
ZERO_INCOME = (0.0, 0.20, 0.0, 0.15, 0.0)
#: Extra household members (Poisson mean) per age group.
HOUSEHOLD_EXTRA = ((25, 1.6), (35, 1.5), (45, 2.2), (55, 1.7), (65, 0.9), (80, 0.6), (200, 0.35))
#: Share of written cells left empty, per column (latitude and longitude are blanked together).
MISSING = {
    "age": .05, "gender": .03, "district": .02, "household_size": .06, "monthly_income": .10,
    "employment_status": .04, "disability": .06, "languages": .03, "needs": .03, "latlon": .05,
}
LOW_INCOME = 1500.0
VERY_LOW_INCOME = 700.0


@dataclass
class DistrictSet:
    """Districts of one city: codes, attributes and centroids in degrees."""

    districts: tuple[District, ...]
    lat0: float = CITY_LAT
    lon0: float = CITY_LON
    #: km of the default city per km here; distances are divided by it so that utilities mean the
    #: same in a small town and in a county-wide catalogue.
    scale: float = 1.0
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    #: language -> share in every district, for languages a foreign catalogue adds
    extra_language_share: float = 0.01

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.districts]

    @property
    def km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LAT * math.cos(math.radians(self.lat0))

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        east = np.array([d.east_km for d in self.districts]) * self.scale
        north = np.array([d.north_km for d in self.districts]) * self.scale
        return self.lat0 + north / KM_PER_DEG_LAT, self.lon0 + east / self.km_per_deg_lon

    def to_km(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Planar (east, north) km from the centre, divided by ``scale``."""
        return ((lon - self.lon0) * self.km_per_deg_lon / self.scale,
                (lat - self.lat0) * KM_PER_DEG_LAT / self.scale)

    def language_mix(self) -> np.ndarray:
        """(districts x languages) share of residents speaking each second language."""
        mix = np.zeros((len(self.districts), len(self.languages)))
        col = {lang: j for j, lang in enumerate(self.languages)}
        for i, d in enumerate(self.districts):
            for lang, share in d.languages:
                if lang in col:
                    mix[i, col[lang]] = share
            for lang in self.languages:
                if lang not in DEFAULT_LANGUAGES:
                    mix[i, col[lang]] = self.extra_language_share
        return mix


def default_districts() -> DistrictSet:
    return DistrictSet(DEFAULT_DISTRICTS)


@dataclass
class Population:
    """Latent (complete) profiles, one entry per resident."""

    age: np.ndarray            # int16, 18-95
    gender: np.ndarray         # int8 index into GENDERS
    district: np.ndarray       # int16 index into DistrictSet.districts
    household: np.ndarray      # int8, 1-10
    has_kids: np.ndarray       # bool (hidden: not written, drives childcare needs)
    employment: np.ndarray     # int8 index into EMPLOYMENT
    income: np.ndarray         # float32 monthly USD
    disability: np.ndarray     # bool
    english: np.ndarray        # bool: speaks English
    second: np.ndarray         # int8 index into DistrictSet.languages, -1 for none
    lat: np.ndarray            # float64
    lon: np.ndarray            # float64

    def __len__(self) -> int:
        return len(self.age)

    def subset(self, rows: slice) -> "Population":
        return Population(**{k: v[rows] for k, v in self.__dict__.items()})

    def speaks(self, n_languages: int) -> np.ndarray:
        """(residents x (1 + languages)) float32: column 0 English, then DistrictSet.languages."""
        out = np.zeros((len(self), 1 + n_languages), dtype=np.float32)
        out[:, 0] = self.english
        has = self.second >= 0
        out[np.flatnonzero(has), 1 + self.second[has]] = 1.0
        return out

    def features(self) -> np.ndarray:
        """(residents x FEATURES) float32 indicators the need propensities are linear in."""
        f = np.empty((len(self), len(FEATURES)), dtype=np.float32)
        f[:, 0] = 1.0
        f[:, 1] = self.income < LOW_INCOME
        f[:, 2] = self.income < VERY_LOW_INCOME
        f[:, 3] = self.employment == UNEMPLOYED
        f[:, 4] = self.employment == STUDENT
        f[:, 5] = self.employment == RETIRED
        f[:, 6] = self.employment == UNABLE
        f[:, 7] = self.has_kids
        f[:, 8] = self.age >= 65
        f[:, 9] = self.age >= 80
        f[:, 10] = self.age < 25
        f[:, 11] = self.disability
        f[:, 12] = ~self.english
        f[:, 13] = self.english & (self.second >= 0)
        f[:, 14] = self.household >= 4
        f[:, 15] = self.household == 1
        return f


def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows x k) probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _by_age(age: np.ndarray, table) -> np.ndarray:
    """Row of ``table`` ((upper bound, value) pairs, ascending) for each age."""
    bounds = np.array([b for b, _ in table])
    return np.searchsorted(bounds, age, side="right")


def synthesise_population(n: int, districts: DistrictSet, rng: np.random.Generator) -> Population:
    """Draw ``n`` complete latent profiles (see the model in :mod:`training.generate`)."""
    ds = districts.districts
    weights = np.array([d.weight for d in ds])
    district = rng.choice(len(ds), size=n, p=weights / weights.sum()).astype(np.int16)

    # Age: banded pyramid, reweighted per district (older / younger neighbourhoods).
    lo = np.array([b[0] for b in AGE_BANDS])
    hi = np.array([b[1] for b in AGE_BANDS])
    band_w = np.array([b[2] for b in AGE_BANDS])
    elder = np.array([d.elder for d in ds])[:, None] * (lo >= 65)
    young = np.array([d.young for d in ds])[:, None] * (lo < 35)
    per_district = band_w * np.where(lo >= 65, elder, 1.0) * np.where(lo < 35, young, 1.0)
    band = _categorical(rng, per_district[district])
    age = (lo[band] + rng.random(n) * (hi[band] - lo[band])).astype(np.int16)

    old = np.clip((age - 60) / 30.0, 0.0, 1.0)
    p_female = 0.51 + 0.14 * old
    u = rng.random(n)
    gender = np.where(u < p_female, 0, np.where(u < 0.99, 1, 2)).astype(np.int8)

    income_mult = np.array([d.income for d in ds])[district]
    poor = income_mult < 0.8
    p_dis = np.minimum(0.7, (0.04 + 0.42 * ((age - 18) / 77.0) ** 2) * np.where(poor, 1.3, 1.0))
    disability = rng.random(n) < p_dis

    extra = np.array([v for _, v in HOUSEHOLD_EXTRA])[_by_age(age, HOUSEHOLD_EXTRA)]
    household = np.minimum(1 + rng.poisson(extra), 10).astype(np.int8)
    p_kids = np.where((age >= 20) & (age <= 55) & (household >= 2),
                      np.clip(0.15 + 0.22 * (household - 2), 0, 0.9), 0.0)
    p_kids = np.where((age >= 56) & (household >= 3), 0.15, p_kids)  # grandparents raising children
    has_kids = rng.random(n) < p_kids

    emp_p = np.array([p for _, p in EMPLOYMENT_BY_AGE])[_by_age(age, EMPLOYMENT_BY_AGE)]
    emp_p[:, UNEMPLOYED] *= np.array([d.unemployment for d in ds])[district]
    working_age_disabled = disability & (age < 65)
    emp_p[:, UNABLE] *= np.where(working_age_disabled, 8.0, 1.0)
    emp_p[:, EMPLOYED] *= np.where(disability, 0.5, 1.0)
    employment = _categorical(rng, emp_p).astype(np.int8)

    median = np.array(MEDIAN_INCOME)[employment] * income_mult
    prime = 0.75 + 0.45 * np.exp(-(((age - 48) / 14.0) ** 2))
    median = median * np.where(employment == EMPLOYED, prime, 1.0)
    sigma = np.array(INCOME_SIGMA)[employment]
    income = median * np.exp(sigma * rng.standard_normal(n))
    income = np.where(rng.random(n) < np.array(ZERO_INCOME)[employment], 0.0, income)
    income = (np.round(income / 10.0) * 10.0).astype(np.float32)

    mix = districts.language_mix()[district]
    none = np.maximum(1.0 - mix.sum(axis=1), 0.0)
    pick = _categorical(rng, np.column_stack([none, mix]))
    second = (pick - 1).astype(np.int8)
    non_english = np.array([d.non_english for d in ds])[district] * np.where(age >= 60, 1.5, 1.0)
    english = ~((second >= 0) & (rng.random(n) < np.minimum(non_english, 0.9)))

    clat, clon = districts.centroids()
    sd_km = 1.2 * districts.scale
    lat = clat[district] + rng.standard_normal(n) * sd_km / KM_PER_DEG_LAT
    lon = clon[district] + rng.standard_normal(n) * sd_km / districts.km_per_deg_lon
    return Population(age=age, gender=gender, district=district, household=household,
                      has_kids=has_kids, employment=employment, income=income,
                      disability=disability, english=english, second=second, lat=lat, lon=lon)


def residents_table(pop: Population, ids: pa.Array, districts: DistrictSet, needs: pa.Array,
                    rng: np.random.Generator) -> pa.Table:
    """The written residents table: contract columns, with ``MISSING`` shares of cells left empty."""
    n = len(pop)

    def blank(name: str) -> np.ndarray:
        return rng.random(n) < MISSING[name]

    def strings(vocab, idx: np.ndarray, mask: np.ndarray) -> pa.Array:
        return pc.take(pa.array(list(vocab), pa.string()), pa.array(idx, mask=mask))

    langs = pa.array(["en", *districts.languages], pa.string())
    second = pc.take(langs, pa.array(pop.second.astype(np.int64) + 1, mask=pop.second < 0))
    english = pc.if_else(pa.array(pop.english), pa.scalar("en"), pa.scalar(None, pa.string()))
    languages = pc.binary_join_element_wise(english, second, ";", null_handling="skip")
    languages = pc.if_else(pa.array(blank("languages")), pa.scalar(None, pa.string()), languages)
    needs = pc.if_else(pa.array(blank("needs")), pa.scalar(None, pa.string()), needs)
    latlon = blank("latlon")
    codes = [d.code for d in districts.districts]
    return pa.table({
        "resident_id": ids,
        "age": pa.array(pop.age.astype(np.int64), mask=blank("age")),
        "gender": strings(GENDERS, pop.gender, blank("gender")),
        "district": strings(codes, pop.district, blank("district")),
        "household_size": pa.array(pop.household.astype(np.int64), mask=blank("household_size")),
        "monthly_income": pa.array(pop.income.astype(np.int64), mask=blank("monthly_income")),
        "employment_status": strings(EMPLOYMENT, pop.employment, blank("employment_status")),
        "disability": pa.array(pop.disability, mask=blank("disability")),
        "languages": languages,
        "needs": needs,
        "latitude": pa.array(np.round(pop.lat, 5), mask=latlon),
        "longitude": pa.array(np.round(pop.lon, 5), mask=latlon),
    })
