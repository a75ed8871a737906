"""Hand-written resident vignettes over the imported Baltimore directory: is the top 5 safe and complete?

    .venv/bin/python bench/baltimore_vignettes.py                      # build (or reuse) bench/out/baltimore
    .venv/bin/python bench/baltimore_vignettes.py --work /tmp/b --residents 5000 --epochs 3

Runs the pipeline a city runs on its real directory (``import-hsds`` of
``../shared/data/baltimore-icarol``, ``generate --catalog`` for a first usage history, ``train``), reusing
each stage already built in ``--work`` with the same parameters. Then, for each vignette of
``tests/fixtures/baltimore_vignettes.csv`` (a caseworker's one-line story, the profile, the needs as
taxonomy codes; written by hand from life, not from what the ranker returns), it asks for the top k
(default 5) and checks the issue's figure:

(a) no listed service is ``ineligible`` for the resident, neither under the rules read from its own
    eligibility text (``summarise(check_rules(extract_rules(text), profile))``, with the profile as the
    caseworker wrote it) nor under the structured checks (``recommender.eligibility.STRUCTURED_CHECKS``);
(b) every stated need that some service in the catalogue answers and is open to the resident
    (eligible or unknown under both) is answered by a listed item (``result.needs[need].service_ids``).

It also checks what a caseworker reads: an item whose listing has text rules cites the listing's own
words in its reasons, and an item of unknown eligibility comes with a question. Prints a table per
vignette and the totals; exits 1 on any failure. Profiles are fixture data, never real residents.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recommender.eligibility import Outcome, evaluate
from recommender.eligibility.checks import STRUCTURED_CHECKS
from recommender.eligibility.extract import extract_rules, listing_eligibility
from recommender.eligibility.rules import Rule, check_rules, format_rules, summarise
from recommender.engine import Recommender
from recommender.profile import Profile
from recommender.results import RecommendationResult
from recommender.schema import split_list

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".." / "shared" / "data" / "baltimore-icarol"
FIXTURE = ROOT / "tests" / "fixtures" / "baltimore_vignettes.csv"
COLUMNS = ("vignette_id", "story", "profile_json", "needs")
ELIGIBLE, UNKNOWN, INELIGIBLE = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE


# ----------------------------------------------------------------------------- the fixture


@dataclass
class Vignette:
    vignette_id: str
    story: str
    profile: dict
    needs: list[str]


def load_vignettes(path: Path = FIXTURE, taxonomy_codes: set[str] | None = None) -> list[Vignette]:
    """Read and validate the fixture; a bad row raises ValueError naming the file, row and column."""
    path = Path(path)
    out: list[Vignette] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        seen: set[str] = set()
        for row_no, row in enumerate(reader, start=2):
            where = f"{path}, row {row_no}"
            vid = (row["vignette_id"] or "").strip()
            if not vid:
                raise ValueError(f"{where}, column vignette_id: empty")
            if vid in seen:
                raise ValueError(f"{where}, column vignette_id: {vid!r} repeated")
            seen.add(vid)
            if not (row["story"] or "").strip():
                raise ValueError(f"{where}, column story: empty")
            try:
                profile = json.loads(row["profile_json"])
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}, column profile_json: not JSON ({e})") from None
            if not isinstance(profile, dict):
                raise ValueError(f"{where}, column profile_json: expected a JSON object")
            if "needs" in profile:
                raise ValueError(f"{where}, column profile_json: give needs in the needs column")
            try:
                Profile.from_dict(profile)
            except ValueError as e:
                raise ValueError(f"{where}, column profile_json: {e}") from None
            needs = split_list(row["needs"])
            if not needs:
                raise ValueError(f"{where}, column needs: no need given")
            if taxonomy_codes is not None:
                unknown = [n for n in needs if n not in taxonomy_codes]
                if unknown:
                    raise ValueError(f"{where}, column needs: {', '.join(unknown)} not in the taxonomy")
            out.append(Vignette(vid, row["story"].strip(), profile, needs))
    return out


# ----------------------------------------------------------------------------- the pipeline


def _write_json_atomic(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(work: Path, *, residents: int = 20_000, epochs: int = 20, eval_residents: int = 3_000, seed: int = 7,
          source: Path = SOURCE, log=print) -> Path:
    """Import, generate and train into ``work`` (reusing stages built with the same parameters); the models root."""
    from training.catalog_city import generate_for_catalog
    from training.importers import import_directory
    from training.pipeline import train

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stamp_path = work / "built.json"
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    want = {"source": str(Path(source).resolve()), "residents": int(residents), "seed": int(seed),
            "epochs": int(epochs), "eval_residents": int(eval_residents)}
    catalog, city, models = work / "catalog", work / "city", work / "models"
    stale = stamp.get("source") != want["source"] or not (catalog / "services.csv").exists()
    if stale:
        t = time.perf_counter()
        report = import_directory(source, catalog)
        log(f"imported {report.counts.get('services_written', '?')} services ({time.perf_counter() - t:.1f}s)")
    stale = stale or any(stamp.get(k) != want[k] for k in ("residents", "seed")) or not (city / "interactions.csv").exists()
    if stale:
        t = time.perf_counter()
        info = generate_for_catalog(catalog, city, residents=residents, seed=seed, progress=False)
        log(f"generated {info['residents']:,} residents, {info['interactions']:,} interactions "
            f"({time.perf_counter() - t:.1f}s)")
    stale = stale or any(stamp.get(k) != want[k] for k in ("epochs", "eval_residents")) \
        or not (models / "CURRENT").exists()
    if stale:
        t = time.perf_counter()
        # force: a rebuilt city has a new holdout, so "better than the current model" compares nothing
        rep = train(city, models, epochs=epochs, eval_residents=eval_residents, force=True, quiet=True)
        log(f"trained {rep.version} ({time.perf_counter() - t:.1f}s)")
        _write_json_atomic(stamp_path, want)
    return models


# ----------------------------------------------------------------------------- the checks


@dataclass
class ItemCheck:
    rank: int
    service_id: str
    name: str
    engine_status: Outcome
    text_status: Outcome           # under the listing's own text rules (eligible when it has none)
    structured_status: Outcome     # under the structured checks
    rules: str                 # the text rules, compact form
    needs: list[str]
    problems: list[str] = field(default_factory=list)   # explanation problems (reasons, questions)


@dataclass
class VignetteCheck:
    vignette: Vignette
    items: list[ItemCheck]
    #: need -> number of services in the catalogue answering it and open to the resident
    answerable: dict[str, int]
    #: need -> the listed services the result says answer it
    answered: dict[str, list[str]]
    #: need -> why the result answers it with nothing (the engine's words), when it does not
    why_not: dict[str, str]
    violations: list[str]       # (a): an ineligible service listed
    unanswered: list[str]       # (b): an answerable need left unanswered
    #: services in the catalogue the resident is ineligible for (what (a) guards against)
    excluded: int = 0

    @property
    def explanation_problems(self) -> list[str]:
        return [f"{it.service_id}: {p}" for it in self.items for p in it.problems]


class VignetteChecker:
    """The checks of one model's catalogue; text rules are read once per listing."""

    def __init__(self, rec: Recommender):
        self.rec = rec
        self.catalog = rec.catalog
        # each listing read whole, as training reads it (the description's eligibility part where the
        # field defers to it)
        self.texts = [listing_eligibility(r.get("eligibility_description"), r.get("description"))
                      for r in self.catalog.records]
        self.rules: list[list[Rule]] = [extract_rules(t) for t in self.texts]
        self._with_rules = [i for i, rs in enumerate(self.rules) if rs]
        # the rules the engine applies (structured columns win over text of the same kind)
        self._applied = self.catalog.listing_rules.rules if self.catalog.listing_rules is not None else None

    def text_statuses(self, profile: dict) -> np.ndarray:
        """Status name per service under its own text rules, for the profile as written."""
        out = np.full(len(self.catalog), ELIGIBLE, dtype=object)
        for i in self._with_rules:
            out[i] = summarise(check_rules(self.rules[i], profile))[0]
        return out

    def check(self, v: Vignette, k: int = 5) -> tuple[VignetteCheck, RecommendationResult]:
        cat = self.catalog
        result = self.rec.recommend(profile=v.profile, needs=v.needs, k=k)
        text = self.text_statuses(v.profile)
        structured = evaluate(cat, Profile.from_dict(v.profile), checks=STRUCTURED_CHECKS)
        open_ = (text != INELIGIBLE) & (structured.outcome != INELIGIBLE)

        items, violations = [], []
        for s in result.items:
            i = cat.index[s.service_id]
            struct_status = structured.details(i)[0]
            item = ItemCheck(rank=s.rank, service_id=s.service_id, name=s.name, engine_status=Outcome.of(s.eligibility),
                             text_status=Outcome(text[i]), structured_status=struct_status,
                             rules=format_rules(self.rules[i]), needs=s.needs)
            if text[i] == INELIGIBLE:
                violations.append(f"{s.service_id} {s.name!r}: its text rules ({item.rules}) exclude the resident")
            if struct_status == INELIGIBLE:
                violations.append(f"{s.service_id} {s.name!r}: a structured check excludes the resident")
            if Outcome.of(s.eligibility) == INELIGIBLE:
                violations.append(f"{s.service_id} {s.name!r}: listed although the engine says ineligible")
            item.problems = self._explanation_problems(i, s)
            items.append(item)

        answerable, answered, why_not, unanswered = {}, {}, {}, []
        listed = {s.service_id for s in result.items}
        for need in v.needs:
            mask = cat.answers(need)
            answerable[need] = int((mask & open_).sum())
            ans = result.needs[need].service_ids if need in result.needs else []
            answered[need] = list(ans)
            if not ans:
                why_not[need] = (result.needs[need].reason if need in result.needs else None) or "no reason given"
            wrong = [sid for sid in ans if sid not in listed or not mask[cat.index[sid]]]
            if wrong:
                violations.append(f"need {need}: answered by {', '.join(wrong)}, not listed or not answering it")
            if answerable[need] and not ans:
                reason = result.needs[need].reason if need in result.needs else "missing from result.needs"
                unanswered.append(f"need {need} ({cat.taxonomy.path(need)}): {answerable[need]} open services "
                                  f"answer it, none listed ({reason})")
        return VignetteCheck(v, items, answerable, answered, why_not, violations, unanswered,
                             excluded=int((~open_).sum())), result

    def _explanation_problems(self, i: int, s) -> list[str]:
        problems = []
        desc = self.texts[i]
        applied = self._applied[i] if self._applied is not None else self.rules[i]
        joined = " ".join(s.reasons)
        for rule in applied:
            if rule.text not in desc:
                problems.append(f"rule text {rule.text!r} is not in the listing's eligibility text")
            if f"\u201c{rule.text}\u201d" not in joined:
                problems.append(f"reasons do not quote the listing's words {rule.text!r}")
        if s.eligibility == UNKNOWN.label and not s.questions:
            problems.append("eligibility unknown but no question to ask")
        if s.eligibility == UNKNOWN.label and not s.explanation:
            problems.append("eligibility unknown but no explanation")
        return problems


