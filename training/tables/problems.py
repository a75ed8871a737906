"""Problems found in input tables, collected (not raised one by one) so a load reports everything."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa




MAX_ROWS_PER_CHECK = 100
#: ``str(DataError)`` lists at most this many problems.
MAX_LISTED = 50


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


class DataError(ValueError):
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



# --------------------------------------------------------------------------- problem collection


class Report:
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
        columns = [take(v, shown) for v in values]
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


def take(values, idx: np.ndarray) -> list:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(idx, type=pa.int64())).to_pylist()
    if isinstance(values, (pd.Series, pd.Index)):
        return values.iloc[idx].tolist() if isinstance(values, pd.Series) else values[idx].tolist()
    return np.asarray(values)[idx].tolist()


