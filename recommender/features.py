"""Side features of residents and services, as sparse indicator matrices.

One function turns a record into named tokens (``age:65-74``, ``need:food``, ``district:d04``), so a
table row at training and an inline profile at request time go through exactly the same code; the
fitted vocabulary maps tokens to columns and gives the names explanations show.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .profile import Profile
from .schema import LIST_SEP, split_list
from .taxonomy import Taxonomy

AGE_EDGES = (18, 25, 35, 45, 55, 65, 75, 85)
HOUSEHOLD_EDGES = (2, 3, 4, 5)


def _band(value, edges, unit="") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if not edges:
        return "any"
    lo = None
    for edge in edges:
        if value < edge:
            return f"<{edge}{unit}" if lo is None else f"{lo}-{edge - 1}{unit}"
        lo = edge
    return f"{lo}+{unit}"


def _bands(values: pd.Series, edges) -> np.ndarray:
    """``_band`` over a column at once (the same labels)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    if not edges:
        out = np.full(len(v), "any", dtype=object)
    else:
        labels = np.array([f"<{edges[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:])]
                          + [f"{edges[-1]}+"], dtype=object)
        out = labels[np.searchsorted(np.asarray(edges, dtype=np.float64), v, side="right")]
    out[np.isnan(v)] = "unknown"
    return out


def _text(values: pd.Series) -> pd.Series:
    """A text column as read by profile_from_row: lower-cased, '' when missing."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()


class ResidentFeaturizer:
    """Tokens of a resident profile -> sparse row. Fit learns income bands and the vocabulary.

    Parameters
    ----------
    income_bands : number of quantile bands for monthly income.
    max_extra_values : an extra column keeps at most this many most frequent values; rarer ones
        share an ``other`` token (a free-text column must not become a feature per resident).
    """

    def __init__(self, income_bands: int = 5, max_extra_values: int = 50):
        self.income_bands = income_bands
        self.max_extra_values = max_extra_values

    def fit(self, residents: pd.DataFrame, taxonomy: Taxonomy, extra_columns: list[str] = ()) -> "ResidentFeaturizer":
        self.fit_transform(residents, taxonomy, extra_columns)
        return self

    def _fit_bands(self, residents: pd.DataFrame, taxonomy: Taxonomy, extra_columns) -> None:
        income = pd.to_numeric(residents.get("monthly_income", pd.Series(dtype=float)), errors="coerce").dropna()
        if len(income):
            qs = np.quantile(income, np.linspace(0, 1, self.income_bands + 1)[1:-1])
            self.income_edges_ = tuple(sorted({int(round(q, -1)) for q in qs if q > 0}))
        else:
            self.income_edges_ = ()
        self.taxonomy_ = taxonomy
        self.extra_values_ = {}
        for col in extra_columns:
            counts = residents[col].astype(str).str.strip().str.lower().value_counts()
            counts = counts[(counts.index != "") & (counts.index != "nan")]
            self.extra_values_[col] = set(counts.index[: self.max_extra_values])

    def fit_transform(self, residents: pd.DataFrame, taxonomy: Taxonomy, extra_columns: list[str] = ()) -> sp.csr_matrix:
        """Fit and transform in one pass over the rows (a million profiles are tokenised once)."""
        self._fit_bands(residents, taxonomy, extra_columns)
        rows, tokens = self._frame_tokens(residents)
        codes, uniques = pd.factorize(tokens)
        self.feature_names_ = [str(t) for t in uniques]
        self.vocabulary_ = {t: i for i, t in enumerate(self.feature_names_)}
        return self._pairs_matrix(rows, codes, len(residents))

    def tokens(self, p: Profile) -> list[str]:
        out = [
            f"age:{_band(p.age, AGE_EDGES)}",
            f"gender:{p.gender or 'unknown'}",
            f"district:{p.district or 'unknown'}",
            f"household:{_band(p.household_size, HOUSEHOLD_EDGES)}",
            f"income:{_band(p.monthly_income, self.income_edges_)}",
            f"employment:{p.employment_status or 'unknown'}",
            f"disability:{'unknown' if p.disability is None else ('yes' if p.disability else 'no')}",
        ]
        out += [f"language:{lang}" for lang in p.languages]
        needs = {a for n in p.needs for a in self.taxonomy_.ancestors(n)}
        out += [f"need:{n}" for n in sorted(needs)]
        for col, values in self.extra_values_.items():
            v = p.extra.get(col)
            if v:
                out.append(f"{col}:{v if v in values else 'other'}")
        return out

    def transform(self, residents: pd.DataFrame) -> sp.csr_matrix:
        rows, tokens = self._frame_tokens(residents)
        codes = pd.Series(tokens).map(self.vocabulary_).to_numpy(dtype=np.float64)
        known = ~np.isnan(codes)
        return self._pairs_matrix(rows[known], codes[known].astype(np.int64), len(residents))

    def _pairs_matrix(self, rows: np.ndarray, cols: np.ndarray, n_rows: int) -> sp.csr_matrix:
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                          shape=(n_rows, len(self.vocabulary_)))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def _frame_tokens(self, residents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(row, token) pairs of a whole table, the same tokens :meth:`tokens` gives row by row,
        built column by column (a million profiles in seconds, not minutes)."""
        n = len(residents)
        base = np.arange(n)
        empty = pd.Series([""] * n, index=residents.index)
        rows, toks = [], []

        def add(prefix: str, values) -> None:
            rows.append(base)
            toks.append(prefix + np.asarray(values, dtype=object))

        def col(name):
            return residents[name] if name in residents.columns else empty

        nan = pd.Series(np.nan, index=residents.index)
        add("age:", _bands(residents["age"] if "age" in residents.columns else nan, AGE_EDGES))
        for name, prefix in (("gender", "gender:"), ("district", "district:")):
            v = _text(col(name))
            add(prefix, v.where(v != "", "unknown"))
        add("household:", _bands(residents["household_size"] if "household_size" in residents.columns else nan,
                                 HOUSEHOLD_EDGES))
        add("income:", _bands(residents["monthly_income"] if "monthly_income" in residents.columns else nan,
                              self.income_edges_))
        v = _text(col("employment_status"))
        add("employment:", v.where(v != "", "unknown"))
        if "disability" in residents.columns:
            d = residents["disability"].astype("boolean")
            dis = np.where(d.isna(), "unknown", np.where(d.fillna(False), "yes", "no"))
        else:
            dis = np.full(n, "unknown", dtype=object)
        add("disability:", dis)
        for name, prefix, expand in (("languages", "language:", False), ("needs", "need:", True)):
            items = _text(col(name)).str.split(LIST_SEP).explode()
            items = items.str.strip()
            items = items[items.str.len() > 0]
            if expand and len(items):
                ancestors = {c: self.taxonomy_.ancestors(c) for c in pd.unique(items)}
                items = items.map(ancestors).explode()
            r = residents.index.get_indexer(items.index) if len(items) else np.array([], dtype=np.int64)
            rows.append(r)
            toks.append(prefix + items.to_numpy(dtype=object))
        for name, values in self.extra_values_.items():
            v = _text(col(name))
            keep = (v != "").to_numpy()
            vals = np.where(v.isin(values), v, "other")[keep]
            rows.append(base[keep])
            toks.append(name + ":" + vals.astype(object))
        r = np.concatenate(rows).astype(np.int64)
        t = np.concatenate(toks).astype(object)
        pairs = pd.DataFrame({"r": r, "t": t}).drop_duplicates()
        return pairs["r"].to_numpy(), pairs["t"].to_numpy(dtype=object)

    def transform_profile(self, p: Profile) -> sp.csr_matrix:
        return self._matrix([self.tokens(p)], 1)

    def indices(self, p: Profile) -> np.ndarray:
        """Column indices of a profile's known tokens (the fast path for one request)."""
        vocab = self.vocabulary_
        return np.array(sorted({vocab[t] for t in self.tokens(p) if t in vocab}), dtype=np.int64)

    def _matrix(self, token_lists, n_rows: int) -> sp.csr_matrix:
        vocab = self.vocabulary_
        indptr = [0]
        indices: list[int] = []
        for tokens in token_lists:
            indices.extend(sorted({vocab[t] for t in tokens if t in vocab}))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
                             shape=(n_rows, len(vocab)))

    def get_params_json(self) -> dict:
        return {"income_bands": self.income_bands, "max_extra_values": self.max_extra_values,
                "income_edges": list(self.income_edges_), "vocabulary": self.feature_names_,
                "extra_values": {k: sorted(v) for k, v in self.extra_values_.items()}}

    @classmethod
    def from_json(cls, data: dict, taxonomy: Taxonomy) -> "ResidentFeaturizer":
        self = cls(data["income_bands"], data["max_extra_values"])
        self.income_edges_ = tuple(data["income_edges"])
        self.taxonomy_ = taxonomy
        self.extra_values_ = {k: set(v) for k, v in data["extra_values"].items()}
        self.feature_names_ = list(data["vocabulary"])
        self.vocabulary_ = {t: i for i, t in enumerate(self.feature_names_)}
        return self


