"""Column conversion: Arrow columns to the normalised pandas/numpy form, with a problem for every bad
cell (numbers, ranges, yes/no, choices, epochs, ids, language codes)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recommender import schema
from recommender.languages import normalise_language

from .problems import Report

SERVICE_TEXT = ("name", "description", "organization", "eligibility_description") + schema.SERVICE_REFERRAL
RESIDENT_TEXT = ("gender", "employment_status")
_LANGUAGE_LIST = r"^([a-z]{2}(;[a-z]{2})*)?$"
_ZONE_SUFFIX = r"[T ][0-9:.,]+(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# Epoch values this far from 1970 are almost surely milliseconds (or garbage), not seconds.
_MAX_ABS_EPOCH = 1e11


# --------------------------------------------------------------------------- column conversion


def column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def as_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any arrow column as stripped strings with '' for null; parquet list columns are ``;``-joined."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_null(t):
        return pa.chunked_array([pa.array([""] * len(arr), type=pa.string())])
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        arr = pc.binary_join(arr.cast(pa.list_(pa.string())), schema.LIST_SEP)
    elif pa.types.is_floating(t):
        # 3.0 from a parquet float column is the id / code "3", not "3.0"
        whole = pc.fill_null(pc.equal(pc.floor(arr), arr), False)
        arr = pc.if_else(whole, pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string()),
                         pc.cast(arr, pa.string()))
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


def pandas_text(arr: pa.ChunkedArray) -> pd.Series:
    # pandas' default string dtype: arrow-backed ``str`` under pandas 3 (cheap for 10M ids)
    return arr.to_pandas()


def _bool_np(arr) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def as_number(arr: pa.ChunkedArray, report: Report, column: str) -> np.ndarray:
    """float64 with NaN for empty; text that is not a number is reported."""
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    text = as_text(arr)
    empty = _bool_np(pc.equal(text, ""))
    nulled = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        values = pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        ok = _bool_np(pc.match_substring_regex(text, _NUMBER))
        values = np.full(len(text), np.nan)
        if ok.any():
            values[ok] = pc.cast(pc.filter(text, pa.array(ok)), pa.float64()).to_numpy(zero_copy_only=False)
    values = np.asarray(values, dtype=np.float64)
    # "nan" parses as NaN: only an empty cell means unknown, anything else must be a number
    bad = ~empty & np.isnan(values)
    report.rows(bad, column, lambda v: f"{v!r} is not a number (leave the cell empty when unknown)", text)
    return values


def check_range(values: np.ndarray, report: Report, column: str) -> None:
    lo, hi = schema.RANGES[column]
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ((values < lo) | (values > hi))
    report.rows(bad, column, lambda v: f"{fmt(v)} is outside the allowed range {lo}..{hi}", values)


def fmt(v: float) -> str:
    return str(int(v)) if np.isfinite(v) and float(v).is_integer() else str(v)


def _factorized(text: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values: per-value Python work then runs once per distinct value only."""
    codes, uniques = pd.factorize(pandas_text(text))
    return codes, [str(u) for u in uniques]


def as_list(arr: pa.ChunkedArray) -> pd.Series:
    codes, uniques = _factorized(as_text(arr))
    return _decode(codes, [schema.LIST_SEP.join(schema.split_list(u)) for u in uniques])


def _decode(codes: np.ndarray, values: list[str]) -> pd.Series:
    """The text column whose record i is ``values[codes[i]]``."""
    if len(codes) == 0:
        return empty_text(0)
    return pc.take(pa.array(values, type=pa.string()), pa.array(codes)).to_pandas()


def empty_text(n: int) -> pd.Series:
    return pa.array([""] * n, type=pa.string()).to_pandas()


def check_languages(values: pd.Series, report: Report, column: str) -> pd.Series:
    """Languages as the contract's codes (``recommender.languages.normalise_language``: ISO 639-1, or
    ISO 639-3 where no two-letter code exists; ``spa`` -> ``es``); a value that is neither is reported."""
    ok = _bool_np(pc.match_substring_regex(pa.array(values, type=pa.string()), _LANGUAGE_LIST))
    if ok.all():
        return values
    codes, uniques = pd.factorize(values)
    fixed, bad = [], np.zeros(len(uniques), dtype=bool)
    for u in uniques:
        try:
            fixed.append(schema.LIST_SEP.join(dict.fromkeys(normalise_language(x) for x in u.split(schema.LIST_SEP) if x)))
        except ValueError:
            fixed.append(u)
            bad[len(fixed) - 1] = True

    def reason(v: str) -> str:
        wrong = []
        for x in filter(None, v.split(schema.LIST_SEP)):
            try:
                normalise_language(x)
            except ValueError:
                wrong.append(x)
        return (f"{', '.join(map(repr, wrong))} {'is not an' if len(wrong) == 1 else 'are not'} "
                f"ISO 639-1 or ISO 639-3 language code{'s' if len(wrong) > 1 else ''} (e.g. 'en', 'es', 'hmn')")

    report.rows(bad[codes], column, reason, values)
    return pd.Series(np.asarray(fixed, dtype=object)[codes], index=values.index).astype(values.dtype)


def as_choice(arr: pa.ChunkedArray, report: Report, column: str, choices: Sequence[str],
               default: str) -> pd.Series:
    """A lower-cased value from ``choices``; '' becomes ``default``; anything else is reported."""
    codes, uniques = _factorized(as_text(arr))
    mapped = []
    for u in uniques:
        v = " ".join(u.lower().replace("_", " ").split())
        mapped.append(default if v == "" else v if v in choices else None)
    bad_codes = np.array([m is None for m in mapped] or [False])
    bad = bad_codes[codes] if len(codes) else np.zeros(0, dtype=bool)
    allowed = ", ".join(choices)
    report.rows(bad, column, lambda c: f"{uniques[c]!r} is not one of: {allowed}", codes)
    return _decode(codes, [m if m is not None else default for m in mapped])


