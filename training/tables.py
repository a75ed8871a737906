"""Load and validate a city's data directory (services, residents, interactions).

A data directory holds three tables, each as ``NAME.csv`` or ``NAME.parquet`` (exactly one of the
two): ``services``, ``residents`` and ``interactions``; the columns are those of
:mod:`recommender.schema`. :func:`load_data_dir` reads all three, checks every row and either
returns a :class:`CityData` of normalised frames or raises :class:`DataError` listing *every*
problem of all three files (nothing is trained from invalid data). :func:`load_interactions` reads
one further interactions file (a holdout, or feedback exported by the API) checked against known
ids, and :func:`write_table` writes a frame atomically.

Problems name the file, the row, the column and what is wrong. ``row`` is the spreadsheet row
number for CSV (header = row 1, first record = row 2; a quoted value spanning several lines is
still one row; blank lines are skipped and not counted) and the 1-based record index for Parquet.
A check that fails on very many rows lists the first ``MAX_ROWS_PER_CHECK`` and then one summary
problem with the count of the rest, so a wrong file does not produce millions of messages.

Normalised form (what the rest of the code relies on):

* Column names are stripped and lower-cased. Every contract column exists: a missing optional
  column is added with its empty value. Any other column of ``services`` / ``residents`` is kept
  as an extra (categorical, text) column and listed in ``CityData.service_extra_columns`` /
  ``resident_extra_columns``; other columns of ``interactions`` are dropped. Row order is kept.
* Text (ids, ``name``, ``description``, ``organization``, ``eligibility_description``,
  ``gender``, ``employment_status``, extras): pandas' default string dtype (``str`` under
  pandas 3, ``object`` under pandas 2), stripped, ``''`` when empty (never NaN).
  ``resident.district`` is also lower-cased, because it is matched against ``services.districts``.
* Ids (``service_id``, ``resident_id``): non-empty and unique within their table.
* Numeric columns (``schema.SERVICE_NUMERIC`` / ``RESIDENT_NUMERIC``): float64, NaN when empty,
  within ``schema.RANGES``; ``min_age <= max_age``; latitude and longitude given together or not
  at all. ``capacity`` 0 means full, NaN unknown.
* List columns (``schema.SERVICE_LISTS`` / ``RESIDENT_LISTS``): ``;``-joined, stripped,
  lower-cased, de-duplicated items (``schema.split_list``), ``''`` when empty. Languages are
  two-letter (ISO 639-1) codes. Empty ``districts`` means everywhere, empty ``languages`` any.
* ``status``: one of ``schema.STATUSES`` (lower case), ``'active'`` when empty.
* ``disability``: pandas ``boolean`` dtype, ``<NA>`` when unknown; accepted spellings
  true/false/yes/no/1/0 in any case.
* Interactions: ``resident_id`` / ``service_id`` name a known resident / service; ``event`` is
  one of ``schema.EVENTS`` (lower case, ``'enrolled'`` when empty); ``timestamp`` is int64 epoch
  seconds in UTC (ISO 8601 with a zone is converted, without a zone is taken as UTC; numbers are
  epoch seconds, fractions floored; an empty cell or a missing column gives 0); ``weight`` is
  float64 in ``schema.RANGES['weight']``, ``schema.EVENT_WEIGHTS[event]`` when empty.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recommender import schema
from recommender.files import atomic_file, sha256_file

__all__ = [
    "CityData",
    "DataError",
    "Problem",
    "load_data_dir",
    "load_interactions",
    "load_residents",
    "write_table",
    "MAX_ROWS_PER_CHECK",
]

#: A check failing on more rows than this lists these and summarises the rest in one problem.
MAX_ROWS_PER_CHECK = 100
#: ``str(DataError)`` lists at most this many problems.
MAX_LISTED = 50
FORMATS = ("csv", "parquet")
TABLES = ("services", "residents", "interactions")

SERVICE_TEXT = ("name", "description", "organization", "eligibility_description")
RESIDENT_TEXT = ("gender", "employment_status")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_LANGUAGE_LIST = r"^([a-z]{2}(;[a-z]{2})*)?$"
_ZONE_SUFFIX = r"[T ][0-9:.,]+(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# Epoch values this far from 1970 are almost surely milliseconds (or garbage), not seconds.
_MAX_ABS_EPOCH = 1e11


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file. ``row``/``column`` are None when not about one row/column."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}"


class DataError(Exception):
    """The input data is invalid; ``problems`` lists everything found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the input data:"]
        lines += [f"  {p}" for p in self.problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  ... and {n - MAX_LISTED} more")
        return "\n".join(lines)


@dataclass
class CityData:
    """A validated data directory: normalised frames (see the module docstring) and where they came from."""

    services: pd.DataFrame
    residents: pd.DataFrame
    interactions: pd.DataFrame
    #: table name -> {"path", "format", "sha256", "bytes", "rows"}
    source: dict
    service_extra_columns: list[str] = field(default_factory=list)
    resident_extra_columns: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """One sha256 over the three files' hashes: equal fingerprints mean byte-identical inputs."""
        h = hashlib.sha256()
        for table in TABLES:
            h.update(f"{table}:{self.source[table]['sha256']}\n".encode())
        return h.hexdigest()


# --------------------------------------------------------------------------- problem collection


class _Report:
    """Problems of one file; ``problems`` lists them by row so a user can fix the file top to bottom."""

    def __init__(self, file: str, first_row: int):
        self.file = file
        self.first_row = first_row  # row number of record 0: 2 for csv (header is row 1), 1 for parquet
        # csv rows with the wrong number of fields are reported and left out of the table; the
        # records after them keep their own row numbers
        self.skipped_rows = np.zeros(0, dtype=np.int64)
        self._items: list[tuple[float, int, Problem]] = []

    def row_of(self, record: int) -> int:
        row = record + self.first_row
        while True:
            shifted = record + self.first_row + int(np.searchsorted(self.skipped_rows, row, side="right"))
            if shifted == row:
                return row
            row = shifted

    def add(self, reason: str, column: str | None = None, row: int | None = None) -> None:
        key = -1.0 if row is None else float(row)
        self._items.append((key, len(self._items), Problem(self.file, row, column, reason)))

    def rows(self, mask, column: str | None, reason: Callable[..., str], *values) -> None:
        """Add a problem for every record where ``mask`` is true.

        ``reason`` is called with the elements of ``values`` (arrays aligned with the table) at
        that record; it runs only for failing records, so big clean tables cost nothing here.
        """
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        shown = idx[:MAX_ROWS_PER_CHECK]
        columns = [_take(v, shown) for v in values]
        for j, i in enumerate(shown):
            row = self.row_of(int(i))
            self._items.append(
                (float(row), len(self._items),
                 Problem(self.file, row, column, reason(*(c[j] for c in columns)))))
        rest = idx.size - shown.size
        if rest:
            self._items.append(
                (float("inf"), len(self._items),
                 Problem(self.file, None, column,
                         f"... and {rest:,} more rows with the same problem as row "
                         f"{self.row_of(int(shown[-1]))} (first {shown.size} listed)")))

    @property
    def problems(self) -> list[Problem]:
        return [p for _, _, p in sorted(self._items, key=lambda t: (t[0], t[1]))]


def _take(values, idx: np.ndarray) -> list:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(idx, type=pa.int64())).to_pylist()
    if isinstance(values, (pd.Series, pd.Index)):
        return values.iloc[idx].tolist() if isinstance(values, pd.Series) else values[idx].tolist()
    return np.asarray(values)[idx].tolist()


