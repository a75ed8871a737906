"""Who may use which service: every check, for every service at once, for one resident."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.profile import Profile

from .checks import STRUCTURED_CHECKS, CatalogColumns, Check, CheckContext
from .listing import ListingRulesCheck
from .outcome import Outcome


@dataclass
class Eligibility:
    """The outcome of every check for one resident over the whole catalogue."""

    ctx: CheckContext
    checks: tuple[Check, ...]
    #: worst outcome per service (int8 array of Outcome values)
    outcome: np.ndarray
    _plan: list | None = field(default=None, init=False, repr=False, compare=False)

    def details(self, i: int) -> tuple[Outcome, list[str], list[str]]:
        """(outcome, reasons, questions) for service ``i``."""
        reasons: list[str] = []
        questions: list[str] = []
        worst = 0
        plan = self._plan
        if plan is None:  # each check with its per-service "nothing to say" list (CatalogColumns.silent)
            silent = self.ctx.columns.silent
            plan = self._plan = [(check, silent.get(type(check))) for check in self.checks]
        for check, quiet in plan:
            if quiet is not None and quiet[i]:
                continue
            outcome, reason, question = check.explain(self.ctx, i)
            if outcome > worst:
                worst = outcome
            if reason and reason not in reasons:
                reasons.append(reason)
            if question and question not in questions:
                questions.append(question)
        return Outcome(worst), reasons, questions


def checks_for(catalog) -> tuple[Check, ...]:
    """The structured checks, plus the listing rules the catalogue was read with (if any)."""
    table = getattr(catalog, "listing_rules", None)
    if table is None or not len(table):
        return STRUCTURED_CHECKS
    return STRUCTURED_CHECKS + (ListingRulesCheck(table),)


def evaluate(catalog, profile: Profile, overrides: dict[str, dict] | None = None, *,
             checks: tuple[Check, ...] | None = None, columns: CatalogColumns | None = None) -> Eligibility:
    """Every check for ``profile`` over ``catalog`` (a ``recommender.catalog.ServiceCatalog``), with the
    API's status/capacity ``overrides`` applied. ``columns``: the catalogue's
    :class:`~recommender.eligibility.checks.CatalogColumns`, when the caller keeps them (a served
    model does: a request is then a few comparisons)."""
    checks = checks if checks is not None else checks_for(catalog)
    status, capacity = catalog.with_overrides(overrides)
    ctx = CheckContext(catalog, profile, status, capacity, columns)
    outcome = np.zeros(len(catalog), dtype=np.int8)
    for check in checks:
        np.maximum(outcome, check.vector(ctx), out=outcome)
    return Eligibility(ctx, checks, outcome)
