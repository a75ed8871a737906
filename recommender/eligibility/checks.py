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


@dataclass
class CheckContext:
    catalog: Any  # recommender.catalog.ServiceCatalog (not imported: the catalogue builds on this package's data)
    profile: Profile
    status: np.ndarray
    capacity: np.ndarray


class Check(Protocol):
    name: str

    def vector(self, ctx: CheckContext) -> np.ndarray:
        """int8 per service: an Outcome value (ELIGIBLE also where the check does not apply)."""
        ...

    def explain(self, ctx: CheckContext, i: int) -> tuple[int, str | None, str | None]:
        """(outcome, reason in words, question to ask) for service ``i``; reason None when not applicable."""
        ...


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


class StatusCheck:
    name = "status"

    def vector(self, ctx):
        return np.where(ctx.status == "active", PASS, FAIL).astype(np.int8)

    def explain(self, ctx, i):
        s = ctx.status[i]
        return (PASS, None, None) if s == "active" else (FAIL, f"service is {s}", None)


class CapacityCheck:
    name = "capacity"

    def vector(self, ctx):
        return np.where(ctx.capacity == 0, FAIL, PASS).astype(np.int8)

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
        cat, age = ctx.catalog, ctx.profile.age
        applies = ~np.isnan(cat.min_age) | ~np.isnan(cat.max_age)
        if age is None:
            return np.where(applies, UNK, PASS).astype(np.int8)
        with np.errstate(invalid="ignore"):
            fail = (age < cat.min_age) | (age > cat.max_age)
        return np.where(fail, FAIL, PASS).astype(np.int8)

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
        cat, d = ctx.catalog, ctx.profile.district
        if d is None:
            return np.where(cat.districts_any, PASS, UNK).astype(np.int8)
        ok = cat.districts_any | cat.serving("districts", d)
        return np.where(ok, PASS, FAIL).astype(np.int8)

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
        cat, langs = ctx.catalog, ctx.profile.languages
        if not langs:
            return np.where(cat.languages_any, PASS, UNK).astype(np.int8)
        return np.where(cat.speaks_any(langs), PASS, FAIL).astype(np.int8)

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
        cat, inc = ctx.catalog, ctx.profile.monthly_income
        applies = ~np.isnan(cat.max_income)
        if inc is None:
            return np.where(applies, UNK, PASS).astype(np.int8)
        with np.errstate(invalid="ignore"):
            fail = inc > cat.max_income
        return np.where(fail, FAIL, PASS).astype(np.int8)

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