# --------------------------------------------------------------------------- reading files


@dataclass
class _Raw:
    """A file read as an arrow table, with lower-cased column names and its provenance."""

    table: pa.Table
    report: _Report
    source: dict


def _format_of(path: Path) -> str | None:
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def _read_csv_header(path: Path) -> list[str] | None:
    # Read with the csv module so a quoted header cell is parsed the same way arrow parses data;
    # surrogateescape keeps bad bytes in the data rows for arrow (and _report_bad_utf8) to find.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        return next(csv.reader(f), None)


def _read_csv(path: Path, report: _Report) -> pa.Table | None:
    header = _read_csv_header(path)
    if header is not None and not all(_is_utf8_text(h) for h in header):
        report.add("the header row is not UTF-8 text; save the file as UTF-8")
        return None
    if header is None:
        report.add("empty file: no header row")
        return None
    # Positional names let arrow read duplicate or empty header cells; we rename (and report) later.
    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list = []

    def on_invalid(row) -> str:
        bad_rows.append(row)
        return "skip"

    def read(use_threads: bool, cell_type: pa.DataType = pa.string()) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=use_threads,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: cell_type for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, null_values=[]),
        )

    table = None
    try:
        table = read(True)
        if bad_rows and any(r.number is None for r in bad_rows):
            # Multi-threaded parsing does not know row numbers; this rare path re-reads to get them.
            bad_rows.clear()
            table = read(False)
    except pa.ArrowInvalid as e:
        if "UTF8" not in str(e):
            report.add(f"cannot be read as CSV: {e}")
            return None
        bad_rows.clear()
        try:  # find the rows that are not UTF-8 (rare path: read as bytes, check in Python)
            raw = read(False, pa.binary())
        except (pa.ArrowInvalid, OSError) as e2:
            report.add(f"cannot be read as CSV: {e2}")
            return None
    except OSError as e:
        report.add(f"cannot be read as CSV: {e}")
        return None
    report.skipped_rows = np.array(sorted(r.number for r in bad_rows if r.number is not None), dtype=np.int64)
    for r in bad_rows:
        text = r.text if len(r.text) <= 80 else r.text[:77] + "..."
        report.add(f"has {r.actual_columns} fields, the header has {r.expected_columns}: {text!r}",
                   row=r.number)
    if table is None:
        _report_bad_utf8(raw, header, report)
        return None
    return table.rename_columns(header)


