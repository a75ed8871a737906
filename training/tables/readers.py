"""Reading table files (CSV, Parquet) into Arrow tables, with their problems: encoding, ragged rows,
duplicate or blank column names, which of NAME.csv / NAME.parquet exists."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recommender.files import sha256_file

from .problems import Problem, Report

FORMATS = ("csv", "parquet")


# --------------------------------------------------------------------------- reading files


@dataclass
class RawTable:
    """A file read as an arrow table, with lower-cased column names and its provenance."""

    table: pa.Table
    report: Report
    source: dict


def format_of(path: Path) -> str | None:
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def _read_csv_header(path: Path) -> list[str] | None:
    # Read with the csv module so a quoted header cell is parsed the same way arrow parses data;
    # surrogateescape keeps bad bytes in the data rows for arrow (and _report_bad_utf8) to find.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        return next(csv.reader(f), None)


def _read_csv(path: Path, report: Report) -> pa.Table | None:
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


def _report_bad_utf8(table: pa.Table, header: list[str], report: Report) -> None:
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


def _read_parquet(path: Path, report: Report) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        report.add(f"cannot be read as Parquet: {e}")
        return None


def read_file(path: Path, fmt: str) -> RawTable:
    report = Report(str(path), first_row=2 if fmt == "csv" else 1)
    source = {"path": str(path), "format": fmt, "sha256": None, "bytes": None, "rows": None}
    try:
        source["sha256"] = sha256_file(path)
        source["bytes"] = path.stat().st_size
    except OSError as e:
        report.add(f"cannot be read: {e.strerror or e}")
        return RawTable(None, report, source)
    table = _read_csv(path, report) if fmt == "csv" else _read_parquet(path, report)
    if table is not None:
        table = clean_column_names(table, report)
        source["rows"] = table.num_rows
    return RawTable(table, report, source)


def clean_column_names(table: pa.Table, report: Report) -> pa.Table:
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


def find_table(directory: Path, name: str) -> tuple[Path | None, str | None, Problem | None]:
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


