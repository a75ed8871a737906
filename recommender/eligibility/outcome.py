"""The one vocabulary of eligibility outcomes.

An ``IntEnum`` ordered from best to worst, so a listing's outcome is the ``max`` of its checks and an
array of outcomes is a plain int8 array (``evaluate(...).outcome == Outcome.INELIGIBLE``). ``label`` is
the word shown to people and written in JSON ("eligible", "unknown", "ineligible").
"""
from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    ELIGIBLE = 0      # the resident passes (also: the check does not apply)
    UNKNOWN = 1       # a profile field is missing: keep the service, marked, with the question to ask
    INELIGIBLE = 2    # the resident fails: the service is removed

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, label: "str | int | Outcome") -> "Outcome":
        """An outcome from its label ("eligible") or value."""
        if isinstance(label, str):
            try:
                return cls[label.strip().upper()]
            except KeyError:
                raise ValueError(f"outcome: {label!r} is not one of eligible, unknown, ineligible") from None
        return cls(int(label))
