"""Read eligibility rules from a listing's free text ("Homeless women, 18 and older").

``extract_rules(text)`` is deterministic and lexicon/regex based (no model, no network). It returns
``Rule`` objects (``recommender.eligibility.rules``) grouped into alternative clauses: the listing
is open to a resident who meets every rule of at least one clause.

How the text is read (the conventions the hand-labelled fixture
``tests/fixtures/baltimore_eligibility_labels.csv`` follows too):

* Ages are whole years. "18 and older", "18+", "over 18", "at least 18" -> ``min_age=18`` ("over N"
  is read as the colloquial "N and over"); "under 21", "younger than 21" -> ``max_age=20``;
  "up to age 5", "5 and under", "through 5", "no older than 5" -> ``max_age=5``; "ages 3-5",
  "between 18 and 64", "18-24 year olds", "youth 14 through 21" -> both bounds. Months and weeks
  become whole years ("6 weeks to 5 years" -> ``max_age=5``; "under 6 months" -> ``max_age=0``);
  a lower bound of 0 is no rule. A lone age ("age 65", "must be 21 years old") is a lower bound.
  A number is an age only in an age context (age words, "years old/of age", a person noun right
  before it, a bound word after it): phone numbers, addresses, "24 hours", "$100", "2019",
  "1-2 years of housing", "grades 1-5" are not ages.
* Group words give an age only when the clause states no number: "adults" -> ``min_age=18``;
  "seniors", "senior citizens", "elderly", "older adults" -> ``min_age=60``; "children", "kids",
  "minors" (the people served, not someone's dependents) -> ``max_age=17``. "Youth", "teens",
  "adolescents", "young adults", "juveniles", "infants" give no age: programmes set those bounds
  anywhere from 12 to 24.
* Gender: "women", "girls", "mothers", "ladies" -> female; "men", "boys", "fathers" -> male; "men and
  women", "boys and girls" -> none. "Pregnant women" gives ``pregnant`` only (pregnancy implies the
  gender; asking it again is noise). "Women and children" is two alternatives, ``gender=female`` |
  ``max_age=17``: a boy is served as one of the children, a man on his own is not. "Women with
  (their) children" is the women's rule: the children are served with their mother.
* Alternatives: coordinated groups ("seniors, disabled and low-income residents", "children up to
  age 19, and pregnant women") are clauses of their own. When one alternative has no condition we can
  check ("children, adolescents and adults", "persons with a rare disease", "family members"), the
  whole list imposes nothing we can check and gives no rules: a wrong rule would hide the service
  from someone it serves. A person's own dependents ("veterans and their dependents", "... and
  spouses") are served through that person: the listing's rules are that person's. Ages, statuses
  and conditions of someone else ("parents of children under 5", "caregivers of the elderly",
  "families with children 3-5") are not rules about the resident.
* Sentences: a requirement sentence ("Must be a Baltimore City resident") applies to every
  alternative; a describing sentence that repeats a kind already stated ("Vocational program, ages
  16-19. Alternative school, ages 13-19.") describes another programme and is an alternative.
  Sentences about some services, priorities or preferences ("Some services require HIV+ status",
  "Families with children are top priority"), conditional ones ("if over 18"), about helpers
  ("Mentors must be 18"), rules for part of the people named elsewhere ("Homeless families and single
  women. Men must have children."), and text after "including" or "e.g." give no rules.
* "Who are/have" lists: "persons who have limited income or are senior citizens" is two
  alternatives; "adults who are HIV+ and substance abusers" is one.
* Open listings: a sentence opening the service to anyone ("Open to anyone", "open to the public",
  "All are welcome", "Rainbow Fund for anyone in need") drops the describing sentences (another
  programme), but not a general requirement ("Anyone in need. Must be 18 or older.") nor a bare
  qualifier that follows it ("Anyone in need. Low income."). "No income requirements", "all ages",
  "regardless of gender" remove that kind. Two genders left in one clause cancel out.
* Residency: named places only ("Baltimore City residents", "residents of Baltimore County",
  "Maryland veterans", "must live in zip code 21217", "resident of Hampden"), normalised by
  ``normalise_area``; "Baltimore City and County residents" is two alternatives. An unnamed "city",
  "county" or "service area" is no rule (nothing to compare), nor are places of work, school, court
  or institution ("employed in Baltimore City", "Howard County schools").
* Income: "at or below 200% of the federal poverty level" -> ``{'fpl_percent': 200}``; "$2,000 a
  month" -> ``{'monthly': 2000}``, "$40,000 a year" -> ``{'annual': 40000}``; "1 person: $31,860; 2 people:
  $36,360" -> one rule ``{'annual_by_household_size': ((1, 31860), (2, 36360))}`` (amounts without a period are annual from $6,000 up,
  monthly below); "N% of area median income" -> ``{'ami_percent': N}``; "low-income", "limited
  income", "indigent", "in financial need", "must meet income guidelines" -> ``'low income'``. "Must
  have a source of income", "proof of income" and "income tax" are no limit.
* Status kinds: veteran, homeless ("without permanent housing"; not "at risk of homelessness"),
  pregnant ("expecting"), disability (physical, developmental, intellectual, sensory and psychiatric:
  "mental illness", "emotionally disturbed" count, as the profile has one disability flag; a named
  disease such as MS or cystic fibrosis does not), student ("students", "enrolled in ... school"),
  caregiver, hiv ("living with HIV/AIDS"; not "affected by" or "HIV testing").
* Listing-wide conditions (every alternative): in recovery ("in recovery", "completed a drug
  treatment program"), referral required ("by referral only"), and "cannot serve" exclusions
  ("cannot help the homeless"). Offending history, insurance and benefits are not modelled.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import product

from .clauses import _alternatives, _assign, _expand_areas, _finish_clause, _rule_value, _segments, _value_key
from .lexicon import LEX, _ABBREVIATIONS, _GENDER_PAIR, _NEGATIONS
from .mentions import _HEAD_RE, _Mask, _Mention, _age_mentions, _heads, _income_mentions, _residency_mentions, \
    _status_mentions
from .places import Gazetteer, gazetteer
from .rules import KINDS, Rule

__all__ = ["extract_rules"]

_KIND_ORDER = list(KINDS)

#: Alternative clauses kept at most; beyond this the listing is too tangled to read as rules.
MAX_CLAUSES = 32


@dataclass
class _Group:
    """Alternatives of one or more sentences, ANDed with the other groups."""
    alts: list
    kinds: frozenset
    requirement: bool
    dropped: bool = False


@dataclass
class _Sentence:
    alts: list                  # list[list[_Mention]]: alternatives
    requirement: bool
    also: bool
    kinds: frozenset            # kinds stated (numbers and words, not group-word ages)
    household_table: bool
    has_head: bool = True       # names people ("Low income." does not)
    purpose: bool = False       # a requirement for one service ("to receive hospice care")


# ============================================================================ entry point


_DEFERS = re.compile(r"^\W*(?:see\s+(?:notes?|below|description|program\s+description|comments?)|n/?a|none\s+listed)\W*$|"
                     r"\bsee\s+(?:notes?|below)(?:\s+for\s+[\w\s]+)?\W*$", re.IGNORECASE)
# the description's part under a heading ("ELIGIBILITY: ...", "INTAKE PROCEDURE: ..."); it ends at a
# blank line, a numbered or bulleted item, or the next heading: the rest describes programmes
_PART_END = r"(?=\n\s*\n|\n\s*(?:\d+\)|o\s)|\n\s*[A-Z][A-Z /&'-]{2,40}:|\Z)"


def description_part(heading: str) -> re.Pattern:
    """The pattern of a description's part under ``heading`` (a regex of upper-case words)."""
    return re.compile(rf"\b(?:{heading})(?:\s+[A-Z][\w/&' -]{{0,60}}?)?\s*:\s*(?P<part>.*?){_PART_END}", re.DOTALL)


