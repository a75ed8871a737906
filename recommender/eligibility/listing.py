"""Rules read from each listing's eligibility text, applied like the structured fields.

``read_listing_rules`` runs when a catalogue is imported or a model is trained (``extract`` reads
"Homeless women, 18 and older"); the result is a :class:`table.RuleTable` saved with the model, so a
loaded model applies the rules it was trained with, whatever the code version. ``ListingRulesCheck``
checks one profile against the table: each distinct rule once per request, then per listing with
array reductions (a clause fails if any of its rules fails: max; a listing passes if any clause
passes: min).

Structured data wins: a text rule of a kind the listing already states in a column (``min_age``,
``max_age``, ``max_income``, ``districts``) is left out, so a listing is never checked twice on the
same thing, nor against a sloppier reading of it.
"""
from __future__ import annotations

import math

import numpy as np

from .checks import CheckContext
from .extract import extract_rules, listing_eligibility
from .outcome import Outcome
from .places import DEFAULT_GAZETTEER, gazetteer
from .rules import Rule, check_rules, summarise
from .table import RuleTable

_COLUMN_OF_KIND = {"min_age": "min_age", "max_age": "max_age", "income_limit": "max_income", "residency": "districts"}


def _covered(kind: str, rec: dict) -> bool:
    """Whether the listing's structured columns already state a rule of this kind."""
    col = _COLUMN_OF_KIND.get(kind)
    if col is None:
        return False
    v = rec.get(col)
    return v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))


def read_listing_rules(records: list[dict], places: str = DEFAULT_GAZETTEER) -> RuleTable:
    """Read every listing's eligibility text, the description's eligibility part included where the
    field defers to it ("See notes."); each distinct text once (listings repeat their wording a lot,
    a city's template texts, chains of offices)."""
    where = gazetteer(places)
    read: dict[str, list[Rule]] = {}
    out = []
    for rec in records:
        text = listing_eligibility(rec.get("eligibility_description"), rec.get("description"))
        rules = read[text] if text in read else read.setdefault(text, extract_rules(text, where))
        out.append([rule for rule in rules if not _covered(rule.kind, rec)])
    return RuleTable(out, places=places)


class ListingRulesCheck:
    name = "listing"

    def __init__(self, table: RuleTable):
        self.table = table
        self.rules = table.rules
        self.places = gazetteer(table.places)

    def vector(self, ctx: CheckContext) -> np.ndarray:
        t = self.table
        out = np.zeros(t.n_services, dtype=np.int8)
        if not len(t):
            return out
        outcomes = check_rules(t.examples, ctx.profile.to_dict(), self.places)
        per_rule = np.array([o.status for o in outcomes], dtype=np.int8)
        per_clause = np.maximum.reduceat(per_rule[t.rule_index], t.clause_start)
        per_service = np.minimum.reduceat(per_clause, t.service_start)
        out[t.clause_service[t.service_start]] = per_service
        return out

    def explain(self, ctx: CheckContext, i: int):
        rules = self.rules[i]
        if not rules:
            return Outcome.ELIGIBLE, None, None
        status, reasons, questions = summarise(check_rules(rules, ctx.profile.to_dict(), self.places))
        quoted = "; ".join(dict.fromkeys(f"\u201c{r.text}\u201d" for r in rules))
        reason = f"listing says {quoted}: " + ("; ".join(reasons) if reasons else "to be confirmed")
        return status, reason, " ".join(questions) or None