# ----------------------------------------------------------------------------- report


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def print_check(c: VignetteCheck, taxonomy, out=sys.stdout) -> None:
    v = c.vignette
    print(f"\n{v.vignette_id}  {v.story}", file=out)
    for need in v.needs:
        ans = c.answered[need]
        print(f"    need {need:<16} {_short(taxonomy.path(need), 55):<55} open services {c.answerable[need]:>4}  "
              f"answered by {', '.join(ans) if ans else '- (' + c.why_not[need] + ')'}", file=out)
    print(f"    {'#':>2} {'service':<8} {'name':<48} {'engine':<10} {'text':<10} {'struct':<10} rules", file=out)
    for it in c.items:
        print(f"    {it.rank:>2} {it.service_id:<8} {_short(it.name, 48):<48} {it.engine_status.label:<10} "
              f"{it.text_status.label:<10} {it.structured_status.label:<10} {_short(it.rules, 50) or '-'}", file=out)
    for msg in c.violations:
        print(f"    VIOLATION (a): {msg}", file=out)
    for msg in c.unanswered:
        print(f"    UNANSWERED (b): {msg}", file=out)
    for msg in c.explanation_problems:
        print(f"    EXPLANATION: {msg}", file=out)


def totals(checks: list[VignetteCheck]) -> dict:
    needs = [(c, n) for c in checks for n in c.vignette.needs]
    answerable = [(c, n) for c, n in needs if c.answerable[n]]
    return {
        "vignettes": len(checks),
        "items": sum(len(c.items) for c in checks),
        "violations_a": sum(len(c.violations) for c in checks),
        "needs_stated": len(needs),
        "needs_answerable": len(answerable),
        "needs_answered": sum(1 for c, n in answerable if c.answered[n]),
        "explanation_problems": sum(len(c.explanation_problems) for c in checks),
        "items_unknown": sum(1 for c in checks for it in c.items if it.engine_status == UNKNOWN),
        "excluded_mean": float(np.mean([c.excluded for c in checks])) if checks else 0.0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "baltimore",
                        help="where to build catalog/, city/, models/ (reused when built with the same parameters)")
    parser.add_argument("--residents", type=int, default=20_000, help="synthetic residents (default 20000)")
    parser.add_argument("--epochs", type=int, default=20, help="LightFM epochs (default 20)")
    parser.add_argument("--eval-residents", type=int, default=3_000, help="residents evaluated per group (default 3000)")
    parser.add_argument("--k", type=int, default=5, help="list length (default 5)")
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    if not SOURCE.is_dir():
        print(f"{SOURCE}: the Baltimore directory is absent; nothing to check", file=sys.stderr)
        return 2
    models = build(args.work, residents=args.residents, epochs=args.epochs, eval_residents=args.eval_residents)
    rec = Recommender.load(models)
    vignettes = load_vignettes(args.fixture, set(rec.catalog.taxonomy.codes()))
    t = time.perf_counter()
    checker = VignetteChecker(rec)
    checks = [checker.check(v, args.k)[0] for v in vignettes]
    seconds = time.perf_counter() - t
    for c in checks:
        print_check(c, rec.catalog.taxonomy)
    tot = totals(checks)
    print(f"\nmodel {rec.version}, k={args.k}, {tot['vignettes']} vignettes, {tot['items']} items listed "
          f"({tot['items_unknown']} of unknown eligibility), checked in {seconds:.1f}s; "
          f"on average {tot['excluded_mean']:.0f} of {len(rec.catalog)} services are closed to a vignette's resident")
    print(f"(a) ineligible services listed: {tot['violations_a']}")
    print(f"(b) needs stated {tot['needs_stated']}, answerable {tot['needs_answerable']}, "
          f"answered {tot['needs_answered']}/{tot['needs_answerable']}")
    print(f"explanation problems: {tot['explanation_problems']}")
    failed = tot["violations_a"] or tot["needs_answered"] < tot["needs_answerable"] or tot["explanation_problems"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