def as_bool(arr: pa.ChunkedArray, report: Report, column: str) -> pd.Series:
    if pa.types.is_boolean(arr.type):
        return pd.Series(pd.arrays.BooleanArray(_bool_np(arr), _bool_np(arr.is_null())))
    codes, uniques = _factorized(as_text(arr))
    lowered = [u.lower() for u in uniques]
    value = np.array([v in schema.TRUE_WORDS for v in lowered] or [False])
    known = np.array([v in schema.TRUE_WORDS or v in schema.FALSE_WORDS for v in lowered] or [False])
    invalid = np.array([v != "" and v not in schema.TRUE_WORDS and v not in schema.FALSE_WORDS for v in lowered] or [False])
    if len(codes):
        value, known, invalid = value[codes], known[codes], invalid[codes]
    else:
        value = known = invalid = np.zeros(0, dtype=bool)
    report.rows(invalid, column,
                lambda c: f"{uniques[c]!r} is not a yes/no value (use true/false, yes/no or 1/0)", codes)
    return pd.Series(pd.arrays.BooleanArray(value, ~known))


def as_epoch(arr: pa.ChunkedArray, report: Report, column: str) -> np.ndarray:
    """int64 epoch seconds (UTC) from ISO 8601 text, epoch numbers or parquet timestamps; empty -> 0."""
    t = arr.type
    n = len(arr)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        ts = arr.cast(pa.timestamp("s", tz=getattr(t, "tz", None))) if pa.types.is_date(t) else arr
        unit = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[ts.type.unit]
        raw = pc.cast(ts, pa.int64()).to_numpy(zero_copy_only=False)
        raw = np.where(np.isnan(raw), 0, raw) if raw.dtype.kind == "f" else raw
        return np.floor_divide(raw.astype(np.int64), unit)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        seconds = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        text = pc.cast(arr, pa.string())
        empty = np.isnan(seconds)
        bad_text = np.zeros(n, dtype=bool)
    else:
        text = as_text(arr)
        empty = _bool_np(pc.equal(text, ""))
        seconds = np.full(n, np.nan)
        bad_text = np.zeros(n, dtype=bool)
        nulled = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        try:  # the common case: every cell is an integer epoch
            seconds = pc.cast(nulled, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        except pa.ArrowInvalid:
            is_num = _bool_np(pc.match_substring_regex(text, _NUMBER))
            if is_num.any():
                seconds[is_num] = pc.cast(pc.filter(text, pa.array(is_num)), pa.float64()).to_numpy(
                    zero_copy_only=False)
            is_date = ~is_num & ~empty
            if is_date.any():
                seconds[is_date] = _parse_iso(pc.filter(text, pa.array(is_date)))
            bad_text = is_date & np.isnan(seconds)
    report.rows(bad_text, column,
                lambda v: f"{v!r} is neither an ISO 8601 date-time nor epoch seconds", text)
    with np.errstate(invalid="ignore"):
        far = ~empty & ~bad_text & ~(np.abs(seconds) < _MAX_ABS_EPOCH)
    report.rows(far, column,
                lambda v: f"{v!r} is not plausible epoch seconds (milliseconds? use seconds since 1970)",
                text)
    seconds = np.where(empty | bad_text | far, 0.0, seconds)
    return np.floor(seconds).astype(np.int64)


def _parse_iso(text: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds (float, NaN where unparseable) of ISO 8601 strings; zone-less ones are UTC."""
    out = np.full(len(text), np.nan)
    # arrow parses fast but wants all-naive or all-zoned input, so each kind is cast on its own
    zoned = _bool_np(pc.match_substring_regex(text, _ZONE_SUFFIX))
    for mask, target in ((~zoned, pa.timestamp("ns")), (zoned, pa.timestamp("ns", tz="UTC"))):
        if not mask.any():
            continue
        part = pc.filter(text, pa.array(mask))
        try:
            ns = pc.cast(pc.cast(part, target), pa.int64()).to_numpy(zero_copy_only=False)
            out[mask] = np.floor_divide(ns, 1_000_000_000)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # some cell arrow cannot parse: pandas finds which (and reads a few more spellings)
            parsed = pd.to_datetime(part.to_pandas(), format="ISO8601", utc=True, errors="coerce")
            ns = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
            seconds = np.floor_divide(ns, 1_000_000_000).astype(np.float64)
            seconds[parsed.isna().to_numpy()] = np.nan
            out[mask] = seconds
    return out


def as_ids(arr: pa.ChunkedArray, report: Report, column: str) -> pd.Series:
    text = as_text(arr)
    report.rows(_bool_np(pc.equal(text, "")), column, lambda: f"{column} is empty")
    return pandas_text(text)


def check_unique(ids: pd.Series, report: Report, column: str) -> None:
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if not dup.any():
        return
    involved = ids[ids.isin(ids[dup])]
    first = {v: report.row_of(int(i))
             for i, v in zip(involved.index[::-1], involved.to_numpy()[::-1])}
    report.rows(dup, column, lambda v: f"duplicate {column} {v!r} (first on row {first[v]})", ids)


def check_known(ids: pd.Series, known: pd.Series | None, report: Report, column: str, table: str) -> None:
    if known is None:
        return  # the referenced table is unreadable and already reported
    member = pc.is_in(pa.array(ids, type=pa.string()), value_set=pa.array(known, type=pa.string()))
    unknown = ~_bool_np(member) & (ids != "").to_numpy()
    report.rows(unknown, column, lambda v: f"unknown {column} {v!r} (not in {table})", ids)


