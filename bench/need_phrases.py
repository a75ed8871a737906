"""Free-text needs: precision and recall per language, and the time per phrase.

    python bench/need_phrases.py [--repeat 3]

Fixtures (labelled before the parser's answers were looked at):

* ``tests/fixtures/need_phrases_multi.csv``: English, Chinese and Spanish phrases over the generated
  city's taxonomy and the Baltimore 211 one, many stating two or three needs (``needs``: needs
  ``;``-separated, each need's right answers ``|``-separated). ``split`` keeps a fifth aside
  (``holdout``), reported on its own: it was not looked at while the lexicon was tuned.
* ``tests/fixtures/need_phrases.csv``: English phrases over the city's and the real Baltimore 211
  taxonomy (one need each; ``expected_codes`` lists every right answer), scored the same way.

A predicted code is right when it is an expected code or a descendant of one (a resident who says
"food" is rightly sent to a food pantry). Precision: right predictions / predictions; recall: expected
needs found / expected needs; both pooled over phrases. A phrase with no expected need (nonsense)
counts a false positive for every code predicted.

Time: ``NeedMatcher.parse`` per phrase, each phrase timed on its own. First seen: every cache is
emptied before each call (the matcher's parse cache and the per-word n-gram cache), so no phrase, and
no word of it, is answered from an earlier call; median and 90th percentile per language. Cached: the
same phrases again, answered from the parse cache. Each figure is the median of ``--repeat`` rounds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.need_text import NeedMatcher, _word_char_features  # noqa: E402
from recommender.taxonomy import Taxonomy  # noqa: E402
from training.generate_catalog import taxonomy_frame  # noqa: E402

MULTI = ROOT / "tests" / "fixtures" / "need_phrases_multi.csv"
SINGLE = ROOT / "tests" / "fixtures" / "need_phrases.csv"
BALTIMORE = ROOT / ".." / "shared" / "data" / "baltimore-icarol" / "taxonomy.csv"


def matchers() -> dict[str, tuple[NeedMatcher, Taxonomy]]:
    city = Taxonomy.from_rows(taxonomy_frame().itertuples(index=False, name=None))
    out = {"city": (NeedMatcher().fit(city), city)}
    if BALTIMORE.exists():
        df = pd.read_csv(BALTIMORE, dtype=str, keep_default_na=False)
        balt = Taxonomy.from_rows(zip(df["taxonomy_id"], df["name"], df["parent_id"], df["type"]))
        # as the engine does: needs are matched to service terms, not a 211 taxonomy's situations
        services = [c for c in balt.codes() if balt.kinds.get(c) != "situation"]
        out["baltimore"] = (NeedMatcher().fit(balt, codes=services), balt)
    return out


def cases() -> pd.DataFrame:
    multi = pd.read_csv(MULTI, dtype=str, keep_default_na=False)
    multi["needs"] = [[n.split("|") for n in s.split(";") if n] for s in multi["needs"]]
    single = pd.read_csv(SINGLE, dtype=str, keep_default_na=False)
    single = pd.DataFrame({"text": single["text"], "lang": "en", "taxonomy": single["taxonomy"],
                           "needs": [[s.split(";")] if s else [] for s in single["expected_codes"]],
                           "split": "tune"})
    return pd.concat([multi, single], ignore_index=True)


def score(parsed_codes: list[str], needs: list[list[str]], tax: Taxonomy) -> tuple[int, int, int, int]:
    """(right predictions, predictions, expected needs found, expected needs)."""
    def fits(code, alts):
        return any(a in tax.ancestors(code) for a in alts)
    right = sum(any(fits(c, alts) for alts in needs) for c in parsed_codes)
    found = sum(any(fits(c, alts) for c in parsed_codes) for alts in needs)
    return right, len(parsed_codes), found, len(needs)


def timings(ms: dict, rows: list[tuple[str, str, str]], repeat: int) -> tuple[dict, float]:
    """({language or "all": (phrases, median ms, p90 ms)} first seen, median ms cached), each the
    median over ``repeat`` rounds of the per-round figure."""
    clock = time.perf_counter
    rounds: dict[str, list[tuple[float, float]]] = defaultdict(list)
    cached = []
    for _ in range(repeat):
        first: dict[str, list[float]] = defaultdict(list)
        for text, lang, taxname in rows:
            matcher = ms[taxname][0]
            _word_char_features.cache_clear()
            matcher.parse.cache_clear()
            t0 = clock()
            matcher.parse(text)
            ms_taken = (clock() - t0) * 1000
            first[lang].append(ms_taken)
            first["all"].append(ms_taken)
        for lang, times in first.items():
            rounds[lang].append((statistics.median(times), statistics.quantiles(times, n=10)[-1]))
        for text, lang, taxname in rows:  # fill the parse cache, then time answers from it
            ms[taxname][0].parse(text)
        per = []
        for text, lang, taxname in rows:
            t0 = clock()
            ms[taxname][0].parse(text)
            per.append(clock() - t0)
        cached.append(statistics.median(per) * 1000)
    first_seen = {lang: (len(rows) if lang == "all" else sum(r[1] == lang for r in rows),
                         statistics.median(m for m, _ in rs), statistics.median(p for _, p in rs))
                  for lang, rs in rounds.items()}
    return first_seen, statistics.median(cached)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    ms = matchers()
    df = cases()
    df = df[df["taxonomy"].isin(ms)]
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    misses = []
    for text, lang, taxname, needs, split in df[["text", "lang", "taxonomy", "needs", "split"]].itertuples(
            index=False, name=None):
        matcher, tax = ms[taxname]
        codes = [n.code for n in matcher.parse(text).needs]
        r = score(codes, needs, tax)
        for key in ((lang, split), ("all", split), (lang, "all"), ("all", "all")):
            t = totals[key]
            for i in range(4):
                t[i] += r[i]
            t[4] += 1
        if r[0] != r[1] or r[2] != r[3]:
            misses.append(f"[{lang}/{split}] {text!r}: got {codes}, expected {needs}")
    multi = sum(len(n) >= 2 for n in df["needs"])
    print(f"{len(df)} phrases ({multi} with two or more needs) over taxonomies {', '.join(ms)}")
    print(f"{'language':<9}{'split':<9}{'phrases':>8}{'precision':>11}{'recall':>8}")
    for key in sorted(totals, key=lambda k: (k[0] == "all", k[0], k[1] != "all", k[1])):
        right, pred, found, exp, n = totals[key]
        p = right / pred if pred else float("nan")
        r = found / exp if exp else float("nan")
        print(f"{key[0]:<9}{key[1]:<9}{n:>8}{p:>11.3f}{r:>8.3f}")
    if args.show_misses:
        print("\n".join(misses))
    first, cached = timings(ms, list(zip(df["text"], df["lang"], df["taxonomy"])), args.repeat)
    print(f"time per phrase, first seen (nothing cached), median of {args.repeat} rounds:")
    print(f"{'language':<9}{'phrases':>8}{'median ms':>11}{'p90 ms':>8}")
    for lang in sorted(first, key=lambda k: (k == "all", k)):
        n, median, p90 = first[lang]
        print(f"{lang:<9}{n:>8}{median:>11.3f}{p90:>8.3f}")
    print(f"time per phrase, cached (seen before): {cached * 1000:.1f} us median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
