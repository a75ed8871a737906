"""Clauses: how the mentions of one sentence group into alternatives ("children up to 19, and
pregnant women" is two), which modifiers spread across coordinated people, and how a clause is settled
(duplicates, listing-wide negations, conflicting ages, income tables, several areas)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product

from .lexicon import LEX, _AGE_GROUP, _HOUSEHOLD, _OPEN, _ORG, _PERSON, _RELATION
from .mentions import _Head, _Mask, _Mention


@dataclass
class _Segment:
    start: int
    end: int
    coord: str                  # the separator before it: 'or', 'and' or ''
    head: _Head | None = None
    mentions: list = field(default_factory=list)
    negs: set = field(default_factory=set)


@dataclass
class _Alt:
    head: _Head | None
    mentions: list
    negs: set
    bare: bool
    in_qualifier: bool = False
    predicate_or: bool = False
    coord: str = ""
    subject: list | None = None  # after "who are": what the people are before the predicate list
    pred_pos: int = 0

    def start_predicate(self, pos: int, s: str, off: int):
        """A "who are ..." list begins at ``pos``: what follows are things the same people are."""
        if self.subject is None:
            self.pred_pos = pos
            self.subject = [m for m in self.mentions if m.start < pos]
            self.predicate_or = bool(re.search(r"\bor\b", s[pos - off:]))


def _value_key(value):
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def _rule_value(value):
    return dict(value) if isinstance(value, dict) else value




def _segments(s: str, off: int, mask: _Mask, neutral=()) -> list[_Segment]:
    """Split a sentence at list separators that are outside mentions and parentheses."""
    chars = list(s)
    depth = 0
    taken = mask.taken
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth or taken[i]:
            chars[i] = "x" if ch.isalnum() else "#"
    for a, b in neutral:
        chars[a - off:b - off] = "x" * (b - a)
    flat = LEX.NO_SPLIT.sub(lambda m: "x" * len(m.group()), "".join(chars))
    segments, pos, coord = [], 0, ""
    for m in LEX.SEGMENT_SEP.finditer(flat):
        if m.start() > pos:
            segments.append(_Segment(off + pos, off + m.start(), coord))
        coord = "or" if re.search(r"\bor\b", m.group()) else ("and" if m.group().strip() else "")
        pos = m.end()
    if pos < len(s):
        segments.append(_Segment(off + pos, off + len(s), coord))
    return segments


def _assign(segments: list[_Segment], heads: list[_Head], mentions: list[_Mention], s: str, off: int):
    """Give each segment its head and mentions, dropping what describes someone else."""
    carry = False
    for seg in segments:
        text = s[seg.start - off:seg.end - off]
        zone = len(text)
        if carry and re.match(r"^\s*(?:\(?\s*ages?\b|\(?\s*\d|from\s+birth|birth)", text):
            zone = 0  # "families with children, ages 0-18": still the children's ages
        for pattern in (LEX.DEPENDENT_ZONE, LEX.RELATION_ZONE):
            for m in pattern.finditer(text):
                if pattern is LEX.RELATION_ZONE:
                    # the relation noun stays (it is the head); what follows "of/with" is someone else
                    start = m.end() - len(m.group().split()[-1])
                else:
                    start = m.start()
                zone = min(zone, start)
        carry = zone < len(text)
        limit = seg.start + zone
        seg_heads = [h for h in heads if seg.start <= h.start < limit]
        seg.head = seg_heads[0] if seg_heads else None
        for mention in mentions:
            if seg.start <= mention.mstart < seg.end:
                if mention.kind == "_neg":
                    seg.negs |= set(mention.value)
                elif mention.mstart < limit:
                    seg.mentions.append(mention)


def _is_qualifier(seg: _Segment, s: str, off: int) -> bool:
    text = s[seg.start - off:seg.end - off].strip()
    if LEX.QUALIFIER_START.match(text):
        return True
    first = min(seg.mentions, key=lambda m: m.start, default=None)
    return bool(first and first.kind in ("min_age", "max_age") and not first.head
                and not s[seg.start - off:first.start - off].strip())


def _within(m: _Mention, head: _Head | None) -> bool:
    return head is not None and head.start <= m.start and m.end <= head.end


def _household_income(mentions) -> bool:
    return bool(mentions) and all(m.kind == "income_limit" and isinstance(m.value, dict) and "household_size" in m.value
                                  for m in mentions)


_GENERIC_HEADS = re.compile(r"^(?:persons?|people|individuals?|those|residents?|citizens?|clients?|anyone|everyone|others)$")
_QUALIFIER_WORD = re.compile(r"\b(?:with|who|whose|that|which)\b")


def _alternatives(segments: list[_Segment], s: str, off: int):
    """Group a sentence's segments into alternatives (lists of mentions).

    Returns (status, alternatives): ``'open'`` when the sentence opens the service to anyone,
    ``'trivial'`` when one alternative has nothing to check (the sentence restricts no one; the
    other alternatives are returned for their kinds), else ``'rules'``.
    """
    alts: list[_Alt] = []
    cur: _Alt | None = None
    household = False
    for seg in segments:
        raw = s[seg.start - off:seg.end - off]
        text = raw.strip()
        if not text:
            continue
        first_char = seg.start + len(raw) - len(raw.lstrip())
        covered = any(m.start <= first_char for m in seg.mentions)
        if re.match(r"^(?:no|not|except|excluding)\b", text) and not covered:
            continue
        head = seg.head
        if head is not None and head.cls != _OPEN and re.search(r"\bwelcome[sd]?\b", text):
            continue  # "ex-offenders welcome": who may come along, not a group of its own
        qualifier = _is_qualifier(seg, s, off) or (not seg.mentions and re.match(r"^(?:a|an|be|been)\b", text))
        if head is not None and not qualifier:
            before = s[max(0, head.start - off - 30):head.start - off]
            intrinsic_only = all(_within(m, head) for m in seg.mentions)
            if head.cls == _HOUSEHOLD or LEX.POSSESSIVE.search(before) or (
                    household and head.cls in (_RELATION, _PERSON) and intrinsic_only):
                household = True
                continue  # served through the main person
            if head.cls == _ORG:
                continue  # not a resident
            if cur is not None and cur.subject is not None:
                # "who are juvenile offenders, runaways, or ...": more of what the same people are
                if seg.coord == "or" or cur.predicate_or:
                    cur = _predicate_alt(cur, seg)
                    alts.append(cur)
                else:
                    cur.mentions += seg.mentions
                    cur.negs |= seg.negs
                continue
            after = s[head.end - off:seg.end - off]
            cur = _Alt(head=head, mentions=list(seg.mentions), negs=set(seg.negs), bare=intrinsic_only,
                       in_qualifier=bool(_QUALIFIER_WORD.search(after)), coord=seg.coord)
            rel = re.search(r"\b(?:who|that)\s+(?:are|is|have|has)\b", after)
            if rel:
                cur.start_predicate(head.end + rel.start(), s, off)
            alts.append(cur)
            continue
        if cur is not None and re.match(r"^(?:who|that)\s+(?:are|is|have|has)\b", text):
            cur.start_predicate(first_char, s, off)
        if cur is not None and cur.subject is not None and seg.coord == "or" and seg.mentions and (
                head is None or qualifier) and any(m.start >= cur.pred_pos for m in cur.mentions):
            # "persons who have limited income or are senior citizens": either one
            cur = _predicate_alt(cur, seg)
            alts.append(cur)
            continue
        if not seg.mentions:
            if cur is not None:
                cur.negs |= seg.negs
                if qualifier or head is not None:
                    cur.bare = False
                    cur.in_qualifier = cur.in_qualifier or bool(re.match(r"^(?:with|who|whose|that|which)\b", text))
            continue
        if cur is None:
            # a sentence opening on a predicate ("must be 21 years old and ...") goes on describing one person
            cur = _Alt(head=None, mentions=list(seg.mentions), negs=set(seg.negs), bare=False,
                       in_qualifier=bool(qualifier or _QUALIFIER_WORD.search(text)))
            alts.append(cur)
            continue
        own_kinds = {m.kind for m in cur.mentions if not _within(m, cur.head)}
        if qualifier and seg.coord == "or" and own_kinds & {m.kind for m in seg.mentions}:
            # "who are over 18 or are 14-17": a second value of the same kind is an alternative
            nxt = _Alt(head=cur.head, mentions=_inherited(cur) + list(seg.mentions), negs=set(seg.negs), bare=False,
                       in_qualifier=True)
            alts.append(nxt)
            cur = nxt
            continue
        status_only = not qualifier and not _household_income(seg.mentions)
        new_alt = status_only and (cur.predicate_or or (
            not cur.in_qualifier and (cur.head is None or cur.head.cls != _OPEN)
            and (cur.head is None or cur.bare or seg.coord == "or")))
        if new_alt:
            if cur.predicate_or:
                cur = _predicate_alt(cur, seg)
            else:
                cur = _Alt(head=None, mentions=list(seg.mentions), negs=set(seg.negs), bare=False)
            alts.append(cur)
        else:
            if qualifier:
                for m in seg.mentions:
                    m.trailing = True
            cur.mentions += seg.mentions
            cur.negs |= seg.negs
            cur.bare = False
            cur.in_qualifier = cur.in_qualifier or bool(re.match(r"^(?:with|who|whose|that|which)\b", text))
    _distribute(alts, s, off)
    out, trivial = [], False
    for alt in alts:
        rules = [m for m in alt.mentions if m.kind not in alt.negs]
        rules = _drop_implicit_ages(rules)
        if not rules:
            if alt.head is None:
                continue  # a dangling adjective ("frail") is not a group of people
            if alt.head.cls == _OPEN:
                return "open", []
            trivial = True  # a group with nothing to check: the sentence restricts no one
            continue
        out.append(rules)
    return ("trivial" if trivial else "rules"), out


def _predicate_alt(cur: _Alt, seg: _Segment) -> _Alt:
    """One more alternative of a "who are A, B, or C" list: the subject with this predicate."""
    subject = cur.subject if cur.subject is not None else _inherited(cur)
    alt = _Alt(head=cur.head, mentions=list(subject) + list(seg.mentions), negs=set(seg.negs), bare=False,
               in_qualifier=True, predicate_or=cur.predicate_or)
    alt.subject = subject
    return alt


def _inherited(alt: _Alt) -> list[_Mention]:
    """What a predicate alternative keeps of its subject: the head noun's rules and its modifiers
    before it ("homeless women who are pregnant or ..." keeps homeless and female)."""
    if alt.head is None:
        return []
    return [m for m in alt.mentions if _within(m, alt.head) or m.start < alt.head.start]


_SPREAD_FORWARD = {"homeless", "income_limit", "disability", "residency", "veteran", "hiv"}


def _distribute(alts: list[_Alt], s: str, off: int):
    """Modifiers shared across coordinated people: "homeless children and families" (forward),
    "children, adolescents and adults with severe mental illness" (backward). Not from a
    self-contained group: "seniors, persons with disabilities" keeps disability to the persons."""
    for i, alt in enumerate(alts):
        if alt.head is None or not alt.bare or i == 0 or alt.coord == "or":
            continue  # "disabled persons, or caregivers": an "or" starts a group of its own
        prev = alts[i - 1]
        if prev.head is None:
            continue
        if re.search(r"\bthe\s+$", s[max(0, alt.head.start - off - 6):alt.head.start - off]) or any(_within(m, alt.head) and m.kind == "min_age" for m in alt.mentions):
            continue  # "low-income families, the elderly": a group of its own
        pre = [m for m in prev.mentions if not _within(m, prev.head) and m.start < prev.head.start
               and m.kind in _SPREAD_FORWARD]
        alt.mentions = alt.mentions + [m for m in pre if m not in alt.mentions]
    for i in range(len(alts) - 1, 0, -1):
        last = alts[i]
        if last.head is None or _GENERIC_HEADS.match(last.head.word):
            continue
        # "ex-offender, drug addicted, or homeless women": a singular word in a list of a plural
        # gendered noun describes the same people, so the gender carries back to it
        gender = [m for m in last.mentions if m.kind == "gender" and _within(m, last.head)]
        j = i - 1
        while gender and j >= 0 and alts[j].head is not None and alts[j].bare and alts[j].head.cls == _PERSON \
                and not alts[j].head.word.endswith("s") and not any(m.kind == "gender" for m in alts[j].mentions):
            alts[j].mentions = alts[j].mentions + gender
            alts[j].bare = False
            j -= 1
        post = [m for m in last.mentions if not _within(m, last.head) and m.start >= last.head.end]
        if not post:
            continue
        j = i - 1
        while j >= 0 and alts[j].head is not None and alts[j].bare and alts[j].head.word != last.head.word:
            target = alts[j]
            for m in post:
                if m.kind in ("min_age", "max_age") and target.head.cls != _AGE_GROUP and (
                        not m.trailing or target.head.cls == _RELATION):
                    continue
                if m not in target.mentions:
                    target.mentions = target.mentions + [m]
            target.bare = False
            j -= 1


def _drop_implicit_ages(rules: list[_Mention]) -> list[_Mention]:
    if any(m.kind in ("min_age", "max_age") and not m.implicit for m in rules):
        return [m for m in rules if not (m.kind in ("min_age", "max_age") and m.implicit)]
    return rules


def _finish_clause(mentions: list[_Mention], global_negs: set):
    """Dedupe a clause, apply the listing-wide negations and settle age conflicts. None: nothing left."""
    out, seen = [], set()
    for m in _drop_implicit_ages(mentions):
        if m.kind in global_negs:
            continue
        key = (m.kind, _value_key(m.value))
        if key in seen:
            continue
        seen.add(key)
        out.append(m)
    out = _merge_income_table(out)
    if any(m.kind == "pregnant" for m in out):
        out = [m for m in out if not (m.kind == "gender" and m.value == "female")]
    if len({m.value for m in out if m.kind == "gender"}) > 1:
        # "Homeless families and single women. Men must have children.": a rule for part of the people
        out = [m for m in out if m.kind != "gender"]
    # Two bounds of one kind: a group word's default loses to a number; two numbers keep the looser.
    for kind, pick in (("min_age", min), ("max_age", max)):
        ages = [m for m in out if m.kind == kind]
        if len(ages) > 1:
            keep = pick(ages, key=lambda m: m.value)
            out = [m for m in out if m.kind != kind or m is keep]
    lo = next((m for m in out if m.kind == "min_age"), None)
    hi = next((m for m in out if m.kind == "max_age"), None)
    if lo is not None and hi is not None and lo.value > hi.value:
        out = [m for m in out if m is not lo and m is not hi]
    return out or None


def _merge_income_table(clause: list[_Mention]) -> list[_Mention]:
    """Limits for households of given sizes ("1 person: $31,860; 2 people: $36,360", also across
    sentences) are one rule, so that each rule can be checked on its own."""
    rows = [m for m in clause if m.kind == "income_limit" and isinstance(m.value, dict) and "household_size" in m.value]
    if not rows:
        return clause
    table: dict[int, float] = {}
    for m in rows:
        annual = m.value["annual"] if "annual" in m.value else m.value["monthly"] * 12
        table.setdefault(m.value["household_size"], annual)
    merged = _Mention("income_limit", {"annual_by_household_size": tuple(sorted(table.items()))},
                      min(m.start for m in rows), max(m.end for m in rows), rows[0].mstart, rows[0].mend)
    return [m for m in clause if m not in rows] + [merged]


def _expand_areas(clause: list[_Mention]):
    """A residency mention naming several places is one alternative per place."""
    multi = [m for m in clause if m.kind == "residency"]
    if not multi:
        return [clause]
    others = [m for m in clause if m.kind != "residency"]
    choices = [[(m, area) for area in m.value] for m in multi]
    expanded = []
    for combo in product(*choices):
        clause_out = list(others)
        for m, area in combo:
            clause_out.append(_Mention("residency", area, m.start, m.end, m.mstart, m.mend))
        expanded.append(clause_out)
    return expanded
