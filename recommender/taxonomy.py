"""Need and service categories as one taxonomy.

A code's parent comes from an explicit table (``taxonomy.csv``: code, name, parent — e.g. an imported
211 taxonomy where ``101-02-01`` is a child of ``101-02``) or, failing that, from the code itself:
``food/pantry`` is a child of ``food``. A need matches a service whose category is the need's term or
any descendant of it, so a resident needing ``food`` is answered by a ``food/pantry`` service, but one
needing ``food/pantry`` is not answered by a generic ``food`` service... unless nothing more specific
exists; that judgement belongs to ranking, not here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema import CODE_SEP


@dataclass
class Taxonomy:
    #: code -> parent code ('' for a root)
    parents: dict[str, str] = field(default_factory=dict)
    #: code -> human-readable name
    names: dict[str, str] = field(default_factory=dict)
    #: code -> the source taxonomy's kind of term ("service", "situation"), where it has kinds
    kinds: dict[str, str] = field(default_factory=dict)
    #: language code -> code -> the term's name in that language (taxonomy.csv ``name_<lang>`` columns,
    #: e.g. ``name_zh``, ``name_es``): free-text needs are matched in those languages too, and
    #: explanations name terms in the request's language
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: code -> readable path, computed once for every code when the taxonomy is built (paths are shown
    #: with every suggestion; serving only reads them)
    _paths: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._compute_paths()

    def _compute_paths(self) -> None:
        self._paths = {c: " > ".join(self.names.get(a, a) for a in reversed(self.ancestors(c))) for c in self.parents}

    @classmethod
    def from_rows(cls, rows) -> "Taxonomy":
        """Build from (code, name, parent[, kind]) rows; codes are lower-cased like list cells."""
        tax = cls()
        for row in rows:
            code, name, parent = row[0], row[1], row[2]
            kind = str(row[3]).strip().lower() if len(row) > 3 and row[3] is not None else ""
            code = str(code).strip().lower()
            if not code:
                continue
            parent = "" if parent is None else str(parent).strip().lower()
            if parent == "nan":
                parent = ""
            tax.parents[code] = parent
            tax.names[code] = str(name).strip() if name is not None and str(name) != "nan" else code
            if kind and kind != "nan":
                tax.kinds[code] = kind
        tax._compute_paths()
        return tax

    def with_codes(self, codes) -> "Taxonomy":
        """A copy with the codes seen in the data added (this taxonomy is left as it is)."""
        out = Taxonomy(dict(self.parents), dict(self.names), dict(self.kinds),
                       {lang: dict(names) for lang, names in self.translations.items()})
        out.add_codes(codes)
        return out

    def add_codes(self, codes) -> None:
        """Register codes seen in the data; implicit parents come from the ``a/b`` form. Only while
        building a taxonomy (``with_codes`` leaves the original alone)."""
        for code in codes:
            code = str(code).strip().lower()
            while code and code not in self.parents:
                parent = code.rsplit(CODE_SEP, 1)[0] if CODE_SEP in code else ""
                self.parents[code] = parent
                self.names.setdefault(code, code.rsplit(CODE_SEP, 1)[-1].replace("_", " ").replace("-", " "))
                code = parent
        self._compute_paths()

    def ancestors(self, code: str) -> list[str]:
        """The code and every ancestor, nearest first. Guards against cycles in imported tables."""
        out: list[str] = []
        seen: set[str] = set()
        code = code.strip().lower()
        while code and code not in seen:
            out.append(code)
            seen.add(code)
            parent = self.parents.get(code)
            if parent is None:
                parent = code.rsplit(CODE_SEP, 1)[0] if CODE_SEP in code else ""
            code = parent
        return out

    def path(self, code: str) -> str:
        """The readable path from the root, e.g. ``Food > Food Pantry``."""
        known = self._paths.get(code)
        if known is not None:
            return known
        return " > ".join(self.names.get(c, c) for c in reversed(self.ancestors(code)))  # not stored: read-only

    def path_in(self, code: str, lang: str | None) -> str:
        """The readable path in ``lang`` where the taxonomy names terms in it (English otherwise)."""
        names = self.translations.get(lang or "", None)
        if not names:
            return self.path(code)
        return " > ".join(names.get(c) or self.names.get(c, c) for c in reversed(self.ancestors(code)))

    def add_translations(self, lang: str, names) -> None:
        """Names of terms in another language ((code, name) pairs); only while building."""
        table = self.translations.setdefault(lang, {})
        for code, name in names:
            code, name = str(code).strip().lower(), "" if name is None else str(name).strip()
            if code and name and name != "nan":
                table[code] = name

    def is_within(self, category: str, need: str) -> bool:
        """True when ``category`` is ``need`` or one of its descendants."""
        return need.strip().lower() in self.ancestors(category)

    def codes(self) -> list[str]:
        return sorted(self.parents)

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [(c, self.names.get(c, c), self.parents.get(c, ""), self.kinds.get(c, "")) for c in self.codes()]
