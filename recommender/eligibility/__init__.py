"""Eligibility: who may use which service, and why.

Rooms, in the order data flows through them:

- ``outcome``: the one vocabulary (``Outcome.ELIGIBLE / UNKNOWN / INELIGIBLE``, an IntEnum);
- ``fields``: profile fields as rules read them (numbers, yes/no, gender, ZIP);
- ``places`` + ``gazetteers/*.json``: place data of a jurisdiction (Maryland today), chosen by the
  catalogue;
- ``rules``: a ``Rule`` read from a listing, its compact label form, and checking a profile against it;
- text extraction, split by job: ``lexicon`` (patterns and word lists), ``mentions`` (spans stating a
  rule or naming people), ``clauses`` (alternatives and how they settle), ``extract``
  (``extract_rules(text)``, a listing's entry point);
- ``table``: every listing's rules as data, saved with the model; ``listing``: reading them
  (``read_listing_rules``, at import and training) and checking them (``ListingRulesCheck``);
- ``checks``: the structured checks (status, capacity, age, district, language, income);
- ``evaluation``: ``evaluate(catalog, profile, overrides=None)``, the public entry.

Nothing here imports the catalogue: it is passed in.
"""
from .evaluation import Eligibility, checks_for, evaluate
from .outcome import Outcome

__all__ = ["Eligibility", "Outcome", "checks_for", "evaluate"]