_PROFILE_FIELDS = set(Profile.__dataclass_fields__) - {"extra"}


def _profile_from_row(cols: list[str], row: tuple) -> Profile:
    """A Profile from an already-validated table row (no re-validation: tables are checked on load)."""
    p = Profile()
    for col, value in zip(cols, row):
        if col == "resident_id":
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value == "":
            continue
        if col in ("languages", "needs"):
            setattr(p, col, split_list(value))
        elif col in _PROFILE_FIELDS:
            if col == "disability":
                p.disability = bool(value)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                setattr(p, col, float(value))
            else:
                setattr(p, col, str(value).lower())
        else:
            p.extra[col] = str(value).strip().lower()
    return p


def profile_from_row(cols: list[str], row: tuple) -> Profile:
    return _profile_from_row(cols, row)


def profiles_at(residents: pd.DataFrame, rows) -> list[Profile]:
    """Profiles of the residents table's rows ``rows`` (one positional selection, not one per row)."""
    cols = list(residents.columns)
    return [_profile_from_row(cols, row) for row in
            residents.iloc[np.asarray(rows, dtype=np.int64)].itertuples(index=False, name=None)]


class ServiceFeaturizer:
    """Tokens of a service (categories with ancestors, eligibility shape, languages, extra columns)
    plus character n-gram TF-IDF of its name and description.

    Character n-grams within word boundaries work for English and for Chinese alike: Chinese text has
    no spaces, so word tokenisers see a whole sentence as one token, while 2-3 character grams catch
    the words inside it.
    """

    def __init__(self, max_text_features: int = 2000, max_extra_values: int = 50, text: bool = True):
        self.max_text_features = max_text_features
        self.max_extra_values = max_extra_values
        #: False leaves the TF-IDF out where there are tokens (a catalogue too large for training to use
        #: its text: the n-grams of 50,000 descriptions take several seconds)
        self.text = text

    def _tokens(self, catalog, i: int) -> list[str]:
        rec = catalog.records[i]
        out = [f"category:{t}" for t in sorted({a for c in catalog.lists["categories"][i]
                                                for a in catalog.taxonomy.ancestors(c)})]
        out += [f"language:{lang}" for lang in catalog.lists["languages"][i]]
        out.append("districts:all" if catalog.districts_any[i] else "districts:limited")
        out.append("age:limited" if not (math.isnan(catalog.min_age[i]) and math.isnan(catalog.max_age[i]))
                   else "age:all")
        out.append("income:limited" if not math.isnan(catalog.max_income[i]) else "income:all")
        for col in catalog.extra_columns:
            v = str(rec.get(col) or "").strip().lower()
            if v and v in self.extra_values_.get(col, ()):
                out.append(f"{col}:{v}")
        return out

    def _texts(self, catalog) -> list[str]:
        return [f"{r.get('name') or ''} {r.get('description') or ''}" for r in catalog.records]

    def fit_transform(self, catalog) -> sp.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.extra_values_ = {}
        for col in catalog.extra_columns:
            counts = pd.Series([str(r.get(col) or "").strip().lower() for r in catalog.records]).value_counts()
            counts = counts[counts.index != ""]
            # a column that is mostly unique (fees, phone numbers) says nothing shared between services
            if len(counts) and counts.iloc[0] > 1:
                self.extra_values_[col] = set(counts.index[: self.max_extra_values][counts.iloc[: self.max_extra_values] > 1])
        vocab: dict[str, int] = {}
        rows = [self._tokens(catalog, i) for i in range(len(catalog))]
        for tokens in rows:
            for t in tokens:
                vocab.setdefault(t, len(vocab))
        if self.text or not vocab:
            self.tfidf_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), max_features=self.max_text_features,
                                          sublinear_tf=True, dtype=np.float32)
            text = self.tfidf_.fit_transform(self._texts(catalog))
            names = self.tfidf_.get_feature_names_out()
        else:
            self.tfidf_, names = None, []
            text = sp.csr_matrix((len(catalog), 0), dtype=np.float32)
        self.feature_names_ = list(vocab) + [f"text:{t}" for t in names]
        self.vocabulary_ = vocab
        return self._stack(rows, text)

    def _stack(self, rows, text) -> sp.csr_matrix:
        indptr, indices = [0], []
        for tokens in rows:
            indices.extend(sorted({self.vocabulary_[t] for t in tokens if t in self.vocabulary_}))
            indptr.append(len(indices))
        tok = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                            shape=(len(rows), len(self.vocabulary_)))
        return sp.hstack([tok, text], format="csr", dtype=np.float32)
