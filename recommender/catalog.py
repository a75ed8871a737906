"""The service catalogue as arrays: what ranking and eligibility need, for every service at once.

Built once (at training, from the validated ``services`` table) and saved in the model folder as JSON
records, with the eligibility rules read from the listings' text at training (``listing_rules``, a
``recommender.eligibility.table.RuleTable``: data, not checks); loading rebuilds the arrays and uses the
saved rules, so a model applies the rules it was trained with. Per-request changes (status and capacity patched through the
API) are applied with :meth:`ServiceCatalog.with_overrides`, which copies only the two small arrays.
"""
from __future__ import annotations

import math
from types import MappingProxyType
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .eligibility.table import RuleTable
from .schema import DEFAULT_STATUS, SERVICE_LISTS, SERVICE_NUMERIC, SERVICE_OPTIONAL, STATUSES, split_list
from .taxonomy import Taxonomy

_TEXT = ("name", "organization", "description", "eligibility_description", "status")


def _num(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


@dataclass
class ServiceCatalog:
    records: list[dict]
    taxonomy: Taxonomy
    extra_columns: list[str] = field(default_factory=list)
    #: rules read from each listing's text (None: none were read)
    listing_rules: RuleTable | None = None

    def __post_init__(self) -> None:
        n = len(self.records)
        self.ids: list[str] = [str(r["service_id"]) for r in self.records]
        self.index: dict[str, int] = {sid: i for i, sid in enumerate(self.ids)}
        if len(self.index) != n:
            raise ValueError("service_id values must be unique in the catalogue")
        for col in SERVICE_NUMERIC:
            setattr(self, col, np.array([_num(r.get(col)) for r in self.records], dtype=np.float64))
        self.status = np.array([str(r.get("status") or DEFAULT_STATUS).lower() for r in self.records], dtype=object)
        self.lists: dict[str, list[list[str]]] = {
            col: [split_list(r.get(col)) for r in self.records] for col in SERVICE_LISTS
        }
        # a copy: the caller's taxonomy is not changed by the codes this catalogue uses
        self.taxonomy = self.taxonomy.with_codes(c for cats in self.lists["categories"] for c in cats)
        if self.listing_rules is not None and self.listing_rules.n_services != n:
            raise ValueError(f"listing rules: {self.listing_rules.n_services} listings for {n} services")
        # services x terms, each category expanded with its ancestors: column t marks every service that
        # answers a need for term t.
        self.terms: list[str] = self.taxonomy.codes()
        self.term_index = {t: j for j, t in enumerate(self.terms)}
        rows, cols = [], []
        for i, cats in enumerate(self.lists["categories"]):
            seen = {a for c in cats for a in self.taxonomy.ancestors(c)}
            rows.extend([i] * len(seen))
            cols.extend(self.term_index[a] for a in seen)
        self.term_matrix = sp.csc_matrix(
            (np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, len(self.terms)))
        # terms x services, dense: answers() runs for every need of every request, and a row of a
        # dense array is ~100x cheaper than a sparse column slice. Read-only: callers get views.
        self._answers = self.term_matrix.T.toarray()
        self._answers.flags.writeable = False
        self._none = np.zeros(n, dtype=bool)
        self._none.flags.writeable = False
        self.districts_any = np.array([not d for d in self.lists["districts"]])
        self.languages_any = np.array([not d for d in self.lists["languages"]])
        self._district_sets = [frozenset(d) for d in self.lists["districts"]]
        self._language_sets = [frozenset(d) for d in self.lists["languages"]]
        self._by_district = self._invert(self.lists["districts"])
        self._by_language = self._invert(self.lists["languages"])

    def _invert(self, lists: list[list[str]]) -> dict[str, np.ndarray]:
        out: dict[str, list[int]] = {}
        for i, values in enumerate(lists):
            for v in values:
                out.setdefault(v, []).append(i)
        return {k: np.array(v, dtype=np.int64) for k, v in out.items()}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, services: pd.DataFrame, taxonomy: Taxonomy | None = None,
                   extra_columns: list[str] | None = None, read_rules=None) -> "ServiceCatalog":
        """From a validated services table. ``read_rules(records) -> RuleTable`` reads the listings'
        eligibility text (``recommender.eligibility.listing.read_listing_rules``, passed by training)."""
        extra_columns = list(extra_columns or [])
        keep = ["service_id", *SERVICE_OPTIONAL, *extra_columns]
        keep = ["service_id", "name"] + [c for c in keep if c in services.columns and c not in ("service_id", "name")]
        # column by column: a whole column converts to Python values at once (iterating an Arrow-backed
        # column value by value was most of building a 50,000-service catalogue)
        columns = []
        for col in keep:
            values = services[col].tolist()
            if col in SERVICE_NUMERIC:
                columns.append([None if math.isnan(v := _num(x)) else v for x in values])
            else:
                columns.append(["" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x) for x in values])
        records = [dict(zip(keep, row)) for row in zip(*columns)]
        return cls(records=records, taxonomy=taxonomy or Taxonomy(), extra_columns=extra_columns,
                   listing_rules=read_rules(records) if read_rules is not None else None)

    def to_json(self) -> dict:
        out = {"records": self.records, "taxonomy": self.taxonomy.rows(), "extra_columns": self.extra_columns}
        if self.taxonomy.translations:
            out["taxonomy_names"] = self.taxonomy.translations
        # null: no rules were read (a catalogue built without reading its listings)
        out["listing_rules"] = None if self.listing_rules is None else self.listing_rules.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> "ServiceCatalog":
        if "listing_rules" not in data and any(r.get("eligibility_description") for r in data["records"]):
            # a model saved before listing rules were saved with it: applying none would silently
            # open every listing its text restricts
            raise ValueError("catalog.json holds no listing_rules (saved by an older version): retrain the model")
        rules = data.get("listing_rules")
        taxonomy = Taxonomy.from_rows(data["taxonomy"])
        for lang, names in (data.get("taxonomy_names") or {}).items():
            taxonomy.add_translations(lang, names.items())
        return cls(records=data["records"], taxonomy=taxonomy,
                   extra_columns=data.get("extra_columns", []),
                   listing_rules=None if rules is None else RuleTable.from_json(rules))

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self.ids)

    def record(self, i: int) -> dict:
        return self.records[i]

    def answers(self, need: str) -> np.ndarray:
        """Boolean mask (read-only) of services answering ``need`` (its term or any descendant)."""
        j = self.term_index.get(need.strip().lower())
        return self._none if j is None else self._answers[j]

    def serving(self, col: str, value: str) -> np.ndarray:
        """Mask of services whose ``districts``/``languages`` list names ``value`` explicitly."""
        table = self._by_district if col == "districts" else self._by_language
        mask = np.zeros(len(self), dtype=bool)
        idx = table.get(value)
        if idx is not None:
            mask[idx] = True
        return mask

    def speaks_any(self, languages: list[str]) -> np.ndarray:
        mask = self.languages_any.copy()
        for lang in languages:
            mask |= self.serving("languages", lang)
        return mask

    def with_overrides(self, overrides: dict[str, dict] | None) -> tuple[np.ndarray, np.ndarray]:
        """(status, capacity) arrays with API patches applied; unknown service ids are ignored."""
        if not overrides:
            return self.status, self.capacity
        # Live capacity hands the same read-only mapping to every request until a counter moves
        # (api/capacity.py): its arrays are built once, not per request.
        memo = getattr(self, "_overrides_memo", None)
        if memo is not None and memo[0] is overrides:
            return memo[1], memo[2]
        status, capacity = self.status.copy(), self.capacity.copy()
        for sid, fields in overrides.items():
            i = self.index.get(sid)
            if i is None:
                continue
            if fields.get("status") is not None:
                s = str(fields["status"]).lower()
                if s not in STATUSES:
                    raise ValueError(f"status: {s!r} is not one of {', '.join(STATUSES)}")
                status[i] = s
            if "capacity" in fields:
                c = fields["capacity"]
                capacity[i] = math.nan if c is None else float(c)
        if isinstance(overrides, MappingProxyType):
            status.flags.writeable = capacity.flags.writeable = False
            self._overrides_memo = (overrides, status, capacity)
        return status, capacity

    def distances_km(self, lat: float, lon: float, which: np.ndarray | None = None) -> np.ndarray:
        """Great-circle distance from (lat, lon) to every service (or those in ``which``); NaN where a
        service has no place."""
        r = 6371.0
        lats = self.latitude if which is None else self.latitude[which]
        lons = self.longitude if which is None else self.longitude[which]
        p1, p2 = np.radians(lat), np.radians(lats)
        dphi = p2 - p1
        dl = np.radians(lons - lon)
        a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
