"""Import real service directories into the servicematch data contract.

    report = import_directory("path/to/directory", "data/imported")   # -> ImportReport
    print(report)                                                     # readable summary

writes ``services.csv`` (the contract's services table plus ``EXTRA_COLUMNS``), ``taxonomy.csv``
(``code,name,parent``) and ``import_report.json`` into the output folder, all or nothing. The format
is detected: HSDS 3.0 tabular data package, HSDS 3.0 JSON (a file or a folder of files), HSDS 1.x data
package, or the Ohana API CSV layout of many 211 exports. Malformed files raise ``ImportFailed``
naming file, row/record and field; nothing is written then.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from . import hsds1, hsds3, ohana
from recommender.eligibility.listing import read_listing_rules

from .common import EXTRA_COLUMNS, SERVICE_COLUMNS, TAXONOMY_COLUMNS, Catalogue
from .output import render_csv, write_outputs
from .report import ERROR, INFO, VIOLATION, WARNING, ImportFailed, ImportReport, Issue

__all__ = [
    "EXTRA_COLUMNS", "FORMATS", "SERVICE_COLUMNS", "TAXONOMY_COLUMNS", "ImportFailed", "ImportReport",
    "Issue", "default_schema_dir", "detect_format", "import_directory",
]

HSDS3_TABULAR = "hsds3-tabular"
HSDS3_JSON = "hsds3-json"
HSDS1 = "hsds1"
OHANA = "ohana"
FORMATS = (HSDS3_TABULAR, HSDS3_JSON, HSDS1, OHANA)

# Files only one of the tabular generations has.
_HSDS3_FILES = {"service_at_location.csv", "taxonomy_terms.csv", "attributes.csv", "cost_options.csv",
                "taxonomies.csv", "addresses.csv", "schedules.csv", "organization_identifiers.csv"}
_HSDS1_FILES = {"services_at_location.csv", "services_taxonomy.csv", "eligibility.csv",
                "physical_addresses.csv", "postal_addresses.csv", "regular_schedules.csv",
                "holiday_schedules.csv", "payments_accepted.csv", "accessibility_for_disabilities.csv"}
_HSDS3_SERVICE_COLUMNS = {"eligibility_description", "minimum_age", "maximum_age", "fees_description"}


def default_schema_dir() -> Path | None:
    """The HSDS 3.0 schemas beside the project (``../shared/data/hsds3-schema``), if present."""
    path = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "hsds3-schema"
    return path if path.is_dir() else None


def _header(path: Path) -> set[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = next(csv.reader(fh), [])
    return {c.strip() for c in first}


def detect_format(source: str | Path) -> str:
    """Which of ``FORMATS`` a file or folder is; ``ImportFailed`` says why when it is none of them."""
    source = Path(source)
    if source.is_file():
        if source.suffix.lower() == ".json":
            return HSDS3_JSON
        raise ImportFailed([Issue(source.name, "give a directory, or an HSDS 3.0 JSON file", ERROR)])
    if not source.is_dir():
        raise ImportFailed([Issue(str(source), "source does not exist", ERROR)])
    names = {p.name for p in source.iterdir() if p.is_file()}
    if "services.csv" in names:
        header = _header(source / "services.csv")
        if ("location_id" in header and "organization_id" not in header) or \
                names & {"service_categories.json", "service_icarol_categories.json"}:
            return OHANA
        score3 = len(names & _HSDS3_FILES) + len(header & _HSDS3_SERVICE_COLUMNS)
        score1 = len(names & _HSDS1_FILES)
        return HSDS1 if score1 > score3 else HSDS3_TABULAR
    if any(n.lower().endswith(".json") and n != "datapackage.json" for n in names):
        return HSDS3_JSON
    raise ImportFailed([Issue(str(source), "no services.csv and no JSON files: not a service directory "
                              "this importer knows (HSDS 3.0, HSDS 1.x, Ohana)", ERROR)])


def import_directory(source: str | Path, out_dir: str | Path, *, schema_dir: str | Path | None = None,
                     strict: bool = False) -> ImportReport:
    """Import the directory at ``source`` into ``out_dir`` and report what was kept, dropped and why.

    ``schema_dir`` holds the HSDS 3.0 JSON Schemas (default: ``default_schema_dir()``; without them
    HSDS 3.0 sources are imported unvalidated, and the report says so). Schema violations are reported
    and the import goes on; with ``strict=True`` any violation fails the import instead.
    Raises ``ImportFailed`` (nothing written) for malformed files, an output folder that is the
    source, or a source in which no service could be imported.
    """
    source, out_dir = Path(source), Path(out_dir)
    try:
        return _import(source, out_dir, schema_dir, strict)
    except ImportFailed as exc:
        if exc.source:
            raise
        raise ImportFailed(exc.issues, str(source)) from None


def locate_tables(source: Path, report: ImportReport) -> tuple[Path, Path | None]:
    """(the folder the tables sit in, the data package descriptor) of a source folder: a data
    package imports from its root whatever subfolder holds its tables (``data/services.csv``), with a
    warning where ``datapackage.json`` names paths that do not exist."""
    descriptor = source / "datapackage.json" if (source / "datapackage.json").is_file() else None
    if not source.is_dir() or (source / "services.csv").is_file():
        return source, descriptor
    loose_json = any(p.is_file() and p.suffix.lower() == ".json" and p.name != "datapackage.json"
                     for p in source.iterdir())
    if loose_json and descriptor is None:
        return source, None  # HSDS 3.0 JSON files at the root
    found = sorted({p.parent for p in list(source.glob("*/services.csv")) + list(source.glob("*/*/services.csv"))},
                   key=lambda p: (len(p.parts), str(p)))
    if not found:
        return source, descriptor
    tables = found[0]
    rel = tables.relative_to(source).as_posix()
    if len(found) > 1:
        others = ", ".join(p.relative_to(source).as_posix() + "/" for p in found[1:])
        report.add(Issue(rel + "/", f"several folders hold a services.csv; read {rel}/, not {others}", WARNING))
    report.add(Issue(rel + "/", f"tables read from the subfolder {rel}/", INFO))
    if descriptor is not None:
        try:
            data = json.loads(descriptor.read_text(encoding="utf-8"))
            paths = [r.get("path") for r in data.get("resources", []) if isinstance(r, dict)]
        except (OSError, ValueError, AttributeError):
            paths = []
        wrong = [p for p in paths if isinstance(p, str) and not (source / p).is_file()]
        if wrong:
            report.add(Issue("datapackage.json", f"{len(wrong)} resource path(s) name no file beside it (e.g. "
                             f"{wrong[0]!r}); the tables were read from {rel}/", WARNING))
    else:
        inner = tables / "datapackage.json"
        descriptor = inner if inner.is_file() else None
    return tables, descriptor


def _import(source: Path, out_dir: Path, schema_dir: str | Path | None, strict: bool) -> ImportReport:
    report = ImportReport(source=str(source.resolve()), format="")
    tables_dir, descriptor = locate_tables(source, report) if source.is_dir() else (source, None)
    fmt = detect_format(tables_dir)
    report.format = fmt
    source_root = source if source.is_dir() else source.parent
    root = tables_dir if tables_dir.is_dir() else tables_dir.parent
    if out_dir.resolve() in (root.resolve(), source_root.resolve()):
        raise ImportFailed([Issue(str(out_dir), "the output folder is the source folder; choose another",
                                  ERROR)])
    source = tables_dir
    catalogue = Catalogue(report)

    schemas = None
    if fmt in (HSDS3_TABULAR, HSDS3_JSON):
        chosen = Path(schema_dir) if schema_dir is not None else default_schema_dir()
        if chosen is None:
            report.add(Issue(source.name, "no HSDS 3.0 schema folder found; not validated against the "
                             "official schemas (pass schema_dir)", WARNING))
        else:
            schemas = hsds3.Hsds3Schemas(chosen)
            report.schema = schemas.describe() if fmt == HSDS3_JSON else \
                f"{hsds3.SCHEMA_NAME} table schemas ({schemas.dir.name}/compiled_tabular.json)"

    if fmt == OHANA:
        ohana.import_directory(source, catalogue, report)
    elif fmt == HSDS1:
        hsds1.import_package(source, catalogue, report, descriptor)
    elif fmt == HSDS3_TABULAR:
        hsds3.import_tabular(source, catalogue, report, schemas, descriptor)
    else:
        if source.is_file():
            paths = [source]
        else:
            paths = [p for p in sorted(source.glob("*.json")) if p.name != "datapackage.json"]
            subdirs = sorted(p.name + "/" for p in source.iterdir() if p.is_dir())
            for sub in subdirs:
                report.files_ignored.append(sub)
                report.add(Issue(sub, "subfolder not read (import it on its own)", INFO))
        hsds3.import_json(paths, root, catalogue, report, schemas)

    services, taxonomy = catalogue.finish()
    report.counts.setdefault("violations", 0)
    # the listings' eligibility text is read at import too, so the report says how much of the
    # directory states rules only in words (training reads them again and saves them with the model)
    rules = read_listing_rules(services)
    report.counts["listings_with_text_rules"] = sum(1 for rs in rules.rules if rs)
    for rs in rules.rules:
        for kind in dict.fromkeys(r.kind for r in rs):
            report.counts[f"text_rules_{kind}"] = report.counts.get(f"text_rules_{kind}", 0) + 1
    if not services:
        raise ImportFailed([Issue(source.name, f"no service could be imported ({catalogue.read} read, all "
                                  "dropped)", ERROR)] + report.by_severity("dropped")[:20])
    if strict and report.by_severity(VIOLATION):
        raise ImportFailed(report.by_severity(VIOLATION))
    files = {
        "services.csv": render_csv(SERVICE_COLUMNS, services),
        "taxonomy.csv": render_csv(TAXONOMY_COLUMNS, taxonomy),
        "import_report.json": report.to_json().encode("utf-8"),
    }
    write_outputs(out_dir, files)
    return report
