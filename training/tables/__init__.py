"""Load and validate a city's data directory (services, residents, interactions).

A data directory holds three tables, each as ``NAME.csv`` or ``NAME.parquet`` (exactly one of the
two): ``services``, ``residents`` and ``interactions``; the columns are those of
:mod:`recommender.schema`. :func:`load_data_dir` reads all three, checks every row and either
returns a :class:`CityData` of normalised frames or raises :class:`DataError` listing *every*
problem of all three files (nothing is trained from invalid data). :func:`load_interactions` reads
one further interactions file (a holdout, or feedback exported by the API) checked against known
ids, :func:`load_residents` one residents table on its own (a caseload to allocate), and
:func:`write_table` writes a frame atomically.

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
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from recommender import schema
from recommender.files import atomic_file
from recommender.languages import normalise_language
from recommender.taxonomy import Taxonomy

from .problems import MAX_ROWS_PER_CHECK, DataError, Problem, Report
from .readers import RawTable, clean_column_names, find_table, format_of, read_file
from .schemas import interactions_frame, residents_frame, services_frame

__all__ = [
    "CityData",
    "DataError",
    "Problem",
    "load_data_dir",
    "load_interactions",
    "load_residents",
    "write_table",
    "validate_services",
    "load_taxonomy",
    "taxonomy_from_frame",
    "MAX_ROWS_PER_CHECK",
]

#: A check failing on more rows than this lists these and summarises the rest in one problem.

TABLES = ("services", "residents", "interactions")


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



# --------------------------------------------------------------------------- public entry points


def load_data_dir(path: str | os.PathLike, *, quiet: bool = True) -> CityData:
    """Read, validate and normalise ``services``, ``residents`` and ``interactions`` from a folder.

    Raises :class:`DataError` with every problem of all three files; prints per-table row
    counts and timings to stderr unless ``quiet`` (never row contents: resident data is personal).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataError([Problem(str(directory), None, None, "data directory does not exist")])
    raws: dict[str, RawTable | None] = {}
    early: list[Problem] = []
    for name in TABLES:
        file, fmt, problem = find_table(directory, name)
        if problem is not None:
            early.append(problem)
            raws[name] = None
            continue
        started = time.perf_counter()
        raws[name] = read_file(file, fmt)
        if not quiet:
            rows = raws[name].source["rows"]
            print(f"read {file.name}: {rows if rows is not None else '?':,} rows "
                  f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    started = time.perf_counter()
    services = residents = interactions = None
    service_extras: list[str] = []
    resident_extras: list[str] = []
    if raws["services"] is not None and raws["services"].table is not None:
        services, service_extras = services_frame(raws["services"])
    if raws["residents"] is not None and raws["residents"].table is not None:
        residents, resident_extras = residents_frame(raws["residents"])
    if raws["interactions"] is not None and raws["interactions"].table is not None:
        interactions = interactions_frame(
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


def load_interactions(path: str | os.PathLike, *, services: pd.DataFrame,
                      residents: pd.DataFrame) -> pd.DataFrame:
    """Read one interactions file (csv or parquet) checked against the given services and residents.

    Used for a holdout file and for feedback exported by the API. Raises :class:`DataError`.
    """
    raw = _read_one(path)
    frame = None
    if raw.table is not None:
        frame = interactions_frame(raw, services["service_id"], residents["resident_id"])
    if raw.report.problems:
        raise DataError(raw.report.problems)
    return frame


def load_residents(path: str | os.PathLike) -> tuple[pd.DataFrame, list[str]]:
    """Read one residents table (csv or parquet) on its own: a caseload to allocate, profiles recorded
    by the API.

    Returns the normalised frame and its extra columns; raises :class:`DataError`.
    """
    raw = _read_one(path)
    frame, extras = (None, []) if raw.table is None else residents_frame(raw)
    if raw.report.problems:
        raise DataError(raw.report.problems)
    return frame, extras


def _read_one(path: str | os.PathLike) -> RawTable:
    """One table file on its own (csv or parquet by extension); DataError if it cannot be."""
    file = Path(path)
    fmt = format_of(file)
    if fmt is None:
        raise DataError([Problem(str(file), None, None,
                                 f"unsupported file type {file.suffix or '(none)'!r}: use .csv or .parquet")])
    if not file.is_file():
        raise DataError([Problem(str(file), None, None, "file does not exist")])
    return read_file(file, fmt)


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` as CSV or Parquet (by extension) atomically: readers see the old file or the new one.

    The frame goes to a temporary file in the same folder, is fsynced, then renamed over ``path``;
    on any failure the temporary file is removed and an existing ``path`` is left untouched.
    """
    target = Path(path)
    fmt = format_of(target)
    if fmt is None:
        raise ValueError(f"{target}: unsupported file type {target.suffix or '(none)'!r}; use .csv or .parquet")
    if fmt == "csv":
        with atomic_file(target, "w", encoding="utf-8", newline="") as f:
            df.to_csv(f, index=False)
    else:
        with atomic_file(target, "wb") as f:
            df.to_parquet(f, index=False, engine="pyarrow")




def validate_services(services: pd.DataFrame, name: str = "services") -> tuple[pd.DataFrame, list[str]]:
    """Validate an in-memory services table exactly as :func:`load_data_dir` validates a file (record
    1 is row 1); returns the normalised frame and its extra columns, or raises :class:`DataError`."""
    if not isinstance(services, pd.DataFrame):
        raise TypeError(f"services must be a pandas DataFrame, not {type(services).__name__}")
    cells = {}
    for col in services.columns:
        values = services[col].tolist()
        cells[str(col)] = pa.array([None if v is None or (isinstance(v, float) and v != v) or v is pd.NA
                                    else str(int(v)) if isinstance(v, float) and v.is_integer() and col not in
                                    schema.SERVICE_NUMERIC else str(v) for v in values], type=pa.string())
    report = Report(name, first_row=1)
    table = clean_column_names(pa.table(cells) if cells else pa.table({}), report)
    frame, extras = services_frame(RawTable(table, report, {}))
    if report.problems:
        raise DataError(report.problems)
    return frame, extras


def load_taxonomy(data_dir: str | os.PathLike) -> Taxonomy:
    """``taxonomy.csv`` (code, name, parent, optional type and ``name_<lang>`` columns) when the data
    directory has one; codes alone otherwise."""
    path = Path(data_dir) / "taxonomy.csv"
    if not path.exists():
        return Taxonomy()
    return taxonomy_from_frame(pd.read_csv(path, dtype=str, keep_default_na=False), str(path))


def taxonomy_from_frame(frame: pd.DataFrame | None, name: str = "taxonomy") -> Taxonomy:
    """A :class:`recommender.taxonomy.Taxonomy` from a ``code,name,parent[,type]`` frame (or none)."""
    if frame is None:
        return Taxonomy()
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    missing = {"code", "name", "parent"} - set(frame.columns)
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(repr(c) for c in sorted(missing))} "
                         "(columns: code, name, parent[, type])")
    frame = frame.astype(object).where(frame.notna(), "")
    columns = ["code", "name", "parent"] + (["type"] if "type" in frame.columns else [])
    taxonomy = Taxonomy.from_rows(frame[columns].itertuples(index=False, name=None))
    for col in frame.columns:
        if col.startswith("name_"):
            lang = col[len("name_"):]
            try:
                lang = normalise_language(lang)
            except ValueError as e:
                raise ValueError(f"{name}: column {col!r}: {e}") from None
            taxonomy.add_translations(lang, zip(frame["code"], frame[col]))
    return taxonomy
