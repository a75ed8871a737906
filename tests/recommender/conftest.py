"""What the eligibility tests share: a catalogue from a few listing rows, and each service's outcome
for a profile."""
from __future__ import annotations

import pandas as pd

from recommender.catalog import ServiceCatalog
from recommender.eligibility import Outcome, evaluate
from recommender.eligibility.listing import read_listing_rules
from recommender.profile import Profile

PASS, UNK, FAIL = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE


def catalog_of(rows: list[dict]) -> ServiceCatalog:
    """A catalogue of these services rows, with the rules their listings' text states."""
    return ServiceCatalog.from_frame(pd.DataFrame(rows), read_rules=read_listing_rules)


def outcome(catalog: ServiceCatalog, **profile):
    """({service id: outcome}, the evaluation) for a profile of these fields."""
    e = evaluate(catalog, Profile.from_dict(profile))
    return dict(zip(catalog.ids, e.outcome)), e