def _report_bad_utf8(table: pa.Table, header: list[str], report: _Report) -> None:
    for k, name in enumerate(header):
        bad = [i for i, cell in enumerate(_iter_cells(table.column(k))) if not _is_utf8(cell)]
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[bad] = True
        report.rows(mask, name.strip().lower() or None,
                    lambda v: f"{v!r} is not UTF-8 text; save the file as UTF-8", table.column(k))


def _is_utf8_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a surrogate escape of an undecodable byte
        return False
    return True


def _is_utf8(cell: bytes) -> bool:
    try:
        cell.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _iter_cells(arr: pa.ChunkedArray):
    for chunk in arr.chunks:
        yield from chunk.to_pylist()


def _read_parquet(path: Path, report: _Report) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        report.add(f"cannot be read as Parquet: {e}")
        return None


def _read_file(path: Path, fmt: str) -> _Raw:
    report = _Report(str(path), first_row=2 if fmt == "csv" else 1)
    source = {"path": str(path), "format": fmt, "sha256": None, "bytes": None, "rows": None}
    try:
        source["sha256"] = sha256_file(path)
        source["bytes"] = path.stat().st_size
    except OSError as e:
        report.add(f"cannot be read: {e.strerror or e}")
        return _Raw(None, report, source)
    table = _read_csv(path, report) if fmt == "csv" else _read_parquet(path, report)
    if table is not None:
        table = _clean_column_names(table, report)
        source["rows"] = table.num_rows
    return _Raw(table, report, source)


def _clean_column_names(table: pa.Table, report: _Report) -> pa.Table:
    names = [str(n).strip().lower() for n in table.column_names]
    keep, seen = [], {}
    for i, name in enumerate(names):
        if not name:
            report.add(f"header cell {i + 1} is empty: every column needs a name")
        elif name in seen:
            report.add(f"column {name!r} appears twice in the header (columns {seen[name] + 1} and {i + 1})",
                       column=name)
        else:
            seen[name] = i
            keep.append(i)
    return pa.table([table.column(i) for i in keep], names=[names[i] for i in keep])


def _find_table(directory: Path, name: str) -> tuple[Path | None, str | None, Problem | None]:
    found = [(directory / f"{name}.{fmt}", fmt) for fmt in FORMATS if (directory / f"{name}.{fmt}").is_file()]
    if len(found) == 1:
        return found[0][0], found[0][1], None
    if len(found) > 1:
        return None, None, Problem(str(directory / name), None, None,
                                   f"both {name}.csv and {name}.parquet exist; keep exactly one")
    others = sorted(p.name for p in directory.glob(f"{name}.*") if p.is_file())
    hint = f" (found {', '.join(others)}: only .csv and .parquet are read)" if others else ""
    return None, None, Problem(str(directory / f"{name}.csv"), None, None,
                               f"missing: expected {name}.csv or {name}.parquet{hint}")


