"""The structured checks: status, capacity, age, district, language and income, each vectorised over
the whole catalogue (they run on every request); the readable reasons are produced only for the
services shown. A check answers per service an :class:`Outcome`: ELIGIBLE (also where it does not
apply), UNKNOWN (a profile field is missing: the service stays, with the question to ask) or
INELIGIBLE (removed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from recommender.profile import Profile

from .outcome import Outcome

PASS, UNK, FAIL = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE


def _outcome(fail: np.ndarray, code: int = FAIL) -> np.ndarray:
    """int8 outcomes: ``code`` where ``fail``, ELIGIBLE elsewhere."""
    return fail.view(np.int8) * np.int8(code)


class CatalogColumns:
    """What the structured checks read of a catalogue, as arrays ready to compare with one profile:
    missing limits as infinities, the outcomes that do not depend on the profile worked out in
    advance. Built once per catalogue (a served model keeps one; ``evaluate`` builds one when not
    given), so checking a profile is a few vectorised comparisons."""

    def __init__(self, catalog):
        self.catalog = catalog
        self.status = catalog.status
        self.capacity = catalog.capacity
        self.status_outcome = self.status_vector(catalog.status)
        self.capacity_outcome = self.capacity_vector(catalog.capacity)
        lo, hi, limit = catalog.min_age, catalog.max_age, catalog.max_income
        self.age_min = np.where(np.isnan(lo), -np.inf, lo)
        self.age_max = np.where(np.isnan(hi), np.inf, hi)
        self.age_unknown = _outcome(~np.isnan(lo) | ~np.isnan(hi), UNK)
        self.income_limit = np.where(np.isnan(limit), np.inf, limit)
        self.income_unknown = _outcome(~np.isnan(limit), UNK)
        self.district_unknown = _outcome(~catalog.districts_any, UNK)
        self.district_none = _outcome(~catalog.districts_any)
        self.language_unknown = _outcome(~catalog.languages_any, UNK)
        self.language_none = _outcome(~catalog.languages_any)
        self._districts = {v for vs in catalog.lists["districts"] for v in vs}
        self._languages = {v for vs in catalog.lists["languages"] for v in vs}
        #: outcome per district / language a listing names (filled as profiles ask)
        self._by_district: dict[str, np.ndarray] = {}
        self._by_language: dict[str, np.ndarray] = {}
        #: check class -> per service, True where the check has nothing to say whatever the profile
        #: (no limit of its kind): ``Eligibility.details`` skips it there
        self.silent: dict[type, list[bool]] = {
            AgeCheck: (np.isnan(lo) & np.isnan(hi)).tolist(), DistrictCheck: catalog.districts_any.tolist(),
            LanguageCheck: catalog.languages_any.tolist(), IncomeCheck: np.isnan(limit).tolist()}
        for a in (self.status_outcome, self.capacity_outcome, self.age_unknown, self.income_unknown,
                  self.district_unknown, self.district_none, self.language_unknown, self.language_none):
            a.flags.writeable = False

    @staticmethod
    def status_vector(status: np.ndarray) -> np.ndarray:
        return _outcome(status != "active")

    @staticmethod
    def capacity_vector(capacity: np.ndarray) -> np.ndarray:
        return _outcome(capacity == 0)

    def district(self, d: str) -> np.ndarray:
        """Outcomes for a resident of district ``d`` (read-only)."""
        if d not in self._districts:
            return self.district_none
        out = self._by_district.get(d)
        if out is None:
            out = _outcome(~(self.catalog.districts_any | self.catalog.serving("districts", d)))
            out.flags.writeable = False
            self._by_district[d] = out
        return out

    def language(self, lang: str) -> np.ndarray:
        """Outcomes for a resident who speaks ``lang`` (read-only)."""
        if lang not in self._languages:
            return self.language_none
        out = self._by_language.get(lang)
        if out is None:
            out = _outcome(~self.catalog.speaks_any([lang]))
            out.flags.writeable = False
            self._by_language[lang] = out
        return out


@dataclass
class CheckContext:
    catalog: Any  # recommender.catalog.ServiceCatalog (not imported: the catalogue builds on this package's data)
    profile: Profile
    status: np.ndarray
    capacity: np.ndarray
    #: the catalogue's :class:`CatalogColumns` (built here when not given)
    columns: CatalogColumns | None = None

    def __post_init__(self) -> None:
        if self.columns is None:
            self.columns = CatalogColumns(self.catalog)


class Check(Protocol):
    name: str

    def vector(self, ctx: CheckContext) -> np.ndarray:
        """int8 per service: an Outcome value (ELIGIBLE also where the check does not apply); may be
        a read-only array shared between calls."""
        ...

    def explain(self, ctx: CheckContext, i: int) -> tuple[int, str | None, str | None]:
        """(outcome, reason in words, question to ask) for service ``i``; reason None when not applicable."""
        ...


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


class StatusCheck:
    name = "status"

    def vector(self, ctx):
        c = ctx.columns
        return c.status_outcome if ctx.status is c.status else c.status_vector(ctx.status)

    def explain(self, ctx, i):
        s = ctx.status[i]
        return (PASS, None, None) if s == "active" else (FAIL, f"service is {s}", None)


class CapacityCheck:
    name = "capacity"

    def vector(self, ctx):
        c = ctx.columns
        return c.capacity_outcome if ctx.capacity is c.capacity else c.capacity_vector(ctx.capacity)

    def explain(self, ctx, i):
        c = ctx.capacity[i]
        if math.isnan(c):
            return PASS, None, None
        if c == 0:
            return FAIL, "no open places", None
        return PASS, f"{_fmt(c)} open places", None


class AgeCheck:
    name = "age"

    def vector(self, ctx):
        c, age = ctx.columns, ctx.profile.age
        if age is None:
            return c.age_unknown
        fail = c.age_min > age
        fail |= c.age_max < age
        return _outcome(fail)

    def explain(self, ctx, i):
        lo, hi = ctx.catalog.min_age[i], ctx.catalog.max_age[i]
        if math.isnan(lo) and math.isnan(hi):
            return PASS, None, None
        rule = (f"ages {_fmt(lo)}-{_fmt(hi)}" if not math.isnan(lo) and not math.isnan(hi)
                else f"ages {_fmt(lo)} and over" if not math.isnan(lo) else f"ages up to {_fmt(hi)}")
        age = ctx.profile.age
        if age is None:
            return UNK, f"serves {rule}; age not given", "What is the resident's age?"
        ok = not (age < lo or age > hi)
        return (PASS if ok else FAIL), f"age {_fmt(age)} {'meets' if ok else 'outside'} {rule}", None


class DistrictCheck:
    name = "district"

    def vector(self, ctx):
        d = ctx.profile.district
        return ctx.columns.district_unknown if d is None else ctx.columns.district(d)

    def explain(self, ctx, i):
        areas = ctx.catalog.lists["districts"][i]
        if not areas:
            return PASS, None, None
        names = ", ".join(a.upper() if len(a) <= 4 else a for a in areas)
        d = ctx.profile.district
        if d is None:
            return UNK, f"serves {names} only; district not given", "Which district does the resident live in?"
        ok = d in areas
        return (PASS if ok else FAIL), f"lives in {d.upper() if len(d) <= 4 else d}, {'served' if ok else 'not served'} (serves {names})", None


class LanguageCheck:
    name = "language"

    def vector(self, ctx):
        c, langs = ctx.columns, ctx.profile.languages
        if not langs:
            return c.language_unknown
        out = c.language(langs[0])
        for lang in langs[1:]:  # speaking any one of the listing's languages is enough
            out = np.minimum(out, c.language(lang))
        return out

    def explain(self, ctx, i):
        offered = ctx.catalog.lists["languages"][i]
        if not offered:
            return PASS, None, None
        langs = ctx.profile.languages
        if not langs:
            return UNK, f"offered in {', '.join(offered)}; languages not given", "Which languages does the resident speak?"
        shared = [lang for lang in langs if lang in offered]
        if shared:
            return PASS, f"offered in {', '.join(shared)}, which the resident speaks", None
        return FAIL, f"offered only in {', '.join(offered)}", None


class IncomeCheck:
    name = "income"

    def vector(self, ctx):
        c, inc = ctx.columns, ctx.profile.monthly_income
        if inc is None:
            return c.income_unknown
        return _outcome(c.income_limit < inc)

    def explain(self, ctx, i):
        limit = ctx.catalog.max_income[i]
        if math.isnan(limit):
            return PASS, None, None
        inc = ctx.profile.monthly_income
        if inc is None:
            return UNK, f"income limit {_fmt(limit)}/month; income not given", "What is the resident's monthly income?"
        ok = inc <= limit
        return (PASS if ok else FAIL), f"monthly income {_fmt(inc)} {'within' if ok else 'above'} limit {_fmt(limit)}", None


STRUCTURED_CHECKS: tuple[Check, ...] = (
    StatusCheck(), CapacityCheck(), AgeCheck(), DistrictCheck(), LanguageCheck(), IncomeCheck())