_DESCRIPTION_PART = description_part("ELIGIBILITY")


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def read_deferred(field, description, part: re.Pattern) -> str:
    """A listing field read whole: when it is empty or defers to the description ("See notes.",
    "see below"), the description's part under the field's heading joins it."""
    field = _text(field)
    if field.strip() and not _DEFERS.search(field.strip()):
        return field
    m = part.search(_text(description))
    if not m or not m.group("part").strip():
        return field
    kept = _DEFERS.sub("", field.strip()).strip()
    found = " ".join(m.group("part").split())
    return f"{kept} {found}".strip() if kept else found


def listing_eligibility(eligibility, description, part: re.Pattern = _DESCRIPTION_PART) -> str:
    """The eligibility text of a listing, read whole (the description's eligibility part where the
    field defers to it)."""
    return read_deferred(eligibility, description, part)


def _listing_wide(text: str, low: str, places: Gazetteer) -> list[tuple[str, object, int, int]]:
    """Conditions that hold for every alternative: in recovery, referral required, "cannot serve"."""
    found = []
    for pattern, kind in ((LEX.IN_RECOVERY, "in_recovery"), (LEX.REFERRAL, "referral")):
        m = pattern.search(low)
        if m:
            found.append((kind, True, m.start(), m.end()))
    for m in LEX.EXCLUSION.finditer(low):
        who = (m.group("who") or "homeless") if "who" in m.groupdict() else "homeless"
        status = ("homeless" if "homeless" in who else "veteran" if "veteran" in who else
                  "pregnant" if "pregnant" in who else "student" if "student" in who else "disability")
        found.append(("excludes", status, m.start(), m.end()))
    return found


