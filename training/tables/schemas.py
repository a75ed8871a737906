"""The three tables' schemas: which columns each has, how each column is converted and checked, and
the cross-column checks (``min_age <= max_age``, a coordinate pair, known ids)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recommender import schema

from .coercion import (
    RESIDENT_TEXT, SERVICE_TEXT, as_bool, as_choice, as_epoch, as_ids, as_list, as_number, as_text,
    check_known, check_languages, check_range, check_unique, column, empty_text, fmt, pandas_text
)
from .problems import Report
from .readers import RawTable

# --------------------------------------------------------------------------- tables


def _require(raw: RawTable, required: Sequence[str]) -> bool:
    missing = [c for c in required if c not in raw.table.column_names]
    for c in missing:
        raw.report.add(f"required column {c!r} is missing (columns are: "
                       f"{', '.join(raw.table.column_names) or 'none'})", column=c)
    return not missing


def _ids_and_text(table: pa.Table, report: Report, id_column: str, text_columns) -> dict:
    """A table's unique ids and its text columns (empty where a column is absent)."""
    out: dict[str, pd.Series | np.ndarray] = {}
    out[id_column] = as_ids(table.column(id_column), report, id_column)
    check_unique(out[id_column], report, id_column)
    for col in text_columns:
        arr = column(table, col)
        out[col] = pandas_text(as_text(arr)) if arr is not None else empty_text(table.num_rows)
    return out


def services_frame(raw: RawTable) -> tuple[pd.DataFrame | None, list[str]]:
    table, report = raw.table, raw.report
    if not _require(raw, schema.SERVICE_REQUIRED):
        return None, []
    n = table.num_rows
    if n == 0:
        report.add("has no services (a header but no rows)")
    out = _ids_and_text(table, report, "service_id", SERVICE_TEXT)
    report.rows((out["name"] == "").to_numpy(), "name", lambda: "name is empty")
    arr = column(table, "status")
    out["status"] = (as_choice(arr, report, "status", schema.STATUSES, schema.DEFAULT_STATUS)
                     if arr is not None else _const_text(schema.DEFAULT_STATUS, n))
    _lists(table, schema.SERVICE_LISTS, out, report, n)
    _numbers(table, schema.SERVICE_NUMERIC, out, report, n)
    with np.errstate(invalid="ignore"):
        inverted = out["min_age"] > out["max_age"]
    report.rows(inverted, "min_age",
                lambda lo, hi: f"min_age {fmt(lo)} is greater than max_age {fmt(hi)}",
                out["min_age"], out["max_age"])
    _check_pair(out, report)
    return _with_extras(table, out, schema.SERVICE_REQUIRED, schema.SERVICE_OPTIONAL)


def _with_extras(table: pa.Table, out: dict, required, optional) -> tuple[pd.DataFrame, list[str]]:
    """The normalised frame in contract order, every other column kept as text after it."""
    contract = set(required) | set(optional)
    extras = [c for c in table.column_names if c not in contract]
    for col in extras:
        out[col] = pandas_text(as_text(table.column(col)))
    return _frame(out, list(required) + list(optional) + extras), extras


def residents_frame(raw: RawTable) -> tuple[pd.DataFrame | None, list[str]]:
    table, report = raw.table, raw.report
    if not _require(raw, schema.RESIDENT_REQUIRED):
        return None, []
    n = table.num_rows
    out = _ids_and_text(table, report, "resident_id", RESIDENT_TEXT)
    arr = column(table, "district")
    out["district"] = pandas_text(pc.utf8_lower(as_text(arr))) if arr is not None else empty_text(n)
    arr = column(table, "disability")
    out["disability"] = (as_bool(arr, report, "disability") if arr is not None
                         else pd.Series(pd.array([pd.NA] * n, dtype="boolean")))
    _lists(table, schema.RESIDENT_LISTS, out, report, n)
    _numbers(table, schema.RESIDENT_NUMERIC, out, report, n)
    _check_pair(out, report)
    return _with_extras(table, out, schema.RESIDENT_REQUIRED, schema.RESIDENT_OPTIONAL)


def interactions_frame(raw: RawTable, service_ids: pd.Series | None, resident_ids: pd.Series | None) -> pd.DataFrame | None:
    table, report = raw.table, raw.report
    if not _require(raw, schema.INTERACTION_REQUIRED):
        return None
    n = table.num_rows
    out: dict[str, pd.Series | np.ndarray] = {}
    out["resident_id"] = as_ids(table.column("resident_id"), report, "resident_id")
    out["service_id"] = as_ids(table.column("service_id"), report, "service_id")
    check_known(out["resident_id"], resident_ids, report, "resident_id", "residents")
    check_known(out["service_id"], service_ids, report, "service_id", "services")
    arr = column(table, "event")
    out["event"] = (as_choice(arr, report, "event", schema.EVENTS, schema.DEFAULT_EVENT)
                    if arr is not None else _const_text(schema.DEFAULT_EVENT, n))
    arr = column(table, "timestamp")
    out["timestamp"] = (as_epoch(arr, report, "timestamp") if arr is not None
                        else np.zeros(n, dtype=np.int64))
    # every event is valid or already reported (and then replaced by the default event)
    event_index = pc.index_in(pa.array(out["event"], type=pa.string()), value_set=pa.array(schema.EVENTS))
    weights = np.array([schema.EVENT_WEIGHTS[e] for e in schema.EVENTS], dtype=np.float64)
    default_weight = weights[event_index.to_numpy(zero_copy_only=False)]
    arr = column(table, "weight")
    if arr is None:
        out["weight"] = default_weight
    else:
        weight = as_number(arr, report, "weight")
        with np.errstate(invalid="ignore"):
            negative = weight < 0
        report.rows(negative, "weight", lambda v: f"weight {fmt(v)} is negative", weight)
        lo, hi = schema.RANGES["weight"]
        with np.errstate(invalid="ignore"):
            too_big = weight > hi
        report.rows(too_big, "weight", lambda v: f"weight {fmt(v)} is above the maximum {hi}", weight)
        out["weight"] = np.where(np.isnan(weight), default_weight, weight)
    order = list(schema.INTERACTION_REQUIRED) + list(schema.INTERACTION_OPTIONAL)
    return _frame(out, order)


def _const_text(value: str, n: int) -> pd.Series:
    return pa.array([value] * n, type=pa.string()).to_pandas()


def _lists(table: pa.Table, columns: Sequence[str], out: dict, report: Report, n: int) -> None:
    for col in columns:
        arr = column(table, col)
        out[col] = as_list(arr) if arr is not None else empty_text(n)
        if col == "languages":
            out[col] = check_languages(out[col], report, col)


def _numbers(table: pa.Table, columns: Sequence[str], out: dict, report: Report, n: int) -> None:
    for col in columns:
        arr = column(table, col)
        values = as_number(arr, report, col) if arr is not None else np.full(n, np.nan)
        check_range(values, report, col)
        out[col] = values


def _check_pair(out: dict, report: Report) -> None:
    lat, lon = np.isnan(out["latitude"]), np.isnan(out["longitude"])
    report.rows(~lat & lon, "longitude", lambda: "latitude is given without longitude")
    report.rows(lat & ~lon, "latitude", lambda: "longitude is given without latitude")


def _frame(columns: dict, order: Sequence[str]) -> pd.DataFrame:
    data = {}
    for name in order:
        v = columns[name]
        data[name] = v.reset_index(drop=True) if isinstance(v, pd.Series) else v
    return pd.DataFrame(data)


