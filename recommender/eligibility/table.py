"""The rules read from every listing of a catalogue, as data: saved with the model (catalog JSON) and
indexed for checking every listing at once.

A catalogue of thousands of listings holds only a few hundred *distinct* rules (ages, areas, income
limits, statuses), so the table keeps each distinct rule once (``examples``) and, per (listing,
clause) row, which distinct rules it requires; ``listing.ListingRulesCheck`` checks each distinct
rule once per request and folds the outcomes with array reductions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rules import Rule

#: Version of the saved form (``to_json``); a model saved with another form is refused on load.
FORMAT = "listing-rules/1"


def _key(rule: Rule) -> tuple:
    value = rule.value
    if isinstance(value, dict):
        value = tuple(sorted(value.items()))
    return rule.kind, value


def _value_to_json(value):
    if isinstance(value, dict):
        return {k: [list(r) for r in v] if k == "annual_by_household_size" else v for k, v in value.items()}
    return value


def _value_from_json(value):
    if isinstance(value, dict):
        return {k: tuple((int(a), float(b)) for a, b in v) if k == "annual_by_household_size" else v
                for k, v in value.items()}
    return value


@dataclass
class RuleTable:
    #: per listing, its rules (clauses numbered by ``Rule.clause``)
    rules: list[list[Rule]]
    #: the gazetteer the rules' places were read with (``places.gazetteer``)
    places: str = "maryland"
    examples: list[Rule] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        distinct: dict[tuple, int] = {}
        self.examples = []
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
        #: rows of (listing, clause) pairs, each listing the distinct rules it requires
        self.clause_service = np.array(clause_service, dtype=np.int64)
        self.rule_index = np.array([r for rs in clause_rules for r in rs], dtype=np.int64)
        self.clause_start = np.cumsum([0] + [len(rs) for rs in clause_rules])[:-1].astype(np.int64)
        # first clause row of each listing that has rules (clauses of a listing are contiguous)
        self.service_start = (np.flatnonzero(np.r_[True, np.diff(self.clause_service) != 0]) if clause_service
                              else np.array([], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def n_services(self) -> int:
        return len(self.rules)

    def to_json(self) -> dict:
        return {"format": FORMAT, "places": self.places,
                "rules": [[{"kind": r.kind, "value": _value_to_json(r.value), "span": list(r.span), "text": r.text,
                            "clause": r.clause} for r in rs] for rs in self.rules]}

    @classmethod
    def from_json(cls, data: dict) -> "RuleTable":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"listing rules: expected format {FORMAT!r}")
        rules = [[Rule(r["kind"], _value_from_json(r["value"]), tuple(r["span"]), r["text"], int(r["clause"]))
                  for r in rs] for rs in data["rules"]]
        return cls(rules=rules, places=str(data.get("places") or "maryland"))