def extract_rules(text, places: Gazetteer | None = None) -> list[Rule]:
    """Rules stated by a listing's eligibility text (see the module docstring for the conventions).

    Returns ``[]`` for empty/None/NaN text and for text that opens the service to anyone (but for
    listing-wide conditions: in recovery, referral required, "cannot serve" exclusions). Place names
    are read with ``places`` (a gazetteer; Maryland when not given).
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    text = str(text)
    places = places or gazetteer()
    rules = _clause_rules(text, places)
    wide = _listing_wide(text, _lower_same_length(text), places)
    if not wide:
        return rules
    clauses = sorted({r.clause for r in rules}) or [0]
    have = {(r.kind, r.value, r.clause) for r in rules if not isinstance(r.value, dict)}
    extra = [Rule(kind, value, (a, b), text[a:b], c) for c in clauses for kind, value, a, b in wide
             if (kind, value, c) not in have]
    return sorted(rules + extra, key=lambda r: (r.clause, r.span[0], _KIND_ORDER.index(r.kind)))


def _clause_rules(text: str, places: Gazetteer) -> list[Rule]:
    """The alternatives' rules (ages, gender, residency, income, statuses)."""
    if not text.strip():
        return []
    low = _lower_same_length(text)
    if LEX.NO_RULES_TEXT.match(low):
        return []
    global_negs: set[str] = set()
    results, after_cut, subgroup, names_people = [], False, [], []
    for start, end in _sentences(low):
        results.append(_read_sentence(text, low, start, end, global_negs, places, after_cut))
        after_cut = bool(LEX.INCLUDING.search(low[start:end]))
        subgroup.append(bool(LEX.SUBGROUP_RULE.match(low[start:end])))
        names_people.append(bool(_HEAD_RE.search(low[start:end])))
    # "Men must have children" after "Homeless families and single women": a rule for some of them
    others_name_people = [any(names_people[j] and not subgroup[j] for j in range(len(results)) if j != i)
                          for i in range(len(results))]
    # AND of OR-groups. A sentence opening the service to anyone turns the describing sentences
    # before it into another programme (dropped); a general requirement ("Must be 18 or older") and a
    # bare qualifier after it ("Open to anyone. Low income.") still hold.
    groups: list[_Group] = []
    last_desc: _Group | None = None
    open_seen = False
    for i, result in enumerate(results):
        if result == "open":
            open_seen = True
            for group in groups:
                group.dropped = group.dropped or not group.requirement
            continue
        if result is None or (subgroup[i] and others_name_people[i]):
            continue
        if result.requirement or result.household_table:
            groups.append(_Group(list(result.alts), result.kinds, requirement=True, dropped=open_seen and result.purpose))
            continue
        if last_desc is not None and (result.also or (result.kinds & last_desc.kinds)):
            last_desc.alts += result.alts
            last_desc.kinds |= result.kinds
            last_desc.dropped = last_desc.dropped or (open_seen and result.has_head)
            continue
        last_desc = _Group(list(result.alts), result.kinds, requirement=False, dropped=open_seen and result.has_head)
        groups.append(last_desc)
    groups = [g.alts for g in groups if not g.dropped]
    if not groups:
        return []
    while math.prod(len(g) for g in groups) > MAX_CLAUSES:
        # Dropping an OR-group only loosens the listing; keep the simpler ones.
        groups.pop(max(range(len(groups)), key=lambda i: len(groups[i])))
    clauses = []
    for combo in product(*groups):
        clause = _finish_clause([m for alt in combo for m in alt], global_negs)
        if clause is None:
            return []  # an alternative with nothing left to check: the listing is open to everyone
        for expanded in _expand_areas(clause):
            key = [(m.kind, _value_key(m.value)) for m in expanded]
            if key not in [c[0] for c in clauses]:
                clauses.append((key, expanded))
    rules = []
    for index, (_, clause) in enumerate(clauses):
        for m in sorted(clause, key=lambda m: (m.start, _KIND_ORDER.index(m.kind), m.end)):
            rules.append(Rule(m.kind, _rule_value(m.value), (m.start, m.end), text[m.start:m.end], index))
    return rules


