"""Store a table as plain arrays plus JSON, so a model folder never needs pickle.

Each column becomes one of three encodings:

* ``num``  – float64 array (NaN for missing);
* ``cat``  – int32 codes into a JSON vocabulary (-1 for missing);
* ``list`` – a CSR pair (indptr, indices) into a JSON vocabulary, for ``;``-separated cells.

The same encoding serves resident profiles (a million rows must stay compact) and the catalogue.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import LIST_SEP


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    filled = values.fillna("").astype(str)
    codes, uniques = pd.factorize(filled, sort=True)
    vocab = [str(u) for u in uniques]
    codes = codes.astype(np.int32)
    if "" in vocab:
        # '' means missing: map it to -1 and drop it from the vocabulary
        empty = vocab.index("")
        codes = np.where(codes == empty, -1, np.where(codes > empty, codes - 1, codes)).astype(np.int32)
        vocab.pop(empty)
    return codes, vocab


def _csr(values: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    exploded = values.fillna("").astype(str).str.split(LIST_SEP).explode()
    exploded = exploded[exploded.str.len() > 0]
    counts = exploded.groupby(level=0, sort=False).size().reindex(range(len(values)), fill_value=0)
    codes, uniques = pd.factorize(exploded, sort=True)
    indptr = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(counts.to_numpy(), out=indptr[1:])
    return indptr, codes.astype(np.int32), [str(u) for u in uniques]


def encode_table(df: pd.DataFrame, kinds: dict[str, str], prefix: str) -> tuple[dict[str, np.ndarray], dict]:
    """Encode ``df`` (default RangeIndex) column by column; ``kinds`` maps column -> num|cat|list."""
    df = df.reset_index(drop=True)
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"rows": int(len(df)), "columns": {}}
    for col, kind in kinds.items():
        if col not in df.columns:
            continue
        key = f"{prefix}{col}"
        if kind == "num":
            arrays[key] = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
            meta["columns"][col] = {"kind": "num"}
        elif kind == "cat":
            arrays[key], vocab = _codes(df[col])
            meta["columns"][col] = {"kind": "cat", "vocab": vocab}
        elif kind == "list":
            indptr, indices, vocab = _csr(df[col])
            arrays[key + ".indptr"], arrays[key + ".indices"] = indptr, indices
            meta["columns"][col] = {"kind": "list", "vocab": vocab}
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown column kind {kind!r}")
    return arrays, meta


class EncodedTable:
    """Read access to an encoded table without rebuilding a DataFrame."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict, prefix: str):
        self.meta = meta
        self.rows = int(meta["rows"])
        self._arrays = arrays
        self._prefix = prefix

    @property
    def columns(self) -> list[str]:
        return list(self.meta["columns"])

    def kind(self, col: str) -> str:
        return self.meta["columns"][col]["kind"]

    def vocab(self, col: str) -> list[str]:
        return self.meta["columns"][col].get("vocab", [])

    def array(self, col: str) -> np.ndarray:
        return self._arrays[f"{self._prefix}{col}"]

    def csr(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        key = f"{self._prefix}{col}"
        return self._arrays[key + ".indptr"], self._arrays[key + ".indices"]

    def value(self, col: str, row: int):
        """The decoded cell: float|None, str|None, or list[str]."""
        kind = self.kind(col)
        if kind == "num":
            v = float(self.array(col)[row])
            return None if np.isnan(v) else v
        if kind == "cat":
            code = int(self.array(col)[row])
            return None if code < 0 else self.vocab(col)[code]
        indptr, indices = self.csr(col)
        vocab = self.vocab(col)
        return [vocab[i] for i in indices[indptr[row]:indptr[row + 1]]]

    def record(self, row: int) -> dict:
        return {col: self.value(col, row) for col in self.columns}

    def to_frame(self) -> pd.DataFrame:
        """Decode back to the normalised DataFrame form (lists as ``;`` strings)."""
        out = {}
        for col in self.columns:
            kind = self.kind(col)
            if kind == "num":
                out[col] = self.array(col)
            elif kind == "cat":
                vocab = np.array(self.vocab(col) + [""], dtype=object)
                out[col] = vocab[self.array(col)]  # -1 picks the trailing ''
            else:
                indptr, indices = self.csr(col)
                vocab = self.vocab(col)
                out[col] = [LIST_SEP.join(vocab[i] for i in indices[indptr[r]:indptr[r + 1]])
                            for r in range(self.rows)]
        return pd.DataFrame(out)
