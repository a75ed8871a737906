"""What an import kept, dropped and why: the ``ImportReport`` and its ``Issue`` list.

Every problem the importers meet becomes an ``Issue`` naming the file, the row (CSV) or record (JSON),
and the field, so an operator can find it in the source. Problems that make the import unsafe raise
``ImportFailed`` (which carries the same issues) before anything is written.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

#: The import stopped; nothing was written.
ERROR = "error"
#: A service (or taxonomy term) was not imported.
DROPPED = "dropped"
#: A second record with an id already imported; the first one was kept.
DUPLICATE = "duplicate"
#: The source breaks its own schema (HSDS JSON Schema / table schema); imported as far as possible.
VIOLATION = "violation"
#: A value could not be used as given: the field was left empty or normalised.
WARNING = "warning"
#: Noted; nothing was lost (a file not read, a column not in the schema).
INFO = "info"

SEVERITIES = (ERROR, DROPPED, DUPLICATE, VIOLATION, WARNING, INFO)


@dataclass(frozen=True)
class Issue:
    """One problem, located as precisely as the source allows."""

    #: path of the source file, relative to the imported directory
    file: str
    #: short, stable description; issues are grouped by it in summaries
    reason: str
    severity: str = WARNING
    #: CSV: row number as a spreadsheet shows it (the header is row 1, the first record row 2)
    row: int | None = None
    #: CSV: physical line the row starts on (differs from ``row`` after multi-line cells)
    line: int | None = None
    #: the record's id (service id, taxonomy code) or, without one, its JSON pointer
    record: str | None = None
    #: the column (CSV) or the JSON pointer from the document root (JSON)
    field: str | None = None
    #: the offending value or the validator's message
    detail: str | None = None

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (line {self.line})" if self.line not in (None, self.row) else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.reason}"
        if self.detail:
            text += f" ({_clip(self.detail, 160)})"
        return text

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ImportFailed(ValueError):
    """The source cannot be imported safely; nothing was written. ``issues`` says where and why."""

    def __init__(self, issues: list[Issue], source: str = ""):
        self.issues = list(issues)
        self.source = source
        shown = "; ".join(str(i) for i in self.issues[:10])
        more = f" (and {len(self.issues) - 10} more)" if len(self.issues) > 10 else ""
        prefix = f"cannot import {source}: " if source else "cannot import: "
        super().__init__(prefix + shown + more)


@dataclass
class ImportReport:
    """The outcome of one import: counts, every issue, and which files were read."""

    source: str
    format: str
    #: which schema the source was validated against (None: not validated against a JSON/table schema)
    schema: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    files_ignored: list[str] = field(default_factory=list)
    _seen: set = field(default_factory=set, init=False, repr=False, compare=False)

    def add(self, issue: Issue) -> None:
        # A location shared by many services would otherwise report its problem once per service.
        if issue not in self._seen:
            self._seen.add(issue)
            self.issues.append(issue)

    def issue(self, file: str, reason: str, severity: str = WARNING, **where) -> None:
        self.add(Issue(file=file, reason=reason, severity=severity, **where))

    def by_severity(self, severity: str) -> list[Issue]:
        return [i for i in self.issues if i.severity == severity]

    def reason_counts(self) -> list[tuple[str, str, int]]:
        """(severity, reason, count), most serious first, then most frequent."""
        counts = Counter((i.severity, i.reason) for i in self.issues)
        rank = {s: n for n, s in enumerate(SEVERITIES)}
        return sorted(((s, r, n) for (s, r), n in counts.items()), key=lambda t: (rank.get(t[0], 99), -t[2], t[1]))

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "schema": self.schema,
            "counts": dict(sorted(self.counts.items())),
            "issues_by_reason": [
                {"severity": s, "reason": r, "count": n} for s, r, n in self.reason_counts()
            ],
            "issues": [i.to_dict() for i in self.issues],
            "files_read": list(self.files_read),
            "files_ignored": list(self.files_ignored),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def __str__(self) -> str:
        c = self.counts
        lines = [
            f"Imported {self.source} ({self.format}"
            + (f", validated against {self.schema}" if self.schema else ", no schema validation") + ")",
            f"  services: {c.get('services_read', 0)} read, {c.get('services_written', 0)} written, "
            f"{c.get('services_dropped', 0)} dropped, {c.get('duplicates', 0)} duplicates",
            f"  with categories {c.get('with_categories', 0)}, coordinates {c.get('with_coordinates', 0)}, "
            f"languages {c.get('with_languages', 0)}, districts {c.get('with_districts', 0)}, "
            f"age limits {c.get('with_age_limits', 0)}",
            f"  taxonomy: {c.get('taxonomy_terms', 0)} terms; schema violations: {c.get('violations', 0)}",
        ]
        if self.issues:
            lines.append("  issues:")
            for severity, reason, count in self.reason_counts():
                examples = [i for i in self.issues if i.severity == severity and i.reason == reason][:2]
                lines.append(f"    [{severity}] {reason}: {count}")
                for ex in examples:
                    lines.append(f"        e.g. {_clip(str(ex), 200)}")
        if self.files_ignored:
            lines.append("  files not read: " + ", ".join(self.files_ignored))
        return "\n".join(lines)
