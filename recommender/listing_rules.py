"""Rules read from each listing's eligibility text, applied like the structured fields.

``recommender.eligibility_text.extract_rules`` turns "Homeless women, 18 and older" into rules;
``recommender.eligibility_rules.check_rules`` checks one profile against them. This module makes that
a :class:`recommender.eligibility.Check` fast enough for every request: a catalogue of thousands of
listings holds only a few hundred *distinct* rules (ages, areas, income limits, statuses), so each
distinct rule is checked once per request and the outcomes are folded per listing with array
reductions: a clause fails if any of its rules fails (max), a listing passes if any clause passes (min).

Structured data wins: a text rule of a kind the listing already states in a column (``min_age``,
``max_age``, ``max_income``, ``districts``) is left out, so a listing is never checked twice on the
same thing, nor against a sloppier reading of it.
"""
from __future__ import annotations

import math

import numpy as np

from .eligibility import FAIL, PASS, UNK, CheckContext
from .eligibility_rules import Rule, check_rules, summarise
from .eligibility_text import extract_rules
from .results import ELIGIBLE, INELIGIBLE

_CODE = {ELIGIBLE: PASS, INELIGIBLE: FAIL}


def _covered(kind: str, rec: dict) -> bool:
    """Whether the listing's structured columns already state a rule of this kind."""
    def has(col):
        v = rec.get(col)
        return v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))

    return {"min_age": has("min_age"), "max_age": has("max_age"), "income_limit": has("max_income"),
            "residency": has("districts")}.get(kind, False)


def _key(rule: Rule) -> tuple:
    value = rule.value
    if isinstance(value, dict):
        value = tuple(sorted(value.items()))
    return rule.kind, value


def profile_mapping(profile) -> dict:
    """The profile as check_rules reads it: contract fields and extras, missing ones left out."""
    return profile.to_dict()


class ListingRulesCheck:
    name = "listing"

    def __init__(self, records: list[dict], rules: list[list[Rule]] | None = None):
        if rules is None:
            # listings repeat their wording a lot (a city's template texts, chains of offices):
            # each distinct text is read once
            read: dict[str, list[Rule]] = {}
            texts = [r.get("eligibility_description") or "" for r in records]
            rules = [read[t] if t in read else read.setdefault(t, extract_rules(t)) for t in texts]
        self.rules = [[rule for rule in rs if not _covered(rule.kind, rec)] for rs, rec in zip(rules, records)]
        distinct: dict[tuple, int] = {}
        self.examples: list[Rule] = []
        # rows of (service, clause) pairs, each listing the distinct rules it requires
        clause_rules: list[list[int]] = []
        clause_service: list[int] = []
        for i, rs in enumerate(self.rules):
            by_clause: dict[int, list[int]] = {}
            for rule in rs:
                k = _key(rule)
                if k not in distinct:
                    distinct[k] = len(self.examples)
                    self.examples.append(rule)
                by_clause.setdefault(rule.clause, []).append(distinct[k])
            for c in sorted(by_clause):
                clause_rules.append(by_clause[c])
                clause_service.append(i)
        self.n_services = len(records)
        self.clause_service = np.array(clause_service, dtype=np.int64)
        self.rule_index = np.array([r for rs in clause_rules for r in rs], dtype=np.int64)
        self.clause_start = np.cumsum([0] + [len(rs) for rs in clause_rules])[:-1].astype(np.int64)
        self.has_rules = np.zeros(self.n_services, dtype=bool)
        self.has_rules[self.clause_service] = True
        # first clause row of each service that has rules (clauses of a service are contiguous)
        self.service_start = np.flatnonzero(np.r_[True, np.diff(self.clause_service) != 0]) if len(clause_service) \
            else np.array([], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.examples)

    def vector(self, ctx: CheckContext) -> np.ndarray:
        out = np.zeros(self.n_services, dtype=np.int8)
        if not len(self.examples):
            return out
        profile = profile_mapping(ctx.profile)
        outcomes = check_rules(self.examples, profile)
        per_rule = np.array([_CODE.get(o.status, UNK) for o in outcomes], dtype=np.int8)
        per_clause = np.maximum.reduceat(per_rule[self.rule_index], self.clause_start)
        per_service = np.minimum.reduceat(per_clause, self.service_start)
        out[self.clause_service[self.service_start]] = per_service
        return out

    def explain(self, ctx: CheckContext, i: int):
        rules = self.rules[i]
        if not rules:
            return PASS, None, None
        status, reasons, questions = summarise(check_rules(rules, profile_mapping(ctx.profile)))
        quoted = "; ".join(dict.fromkeys(f"\u201c{r.text}\u201d" for r in rules))
        reason = f"listing says {quoted}: " + ("; ".join(reasons) if reasons else "to be confirmed")
        return _CODE.get(status, UNK), reason, " ".join(questions) or None