# --------------------------------------------------------------------------- column conversion


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def _as_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
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


def _pandas_text(arr: pa.ChunkedArray) -> pd.Series:
    # pandas' default string dtype: arrow-backed ``str`` under pandas 3 (cheap for 10M ids)
    return arr.to_pandas()


def _bool_np(arr) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _as_number(arr: pa.ChunkedArray, report: _Report, column: str) -> np.ndarray:
    """float64 with NaN for empty; text that is not a number is reported."""
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    text = _as_text(arr)
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


def _check_range(values: np.ndarray, report: _Report, column: str) -> None:
    lo, hi = schema.RANGES[column]
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ((values < lo) | (values > hi))
    report.rows(bad, column, lambda v: f"{_fmt(v)} is outside the allowed range {lo}..{hi}", values)


def _fmt(v: float) -> str:
    return str(int(v)) if np.isfinite(v) and float(v).is_integer() else str(v)


def _factorized(text: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values: per-value Python work then runs once per distinct value only."""
    codes, uniques = pd.factorize(_pandas_text(text))
    return codes, [str(u) for u in uniques]


def _as_list(arr: pa.ChunkedArray) -> pd.Series:
    codes, uniques = _factorized(_as_text(arr))
    return _decode(codes, [schema.LIST_SEP.join(schema.split_list(u)) for u in uniques])


def _decode(codes: np.ndarray, values: list[str]) -> pd.Series:
    """The text column whose record i is ``values[codes[i]]``."""
    if len(codes) == 0:
        return _empty_text(0)
    return pc.take(pa.array(values, type=pa.string()), pa.array(codes)).to_pandas()


def _empty_text(n: int) -> pd.Series:
    return pa.array([""] * n, type=pa.string()).to_pandas()


def _check_languages(values: pd.Series, report: _Report, column: str) -> None:
    ok = _bool_np(pc.match_substring_regex(pa.array(values, type=pa.string()), _LANGUAGE_LIST))

    def reason(v: str) -> str:
        wrong = [x for x in v.split(schema.LIST_SEP) if not _LANGUAGE_CODE.match(x)]
        return (f"{', '.join(map(repr, wrong))} {'is not a' if len(wrong) == 1 else 'are not'} "
                f"two-letter ISO 639-1 language code{'s' if len(wrong) > 1 else ''} (e.g. 'en', 'es')")

    report.rows(~ok, column, reason, values)


def _as_choice(arr: pa.ChunkedArray, report: _Report, column: str, choices: Sequence[str],
               default: str) -> pd.Series:
    """A lower-cased value from ``choices``; '' becomes ``default``; anything else is reported."""
    codes, uniques = _factorized(_as_text(arr))
    mapped = []
    for u in uniques:
        v = " ".join(u.lower().replace("_", " ").split())
        mapped.append(default if v == "" else v if v in choices else None)
    bad_codes = np.array([m is None for m in mapped] or [False])
    bad = bad_codes[codes] if len(codes) else np.zeros(0, dtype=bool)
    allowed = ", ".join(choices)
    report.rows(bad, column, lambda c: f"{uniques[c]!r} is not one of: {allowed}", codes)
    return _decode(codes, [m if m is not None else default for m in mapped])


def _as_bool(arr: pa.ChunkedArray, report: _Report, column: str) -> pd.Series:
    if pa.types.is_boolean(arr.type):
        return pd.Series(pd.arrays.BooleanArray(_bool_np(arr), _bool_np(arr.is_null())))
    codes, uniques = _factorized(_as_text(arr))
    lowered = [u.lower() for u in uniques]
    value = np.array([v in _TRUE for v in lowered] or [False])
    known = np.array([v in _TRUE or v in _FALSE for v in lowered] or [False])
    invalid = np.array([v != "" and v not in _TRUE and v not in _FALSE for v in lowered] or [False])
    if len(codes):
        value, known, invalid = value[codes], known[codes], invalid[codes]
    else:
        value = known = invalid = np.zeros(0, dtype=bool)
    report.rows(invalid, column,
                lambda c: f"{uniques[c]!r} is not a yes/no value (use true/false, yes/no or 1/0)", codes)
    return pd.Series(pd.arrays.BooleanArray(value, ~known))


def _as_epoch(arr: pa.ChunkedArray, report: _Report, column: str) -> np.ndarray:
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
        text = _as_text(arr)
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


def _as_ids(arr: pa.ChunkedArray, report: _Report, column: str) -> pd.Series:
    text = _as_text(arr)
    report.rows(_bool_np(pc.equal(text, "")), column, lambda: f"{column} is empty")
    return _pandas_text(text)


def _check_unique(ids: pd.Series, report: _Report, column: str) -> None:
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if not dup.any():
        return
    involved = ids[ids.isin(ids[dup])]
    first = {v: report.row_of(int(i))
             for i, v in zip(involved.index[::-1], involved.to_numpy()[::-1])}
    report.rows(dup, column, lambda v: f"duplicate {column} {v!r} (first on row {first[v]})", ids)


def _check_known(ids: pd.Series, known: pd.Series | None, report: _Report, column: str, table: str) -> None:
    if known is None:
        return  # the referenced table is unreadable and already reported
    member = pc.is_in(pa.array(ids, type=pa.string()), value_set=pa.array(known, type=pa.string()))
    unknown = ~_bool_np(member) & (ids != "").to_numpy()
    report.rows(unknown, column, lambda v: f"unknown {column} {v!r} (not in {table})", ids)


# --------------------------------------------------------------------------- tables


def _require(raw: _Raw, required: Sequence[str]) -> bool:
    missing = [c for c in required if c not in raw.table.column_names]
    for c in missing:
        raw.report.add(f"required column {c!r} is missing (columns are: "
                       f"{', '.join(raw.table.column_names) or 'none'})", column=c)
    return not missing


def _services(raw: _Raw) -> tuple[pd.DataFrame | None, list[str]]:
    table, report = raw.table, raw.report
    if not _require(raw, schema.SERVICE_REQUIRED):
        return None, []
    n = table.num_rows
    if n == 0:
        report.add("has no services (a header but no rows)")
    out: dict[str, pd.Series | np.ndarray] = {}
    out["service_id"] = _as_ids(table.column("service_id"), report, "service_id")
    _check_unique(out["service_id"], report, "service_id")
    for col in SERVICE_TEXT:
        arr = _column(table, col)
        out[col] = _pandas_text(_as_text(arr)) if arr is not None else _empty_text(n)
    report.rows((out["name"] == "").to_numpy(), "name", lambda: "name is empty")
    arr = _column(table, "status")
    out["status"] = (_as_choice(arr, report, "status", schema.STATUSES, schema.DEFAULT_STATUS)
                     if arr is not None else _const_text(schema.DEFAULT_STATUS, n))
    _lists(table, schema.SERVICE_LISTS, out, report, n)
    _numbers(table, schema.SERVICE_NUMERIC, out, report, n)
    with np.errstate(invalid="ignore"):
        inverted = out["min_age"] > out["max_age"]
    report.rows(inverted, "min_age",
                lambda lo, hi: f"min_age {_fmt(lo)} is greater than max_age {_fmt(hi)}",
                out["min_age"], out["max_age"])
    _check_pair(out, report)
    return _with_extras(table, out, schema.SERVICE_REQUIRED, schema.SERVICE_OPTIONAL)


def _with_extras(table: pa.Table, out: dict, required, optional) -> tuple[pd.DataFrame, list[str]]:
    """The normalised frame in contract order, every other column kept as text after it."""
    contract = set(required) | set(optional)
    extras = [c for c in table.column_names if c not in contract]
    for col in extras:
        out[col] = _pandas_text(_as_text(table.column(col)))
    return _frame(out, list(required) + list(optional) + extras), extras


def _residents(raw: _Raw) -> tuple[pd.DataFrame | None, list[str]]:
    table, report = raw.table, raw.report
    if not _require(raw, schema.RESIDENT_REQUIRED):
        return None, []
    n = table.num_rows
    out: dict[str, pd.Series | np.ndarray] = {}
    out["resident_id"] = _as_ids(table.column("resident_id"), report, "resident_id")
    _check_unique(out["resident_id"], report, "resident_id")
    for col in RESIDENT_TEXT:
        arr = _column(table, col)
        out[col] = _pandas_text(_as_text(arr)) if arr is not None else _empty_text(n)
    arr = _column(table, "district")
    out["district"] = _pandas_text(pc.utf8_lower(_as_text(arr))) if arr is not None else _empty_text(n)
    arr = _column(table, "disability")
    out["disability"] = (_as_bool(arr, report, "disability") if arr is not None
                         else pd.Series(pd.array([pd.NA] * n, dtype="boolean")))
    _lists(table, schema.RESIDENT_LISTS, out, report, n)
    _numbers(table, schema.RESIDENT_NUMERIC, out, report, n)
    _check_pair(out, report)
    return _with_extras(table, out, schema.RESIDENT_REQUIRED, schema.RESIDENT_OPTIONAL)


def _interactions(raw: _Raw, service_ids: pd.Series | None, resident_ids: pd.Series | None) -> pd.DataFrame | None:
    table, report = raw.table, raw.report
    if not _require(raw, schema.INTERACTION_REQUIRED):
        return None
    n = table.num_rows
    out: dict[str, pd.Series | np.ndarray] = {}
    out["resident_id"] = _as_ids(table.column("resident_id"), report, "resident_id")
    out["service_id"] = _as_ids(table.column("service_id"), report, "service_id")
    _check_known(out["resident_id"], resident_ids, report, "resident_id", "residents")
    _check_known(out["service_id"], service_ids, report, "service_id", "services")
    arr = _column(table, "event")
    out["event"] = (_as_choice(arr, report, "event", schema.EVENTS, schema.DEFAULT_EVENT)
                    if arr is not None else _const_text(schema.DEFAULT_EVENT, n))
    arr = _column(table, "timestamp")
    out["timestamp"] = (_as_epoch(arr, report, "timestamp") if arr is not None
                        else np.zeros(n, dtype=np.int64))
    # every event is valid or already reported (and then replaced by the default event)
    event_index = pc.index_in(pa.array(out["event"], type=pa.string()), value_set=pa.array(schema.EVENTS))
    weights = np.array([schema.EVENT_WEIGHTS[e] for e in schema.EVENTS], dtype=np.float64)
    default_weight = weights[event_index.to_numpy(zero_copy_only=False)]
    arr = _column(table, "weight")
    if arr is None:
        out["weight"] = default_weight
    else:
        weight = _as_number(arr, report, "weight")
        with np.errstate(invalid="ignore"):
            negative = weight < 0
        report.rows(negative, "weight", lambda v: f"weight {_fmt(v)} is negative", weight)
        lo, hi = schema.RANGES["weight"]
        with np.errstate(invalid="ignore"):
            too_big = weight > hi
        report.rows(too_big, "weight", lambda v: f"weight {_fmt(v)} is above the maximum {hi}", weight)
        out["weight"] = np.where(np.isnan(weight), default_weight, weight)
    order = list(schema.INTERACTION_REQUIRED) + list(schema.INTERACTION_OPTIONAL)
    return _frame(out, order)


def _const_text(value: str, n: int) -> pd.Series:
    return pa.array([value] * n, type=pa.string()).to_pandas()


def _lists(table: pa.Table, columns: Sequence[str], out: dict, report: _Report, n: int) -> None:
    for col in columns:
        arr = _column(table, col)
        out[col] = _as_list(arr) if arr is not None else _empty_text(n)
        if col == "languages":
            _check_languages(out[col], report, col)


def _numbers(table: pa.Table, columns: Sequence[str], out: dict, report: _Report, n: int) -> None:
    for col in columns:
        arr = _column(table, col)
        values = _as_number(arr, report, col) if arr is not None else np.full(n, np.nan)
        _check_range(values, report, col)
        out[col] = values


def _check_pair(out: dict, report: _Report) -> None:
    lat, lon = np.isnan(out["latitude"]), np.isnan(out["longitude"])
    report.rows(~lat & lon, "longitude", lambda: "latitude is given without longitude")
    report.rows(lat & ~lon, "latitude", lambda: "longitude is given without latitude")


def _frame(columns: dict, order: Sequence[str]) -> pd.DataFrame:
    data = {}
    for name in order:
        v = columns[name]
        data[name] = v.reset_index(drop=True) if isinstance(v, pd.Series) else v
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- public entry points


def load_data_dir(path: str | os.PathLike, *, quiet: bool = True) -> CityData:
    """Read, validate and normalise ``services``, ``residents`` and ``interactions`` from a folder.

    Raises :class:`DataError` with every problem of all three files; prints per-table row
    counts and timings to stderr unless ``quiet`` (never row contents: resident data is personal).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataError([Problem(str(directory), None, None, "data directory does not exist")])
    raws: dict[str, _Raw | None] = {}
    early: list[Problem] = []
    for name in TABLES:
        file, fmt, problem = _find_table(directory, name)
        if problem is not None:
            early.append(problem)
            raws[name] = None
            continue
        started = time.perf_counter()
        raws[name] = _read_file(file, fmt)
        if not quiet:
            rows = raws[name].source["rows"]
            print(f"read {file.name}: {rows if rows is not None else '?':,} rows "
                  f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    started = time.perf_counter()
    services = residents = interactions = None
    service_extras: list[str] = []
    resident_extras: list[str] = []
    if raws["services"] is not None and raws["services"].table is not None:
        services, service_extras = _services(raws["services"])
    if raws["residents"] is not None and raws["residents"].table is not None:
        residents, resident_extras = _residents(raws["residents"])
    if raws["interactions"] is not None and raws["interactions"].table is not None:
        interactions = _interactions(
            raws["interactions"],
            services["service_id"] if services is not None else None,
            residents["resident_id"] if residents is not None else None,
        )
    if not quiet:
        print(f"validated in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    problems = list(early)
    for name in TABLES:
        if raws[name] is not None:
            problems += raws[name].report.problems
    # Order problems by table (services, residents, interactions), file-level ones first.
    order = {name: i for i, name in enumerate(TABLES)}
    problems.sort(key=lambda p: order.get(Path(p.file).stem, len(TABLES)))
    if problems:
        raise DataError(problems)
    return CityData(
        services=services,
        residents=residents,
        interactions=interactions,
        source={name: raws[name].source for name in TABLES},
        service_extra_columns=service_extras,
        resident_extra_columns=resident_extras,
    )


def _read_one(path: str | os.PathLike) -> _Raw:
    """One table file on its own (csv or parquet by extension); DataError if it cannot be."""
    file = Path(path)
    fmt = _format_of(file)
    if fmt is None:
        raise DataError([Problem(str(file), None, None,
                                 f"unsupported file type {file.suffix or '(none)'!r}: use .csv or .parquet")])
    if not file.is_file():
        raise DataError([Problem(str(file), None, None, "file does not exist")])
    return _read_file(file, fmt)


def load_interactions(path: str | os.PathLike, *, services: pd.DataFrame,
                      residents: pd.DataFrame) -> pd.DataFrame:
    """Read one interactions file (csv or parquet) checked against the given services and residents.

    Used for a holdout file and for feedback exported by the API. Raises :class:`DataError`.
    """
    raw = _read_one(path)
    frame = None
    if raw.table is not None:
        frame = _interactions(raw, services["service_id"], residents["resident_id"])
    if raw.report.problems:
        raise DataError(raw.report.problems)
    return frame


def load_residents(path: str | os.PathLike) -> tuple[pd.DataFrame, list[str]]:
    """Read one residents table (csv or parquet) on its own, e.g. a caseload to allocate.

    Returns the normalised frame and its extra columns; raises :class:`DataError`.
    """
    raw = _read_one(path)
    frame, extras = (None, []) if raw.table is None else _residents(raw)
    if raw.report.problems:
        raise DataError(raw.report.problems)
    return frame, extras


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` as CSV or Parquet (by extension) atomically: readers see the old file or the new one.

    The frame goes to a temporary file in the same folder, is fsynced, then renamed over ``path``;
    on any failure the temporary file is removed and an existing ``path`` is left untouched.
    """
    target = Path(path)
    fmt = _format_of(target)
    if fmt is None:
        raise ValueError(f"{target}: unsupported file type {target.suffix or '(none)'!r}; use .csv or .parquet")
    if fmt == "csv":
        with atomic_file(target, "w", encoding="utf-8", newline="") as f:
            df.to_csv(f, index=False)
    else:
        with atomic_file(target, "wb") as f:
            df.to_parquet(f, index=False, engine="pyarrow")