# ============================================================================ text handling


def _lower_same_length(text: str) -> str:
    """Lower-case without changing offsets (a few characters lower-case to two), with dashes and
    quotes unified so the patterns see one of each."""
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        lowered = ch.lower()
        out.append(lowered if len(lowered) == 1 else ch)
    return "".join(out).translate(_UNIFY)


_UNIFY = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
                        "\u00a0": " ", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _sentences(low: str):
    """(start, end) of each sentence: split at . ! ? followed by space, and at line breaks; not after
    abbreviations ("e.g.", "D.C.", "St.")."""
    start = 0
    for m in re.finditer(r"[.!?]+(?=\s|$)|\n+", low):
        if m.group().startswith("."):
            word = re.search(r"([\w.]+)$", low[start:m.start()])
            token = word.group(1) if word else ""
            if token in _ABBREVIATIONS or ("." in token and len(token) <= 5) or (len(token) == 1 and token.isalpha()):
                continue
        if low[start:m.start()].strip():
            yield start, m.start()
        start = m.end()
    if low[start:].strip():
        yield start, len(low)




# ============================================================================ one sentence



def _read_sentence(text: str, low: str, start: int, end: int, global_negs: set, places: Gazetteer,
                   after_cut: bool = False):
    """An OR-group of alternatives for one sentence, ``'open'`` when the sentence opens the service to
    anyone, or None when the sentence states no rule. Text after "including" is ignored."""
    s = low[start:end]
    if after_cut and s.lstrip().startswith("("):
        return None  # "Low income, including senior citizens. (60 & older.)": still the example
    cut = LEX.INCLUDING.search(s)
    if cut:
        end = start + cut.start()
        s = low[start:end]
    bare = LEX.PARENTHESES.sub(lambda m: " " * len(m.group()), s)  # "(18 if in school)" does not make it conditional
    if not s.strip() or LEX.SKIP_SENTENCE.search(bare) or LEX.HELPERS.match(s):
        return None
    mask = _Mask(start, end)
    mentions: list[_Mention] = []
    negs: list[_Mention] = []
    for pattern, kinds in (_NEGATIONS if LEX.NEGATION_HINT.search(s) else ()):
        for m in pattern.finditer(s):
            a, b = start + m.start(), start + m.end()
            if mask.free(a, b):
                mask.add(a, b)
                negs.append(_Mention("_neg", kinds, a, b, a, b))
    if LEX.NEGATION_SENTENCE.match(s):
        for n in negs:
            global_negs.update(n.value)
        return None
    # "men and women": both heads stay visible, neither gives a rule, and the pair is not a list split
    neutral = [(start + m.start(), start + m.end()) for m in _GENDER_PAIR.finditer(s)]
    mentions += _income_mentions(s, start, mask)
    mentions += _residency_mentions(text, s, start, mask, places)
    mentions += _age_mentions(s, start, mask)
    mentions += _status_mentions(text, s, start, mask)
    heads, head_mentions = _heads(s, start, mask, neutral)
    mentions += head_mentions
    segments = _segments(s, start, mask, neutral)
    _assign(segments, heads, mentions + negs, s, start)
    status, alts = _alternatives(segments, s, start)
    if status == "open":
        return "open"
    if not alts:
        # Only negations ("No income requirements."): they hold for the whole listing.
        if negs and not heads and not any(m.kind != "_neg" for m in mentions):
            for n in negs:
                global_negs.update(n.value)
        return None
    # min_age and max_age are one kind here: "up to 59. ... 60 and older" are two programmes
    kinds = frozenset("age" if m.kind in ("min_age", "max_age") else m.kind
                      for alt in alts for m in alt if m.kind != "_neg" and not m.implicit)
    if status == "trivial":
        # Nothing to check for one of the groups: an empty alternative, which still tells a later
        # sentence about the same kinds that it describes another programme.
        alts = [[]]
    household_table = bool(kinds) and all(
        m.kind == "income_limit" and isinstance(m.value, dict) and "household_size" in m.value
        for alt in alts for m in alt if m.kind != "_neg")
    return _Sentence(alts=alts, requirement=bool(LEX.REQUIREMENT.search(s)), also=bool(LEX.ALSO.search(s)), kinds=kinds,
                     household_table=household_table, has_head=bool(heads), purpose=bool(LEX.PURPOSE.search(s)))


# ---------------------------------------------------------------------------- mentions

