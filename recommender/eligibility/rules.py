"""Eligibility rules read from listing text, and how a resident's profile is checked against them.

A listing's rules are a disjunction of clauses: every rule of a clause must hold, and the listing is
open to the resident when at least one clause holds. ``Rule.clause`` numbers the clause a rule
belongs to; most listings have a single clause 0. "Children up to age 19, and pregnant women of any
age" is two clauses (``max_age=19`` | ``pregnant``), so a pregnant 30-year-old is not turned away by
the children's age limit.

``check_rules`` gives one ``RuleOutcome`` per rule: ``eligible`` with the reason in plain words,
``unknown`` with the question a caseworker should ask, or ``ineligible`` with the reason.
``summarise`` folds the outcomes over the clauses into the listing's status.

Income limits use the HHS poverty guidelines for the 48 contiguous states and DC, of the year in
``POVERTY_GUIDELINE_YEAR``. A qualitative "low income" limit has no number: it is ``eligible`` when
the household is at or below 100% of the guideline (low income under every programme's definition),
and otherwise ``unknown`` with a question, never ``ineligible`` (programmes define "low income"
anywhere from 130% of the poverty guideline to 80% of area median income).

The compact label form (``format_rules`` / ``parse_label``) is ``kind=value`` items joined by ``;``
within a clause and clauses joined by ``|``, e.g. ``max_age=19;income_limit=low income|pregnant``.
Status kinds are written bare (``veteran``); income values as ``fpl:200``, ``monthly:2000``,
``annual:40000``, ``annual:41300@1,47200@2`` (annual limits by household size), ``ami:80`` or
``low income``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .fields import flag as flag_of, gender as gender_of, number
from .outcome import Outcome
from .places import Gazetteer, gazetteer

ELIGIBLE, UNKNOWN, INELIGIBLE = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE

#: Status kinds: the listing requires the resident to be (a veteran, homeless, ...). Value ``True``.
STATUS_KINDS = ("veteran", "homeless", "pregnant", "disability", "student", "caregiver", "hiv", "in_recovery",
                "referral")
#: ``excludes``: the listing cannot serve residents of a status ("(cannot help the homeless)"); value a status kind
KINDS = ("min_age", "max_age", "gender", "residency", "income_limit") + STATUS_KINDS + ("excludes",)
GENDERS = ("female", "male")
LOW_INCOME = "low income"

#: HHS poverty guidelines, 48 contiguous states and DC, annual dollars.
POVERTY_GUIDELINE_YEAR = 2024
POVERTY_GUIDELINE_FIRST_PERSON = 15_060
POVERTY_GUIDELINE_EACH_EXTRA_PERSON = 5_380

_STATUS_QUESTIONS = {
    "veteran": "Is the resident a veteran?",
    "homeless": "Is the resident currently homeless?",
    "pregnant": "Is the resident pregnant?",
    "disability": "Does the resident have a disability?",
    "student": "Is the resident enrolled as a student?",
    "caregiver": "Is the resident a caregiver for someone else?",
    "hiv": "Is the resident living with HIV?",
    "in_recovery": "Is the resident in recovery from substance use (in or after treatment)?",
    "referral": "Does the resident have the referral this service requires?",
}
_STATUS_WORDS = {
    "veteran": "a veteran", "homeless": "homeless", "pregnant": "pregnant",
    "disability": "a person with a disability", "student": "a student", "caregiver": "a caregiver",
    "hiv": "living with HIV", "in_recovery": "in recovery from substance use",
    "referral": "referred by an agency",
}


@dataclass(frozen=True)
class Rule:
    """One eligibility condition read from a listing.

    ``value``: an int age for ``min_age``/``max_age``; ``'female'``/``'male'`` for ``gender``; a
    normalised area name (``'baltimore city'``, ``'maryland'``) or a 5-digit ZIP for ``residency``;
    for ``income_limit`` a dict (``{'fpl_percent': 200}``, ``{'monthly': 2000}``,
    ``{'annual': 40000}``, ``{'annual_by_household_size': ((1, 41300), (2, 47200))}``,
    ``{'ami_percent': 80}``) or the string ``'low income'``; ``True`` for the status kinds. ``span``
    is the (start, end) offset of ``text``, the listing's own words the rule came from. Each rule is
    checked on its own (no rule depends on another), so callers may check distinct rules once and
    share the outcome. Rules with a dict value compare by value but are not hashable.
    """

    kind: str
    value: Any
    span: tuple[int, int]
    text: str
    clause: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r} (expected one of {', '.join(KINDS)})")


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    status: Outcome
    #: why, in plain words ("age 67 meets '60+'")
    reason: str
    #: what to ask the resident when ``status`` is ``unknown``
    question: str | None = None


# ----------------------------------------------------------------------------- compact labels


def value_label(rule_or_kind, value=None) -> str:
    """The compact form of one rule (``min_age=18``, ``veteran``, ``income_limit=fpl:200``)."""
    if isinstance(rule_or_kind, Rule):
        kind, value = rule_or_kind.kind, rule_or_kind.value
    else:
        kind = rule_or_kind
    if kind in STATUS_KINDS:
        return kind
    if kind == "income_limit" and isinstance(value, Mapping):
        if "annual_by_household_size" in value:
            rows = ",".join(f"{_num_text(limit)}@{int(size)}" for size, limit in value["annual_by_household_size"])
            return f"{kind}=annual:{rows}"
        if "fpl_percent" in value:
            text = f"fpl:{_num_text(value['fpl_percent'])}"
        elif "ami_percent" in value:
            text = f"ami:{_num_text(value['ami_percent'])}"
        elif "monthly" in value:
            text = f"monthly:{_num_text(value['monthly'])}"
        else:
            text = f"annual:{_num_text(value['annual'])}"
        return f"{kind}={text}"
    return f"{kind}={value}"


def format_rules(rules: Iterable[Rule]) -> str:
    """Rules in the compact label form: clauses joined by ``|``, rules by ``;`` (duplicates dropped)."""
    clauses: dict[int, list[str]] = {}
    for rule in rules:
        items = clauses.setdefault(rule.clause, [])
        key = value_label(rule)
        if key not in items:
            items.append(key)
    return "|".join(";".join(items) for _, items in sorted(clauses.items()))


_LABEL_INCOME = re.compile(r"^(fpl|ami|monthly|annual):(\d+(?:\.\d+)?)$")
_LABEL_TABLE = re.compile(r"^annual:(\d+(?:\.\d+)?@\d+(?:,\d+(?:\.\d+)?@\d+)*)$")


def parse_label(text: str) -> list[list[str]]:
    """Parse a compact label into clauses of canonical rule keys; raise ValueError naming the item.

    Empty text means no rules (``[]``). Whitespace around items is ignored.
    """
    text = (text or "").strip()
    if not text:
        return []
    clauses = []
    for part in text.split("|"):
        keys = []
        for item in part.split(";"):
            item = " ".join(item.split())
            if not item:
                continue
            key = _canonical_key(item)
            if key not in keys:
                keys.append(key)
        if not keys:
            raise ValueError(f"label {text!r}: empty clause between '|'")
        clauses.append(keys)
    return clauses


def _canonical_key(item: str) -> str:
    kind, sep, value = item.partition("=")
    kind, value = kind.strip(), value.strip()
    if kind not in KINDS:
        raise ValueError(f"label item {item!r}: unknown kind {kind!r}")
    if kind in STATUS_KINDS:
        if sep:
            raise ValueError(f"label item {item!r}: status kind {kind!r} takes no value")
        return kind
    if not value:
        raise ValueError(f"label item {item!r}: kind {kind!r} needs a value")
    if kind in ("min_age", "max_age"):
        if not value.isdigit():
            raise ValueError(f"label item {item!r}: age must be a whole number")
        return f"{kind}={int(value)}"
    if kind == "excludes" and value not in STATUS_KINDS:
        raise ValueError(f"label item {item!r}: excludes takes a status kind ({', '.join(STATUS_KINDS)})")
    if kind == "gender" and value not in GENDERS:
        raise ValueError(f"label item {item!r}: gender must be one of {GENDERS}")
    if kind == "income_limit" and value != LOW_INCOME:
        table = _LABEL_TABLE.match(value.replace(" ", ""))
        if table:
            rows = sorted((int(size), float(limit)) for limit, size in
                          (row.split("@") for row in table.group(1).split(",")))
            return f"{kind}=annual:" + ",".join(f"{_num_text(limit)}@{size}" for size, limit in rows)
        m = _LABEL_INCOME.match(value)
        if not m:
            raise ValueError(f"label item {item!r}: income value must be 'low income', fpl:N, ami:N, "
                             "monthly:N, annual:N or annual:N@size,N@size")
        return f"{kind}={m.group(1)}:{_num_text(float(m.group(2)))}"
    return f"{kind}={value}"


def _num_text(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


# ----------------------------------------------------------------------------- checking


def poverty_guideline(household_size: int) -> int:
    """The annual poverty guideline (``POVERTY_GUIDELINE_YEAR``, 48 states and DC) for a household."""
    size = int(household_size)
    if size < 1:
        raise ValueError(f"household_size must be at least 1, got {household_size!r}")
    return POVERTY_GUIDELINE_FIRST_PERSON + POVERTY_GUIDELINE_EACH_EXTRA_PERSON * (size - 1)


def check_rules(rules: Iterable[Rule], profile: Mapping, places: Gazetteer | None = None) -> list[RuleOutcome]:
    """One outcome per rule for a resident profile (contract resident fields plus optional extras:
    ``veteran``, ``homeless``, ``pregnant``, ``student``, ``caregiver``, ``hiv``, ``zip``, ``area``,
    ``city``, ``county``, ``state``). Missing, None or NaN fields give ``unknown`` with a question;
    a malformed field raises ValueError naming it.
    """
    rules = list(rules)
    profile = profile or {}
    places = places or gazetteer()
    outcomes = []
    for rule in rules:
        if rule.kind in ("min_age", "max_age"):
            outcomes.append(_check_age(rule, profile))
        elif rule.kind == "gender":
            outcomes.append(_check_gender(rule, profile))
        elif rule.kind == "residency":
            outcomes.append(_check_residency(rule, profile, places))
        elif rule.kind == "income_limit":
            outcomes.append(_check_income(rule, profile))
        elif rule.kind == "excludes":
            outcomes.append(_check_exclusion(rule, profile))
        else:
            outcomes.append(_check_status(rule, profile))
    return outcomes


def _check_exclusion(rule: Rule, profile: Mapping) -> RuleOutcome:
    return _check_flag(rule, profile, rule.value, required=False)


def _fmt_age(age: float) -> str:
    return str(int(age)) if float(age).is_integer() else f"{age:g}"


def _check_age(rule: Rule, profile: Mapping) -> RuleOutcome:
    age = number(profile, "age")
    if age is None:
        return RuleOutcome(rule, UNKNOWN, f"'{rule.text}' needs the resident's age", "What is the resident's age?")
    shown = _fmt_age(age)
    if rule.kind == "min_age":
        if age >= rule.value:
            return RuleOutcome(rule, ELIGIBLE, f"age {shown} meets '{rule.text}'")
        return RuleOutcome(rule, INELIGIBLE, f"age {shown} is under the minimum age {rule.value} ('{rule.text}')")
    # Ages are whole years: someone aged 5.5 is still "up to age 5".
    if math.floor(age) <= rule.value:
        return RuleOutcome(rule, ELIGIBLE, f"age {shown} meets '{rule.text}'")
    return RuleOutcome(rule, INELIGIBLE, f"age {shown} is over the maximum age {rule.value} ('{rule.text}')")


def _check_gender(rule: Rule, profile: Mapping) -> RuleOutcome:
    gender = gender_of(profile)
    if gender is None:
        return RuleOutcome(rule, UNKNOWN, f"'{rule.text}' needs the resident's gender",
                           "What is the resident's gender?")
    if gender == rule.value:
        return RuleOutcome(rule, ELIGIBLE, f"gender {gender} meets '{rule.text}'")
    if gender in GENDERS:
        return RuleOutcome(rule, INELIGIBLE, f"the listing serves {rule.value} residents only ('{rule.text}')")
    return RuleOutcome(rule, UNKNOWN, f"gender '{gender}' cannot be matched to '{rule.text}'",
                       f"Does this {rule.value}-only service ('{rule.text}') accept the resident?")


def _check_status(rule: Rule, profile: Mapping) -> RuleOutcome:
    if rule.kind == "pregnant" and gender_of(profile) == "male":
        # a boy or a man is not asked whether he is pregnant
        return RuleOutcome(rule, INELIGIBLE, f"the listing serves pregnant residents ('{rule.text}')")
    return _check_flag(rule, profile, rule.kind, required=True)


def _check_flag(rule: Rule, profile: Mapping, status: str, required: bool) -> RuleOutcome:
    """A status the listing requires (``required``) or cannot serve ("cannot help the homeless")."""
    flag = flag_of(profile, status)
    words = _STATUS_WORDS[status]
    if flag is None:
        reason = (f"'{rule.text}' needs to know whether the resident is {words}" if required
                  else f"'{rule.text}': the listing cannot serve residents who are {words}")
        return RuleOutcome(rule, UNKNOWN, reason, _STATUS_QUESTIONS[status])
    if flag == required:
        return RuleOutcome(rule, ELIGIBLE, f"resident is {words}, as '{rule.text}' requires" if required
                           else f"resident is not {words} ('{rule.text}')")
    return RuleOutcome(rule, INELIGIBLE, f"resident is not {words} ('{rule.text}')" if required
                       else f"the listing cannot serve residents who are {words} ('{rule.text}')")


def _title(area: str) -> str:
    if area == "district of columbia":
        return "the District of Columbia"
    return " ".join(w if w in ("of",) else w[:1].upper() + w[1:] for w in area.split())


def _check_residency(rule: Rule, profile: Mapping, places: Gazetteer) -> RuleOutcome:
    area = str(rule.value)
    place = places.place(profile)
    quoted = f"'{rule.text}'"
    if re.fullmatch(r"\d{5}", area):
        if place.zip is None:
            return RuleOutcome(rule, UNKNOWN, f"{quoted} needs the resident's ZIP code", "What is the resident's ZIP code?")
        if place.zip == area:
            return RuleOutcome(rule, ELIGIBLE, f"ZIP code {place.zip} meets {quoted}")
        return RuleOutcome(rule, INELIGIBLE, f"ZIP code {place.zip} is not {area} ({quoted})")
    question = f"Does the resident live in {_title(area)}?"
    zip3 = int(place.zip[:3]) if place.zip else None
    home = places.home_state
    if area in places.states:
        inside = None
        if place.state is not None:
            inside = place.state == area
        elif place.county in places.counties or place.ambiguous_city:
            inside = area == home  # a county of the home state
        elif place.county is not None and area != home:
            inside = False  # a county somewhere: not a state (DC) of its own
        elif zip3 is not None and places.zip3.get(area):
            inside = places.in_state(area, zip3)
        if inside is None:
            return RuleOutcome(rule, UNKNOWN, f"{quoted} needs to know where the resident lives", question)
        if inside:
            return RuleOutcome(rule, ELIGIBLE, f"resident lives in {_title(area)}, as {quoted} requires")
        return RuleOutcome(rule, INELIGIBLE, f"resident does not live in {_title(area)} ({quoted})")
    if area in places.counties or area.endswith(" county"):
        if place.county is not None:
            if place.county == area:
                return RuleOutcome(rule, ELIGIBLE, f"resident lives in {_title(area)}, as {quoted} requires")
            return RuleOutcome(rule, INELIGIBLE, f"resident lives in {_title(place.county)}, not {_title(area)} ({quoted})")
        amb = places.ambiguous_city
        if place.ambiguous_city:
            if area in amb.get("areas", ()):
                a, b = (_title(x) for x in amb["areas"][:2])
                return RuleOutcome(rule, UNKNOWN, f"{quoted}: a '{_title(amb['name'])}' address can be in {a} or "
                                   f"{b}", f"Does the resident live in {a} or in {b}?")
            return RuleOutcome(rule, INELIGIBLE,
                               f"resident lives in or near {_title(amb['name'])}, not {_title(area)} ({quoted})")
        if area in places.counties and ((place.state is not None and place.state != home)
                                        or (zip3 is not None and not places.in_state(home, zip3))):
            return RuleOutcome(rule, INELIGIBLE,
                               f"resident does not live in {_title(home)}, so not in {_title(area)} ({quoted})")
        return RuleOutcome(rule, UNKNOWN, f"{quoted} needs the resident's county", question)
    # A neighbourhood or town: only a profile naming the same place can be matched; one in another
    # county (the gazetteer knows where it lies) cannot be the resident's.
    if area in place.names:
        return RuleOutcome(rule, ELIGIBLE, f"resident lives in {_title(area)}, as {quoted} requires")
    county = places.county_of(area)
    if county is not None and place.county is not None and county != place.county:
        return RuleOutcome(rule, INELIGIBLE, f"resident lives in {_title(place.county)}; {_title(area)} is in "
                           f"{_title(county)} ({quoted})")
    return RuleOutcome(rule, UNKNOWN, f"{quoted} cannot be matched to the resident's address", question)


def _money(x: float) -> str:
    return f"${x:,.0f}"


def _check_income(rule: Rule, profile: Mapping) -> RuleOutcome:
    value = rule.value
    quoted = f"'{rule.text}'"
    monthly = number(profile, "monthly_income")
    size = number(profile, "household_size")
    ask_income = "What is the household's monthly income?"
    ask_size = "How many people are in the resident's household?"
    if isinstance(value, Mapping) and "ami_percent" in value:
        pct = _num_text(value["ami_percent"])
        return RuleOutcome(rule, UNKNOWN, f"{quoted} is measured against area median income, not held here",
                           f"Is the household income at or below {pct}% of the area median income?")
    table = dict(value["annual_by_household_size"]) if isinstance(value, Mapping) and \
        "annual_by_household_size" in value else None
    if table is not None:
        if size is None:
            return RuleOutcome(rule, UNKNOWN, f"{quoted} depends on household size", ask_size)
        if int(size) not in table:
            return RuleOutcome(rule, UNKNOWN, f"the listing gives no income limit for a household of {int(size)}",
                               f"What is the listing's income limit for a household of {int(size)}?")
    if monthly is None:
        return RuleOutcome(rule, UNKNOWN, f"{quoted} needs the household's income", ask_income)
    annual = monthly * 12
    if value == LOW_INCOME:
        if size is None:
            return RuleOutcome(rule, UNKNOWN, f"{quoted} needs the household size to compare income with the "
                               "poverty guideline", ask_size)
        guideline = poverty_guideline(int(size))
        if annual <= guideline:
            return RuleOutcome(rule, ELIGIBLE, f"annual income {_money(annual)} is at or below the "
                               f"{POVERTY_GUIDELINE_YEAR} poverty guideline for {int(size)} ({_money(guideline)}), "
                               f"low income by any definition ({quoted})")
        return RuleOutcome(rule, UNKNOWN, f"annual income {_money(annual)} is above the poverty guideline; "
                           f"{quoted} gives no number",
                           f"Does the household count as low income under this listing's guidelines ({quoted})?")
    if "fpl_percent" in value:
        if size is None:
            return RuleOutcome(rule, UNKNOWN, f"{quoted} depends on household size", ask_size)
        pct = float(value["fpl_percent"])
        limit = pct / 100.0 * poverty_guideline(int(size))
        words = (f"annual income {_money(annual)} against {_num_text(pct)}% of the {POVERTY_GUIDELINE_YEAR} "
                 f"poverty guideline for {int(size)} ({_money(limit)})")
        if annual <= limit:
            return RuleOutcome(rule, ELIGIBLE, f"{words} meets {quoted}")
        return RuleOutcome(rule, INELIGIBLE, f"{words} is over the limit ({quoted})")
    if table is not None:
        limit, income, period = float(table[int(size)]), annual, f"annual (household of {int(size)})"
    elif "monthly" in value:
        limit, income, period = float(value["monthly"]), monthly, "monthly"
    else:
        limit, income, period = float(value["annual"]), annual, "annual"
    words = f"{period} income {_money(income)} against the limit {_money(limit)}"
    if income <= limit:
        return RuleOutcome(rule, ELIGIBLE, f"{words} meets {quoted}")
    return RuleOutcome(rule, INELIGIBLE, f"{words} is over the limit ({quoted})")


def listing_status(outcomes: Iterable[RuleOutcome]) -> Outcome:
    """The listing's status from its rule outcomes: ``eligible`` when some clause has every rule
    eligible, ``ineligible`` when every clause has a failed rule, else ``unknown``. No rules: eligible.
    """
    return summarise(outcomes)[0]


def summarise(outcomes: Iterable[RuleOutcome]) -> tuple[Outcome, list[str], list[str]]:
    """(status, reasons, questions) for a listing.

    ``reasons``: for ``eligible`` the reasons of the first satisfied clause; for ``ineligible`` why
    each clause failed; for ``unknown`` the checks that passed in the clauses still open.
    ``questions``: for ``unknown``, what to ask to settle the clauses still open (deduplicated).
    """
    clauses: dict[int, list[RuleOutcome]] = {}
    for outcome in outcomes:
        clauses.setdefault(outcome.rule.clause, []).append(outcome)
    if not clauses:
        return ELIGIBLE, [], []

    def status_of(items):
        if any(o.status == INELIGIBLE for o in items):
            return INELIGIBLE
        if any(o.status == UNKNOWN for o in items):
            return UNKNOWN
        return ELIGIBLE

    statuses = {k: status_of(v) for k, v in clauses.items()}
    for k in sorted(clauses):
        if statuses[k] == ELIGIBLE:
            return ELIGIBLE, _dedup(o.reason for o in clauses[k]), []
    open_clauses = [k for k in sorted(clauses) if statuses[k] == UNKNOWN]
    if not open_clauses:
        return INELIGIBLE, _dedup(o.reason for k in sorted(clauses) for o in clauses[k] if o.status == INELIGIBLE), []
    reasons = _dedup(o.reason for k in open_clauses for o in clauses[k] if o.status == ELIGIBLE)
    questions = _dedup(o.question for k in open_clauses for o in clauses[k] if o.status == UNKNOWN and o.question)
    return UNKNOWN, reasons, questions


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
