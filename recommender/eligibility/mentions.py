"""Mentions: the spans of one sentence that state a rule (an age bound, an income limit, an area, a
status) or name people (heads: "women", "seniors", "families"), each claiming its characters so later
patterns do not read them twice."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .lexicon import LEX, _AGE_HINT, _AGE_PATTERNS, _DISABILITY, _HEAD_PATTERNS, _QUAL_INCOME, _is_year_unit, _num_value, \
    _unit_years
from .places import Gazetteer
from .rules import LOW_INCOME


@dataclass
class _Mention:
    kind: str
    value: object               # for residency a tuple of areas: alternatives
    start: int                  # the span a Rule reports
    end: int
    mstart: int                 # the masked span (hidden from head finding and splitting)
    mend: int
    implicit: bool = False      # from a group word ("adults"), yields to a stated number
    head: bool = False          # given by the head noun itself ("women")
    trailing: bool = False      # from a qualifier after a list ("residents or employees, ages 5 and over")


@dataclass
class _Head:
    start: int
    end: int
    cls: str
    word: str = ""


class _Mask:
    """Characters of one sentence already claimed by a mention; later patterns may not overlap them.
    Positions are absolute offsets in the listing text."""

    def __init__(self, start: int = 0, end: int = 0):
        self.off = start
        self.taken = bytearray(max(0, end - start))

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start - self.off:end - self.off])

    def add(self, start: int, end: int):
        self.taken[start - self.off:end - self.off] = b"\x01" * (end - start)

    def covers(self, pos: int) -> bool:
        return bool(self.taken[pos - self.off])



def _income_mentions(s: str, off: int, mask: _Mask) -> list[_Mention]:
    out = []
    for m in LEX.FPL.finditer(s):
        a, b = off + m.start(), off + m.end()
        if mask.free(a, b):
            mask.add(a, b)
            out.append(_Mention("income_limit", {"fpl_percent": _int_or_float(m.group("p"))}, a, b, a, b))
    for m in LEX.AMI.finditer(s):
        a, b = off + m.start(), off + m.end()
        if mask.free(a, b):
            mask.add(a, b)
            out.append(_Mention("income_limit", {"ami_percent": _int_or_float(m.group("p"))}, a, b, a, b))
    if LEX.INCOME_WORD.search(s) and LEX.LIMIT_WORD.search(s):
        prev_end = 0
        for m in LEX.AMOUNT.finditer(s):
            before_start, before = prev_end, s[prev_end:m.start()]
            prev_end = m.end()
            if re.search(r"\basset", before) or LEX.AMOUNT_NOT_LIMIT.search(before):
                continue
            amount = float(m.group("amt").replace(",", "")) * (1000 if m.group("k") else 1)
            size = None
            span_start = m.start()
            if m.group("hh"):
                size = int(m.group("hh"))
            else:
                hh = re.search(r"(?P<n>\d{1,2})\s*(?:persons?|people|member\s+households?)\s*:?\s*$", before)
                if hh:
                    size, span_start = int(hh.group("n")), before_start + hh.start()
                elif re.search(r"\b(?:individual|single\s+person|one\s+person)\b[^$]*$", before):
                    size = 1
                elif re.search(r"\bcouples?'?s?\b[^$]*$", before):
                    size = 2
                else:
                    fam = re.search(r"\b(?:family|household)\s+of\s+(\d{1,2})\b[^$]*$", before)
                    if fam:
                        size = int(fam.group(1))
            period = (m.group("per") or m.group("per2") or "").lower()
            if not period:
                if re.search(r"\bmonthly\b|\bper\s+month\b|\ba\s+month\b|/\s*month", s):
                    period = "month"
                elif re.search(r"\b(?:yearly|annual(?:ly)?|per\s+year|a\s+year)\b", s):
                    period = "year"
                else:
                    period = "year" if amount >= 6000 else "month"
            key = "monthly" if period.startswith("mo") or "month" in period else "annual"
            value = {key: _int_or_float(amount)}
            if size is not None:
                value["household_size"] = size
            a, b = off + span_start, off + m.end()
            if mask.free(a, b):
                mask.add(a, b)
                out.append(_Mention("income_limit", value, a, b, a, b))
    if out:
        return out  # a stated limit says more than "income guidelines" around it
    for pattern in (_QUAL_INCOME, LEX.SLASH_NO_INCOME):
        for m in pattern.finditer(s):
            a, b = off + m.start(), off + m.end()
            if mask.free(a, b):
                mask.add(a, b)
                out.append(_Mention("income_limit", LOW_INCOME, a, b, a, b))
    return out


def _int_or_float(x) -> int | float:
    x = float(str(x).replace(",", ""))
    return int(x) if x.is_integer() else x


_UNNAMED_AREA_AFTER = re.compile(
    r"\s*,?\s*(?:or|and|and/or|&)\s+(?:the\s+|its\s+)?(?:surrounding|nearby|neighbou?ring|adjacent|other|outlying)\s+"
    r"(?:counties|areas|jurisdictions|communities|cities|towns|regions)")


def _residency_mentions(text: str, s: str, off: int, mask: _Mask, places: Gazetteer) -> list[_Mention]:
    out = []
    if not LEX.RESIDENCY_HINT.search(s):
        return out
    for m in LEX.ZIP_RESIDENCY.finditer(s):
        a, b = off + m.start(), off + m.end()
        za, zb = off + m.start("zips"), off + m.end("zips")
        if mask.free(za, zb):
            mask.add(za, zb)
            zips = tuple(dict.fromkeys(re.findall(r"\d{5}", m.group("zips"))))
            out.append(_Mention("residency", zips, a, b, za, zb))
    for pattern in places.residency:
        for m in pattern.finditer(s):
            aa, ab = off + m.start("area"), off + m.end("area")
            if not mask.free(aa, ab):
                continue
            areas = places.areas_in(m.group("area"))
            if not areas:
                continue
            mask.add(aa, ab)
            if _UNNAMED_AREA_AFTER.match(s[m.end("area"):]):
                continue  # "Baltimore City or surrounding counties": an alternative we cannot check
            out.append(_Mention("residency", areas, off + m.start(), off + m.end(), aa, ab))
    original = text[off:off + len(s)]
    for m in LEX.NAMED_PLACE.finditer(original):
        name = m.group("area")
        aa, ab = off + m.start("area"), off + m.end("area")
        if LEX.NOT_A_PLACE.search(name) or not mask.free(aa, ab):
            continue
        mask.add(aa, ab)
        out.append(_Mention("residency", (places.normalise(name),), off + m.start(), off + m.end(), aa, ab))
    return out


def _age_mentions(s: str, off: int, mask: _Mask) -> list[_Mention]:
    out = []
    if not _AGE_HINT.search(s):
        return out

    def add(m, kind, years):
        a, b = off + m.start(), off + m.end()
        if not mask.free(a, b):
            return False
        mask.add(a, b)
        if years is not None:
            out.append(_Mention(kind, years, a, b, a, b))
        return True

    def head_before(pos):
        return bool(LEX.AGE_CONTEXT_HEAD.search(s[max(0, pos - 40):pos]))

    def copula_before(pos):
        # "who are 14-17" (a range only: "life expectancy is less than six months" is no age)
        return bool(re.search(r"\b(?:who\s+)?(?:are|be)\s+$", s[max(0, pos - 20):pos]))

    for name in ("birth", "range", "no_older", "open_min", "max_under", "max_age", "at_least", "over", "under", "up_to",
                 "bare_age", "bare_unit"):
        for m in _AGE_PATTERNS[name].finditer(s):
            if not mask.free(off + m.start(), off + m.end()):
                continue
            g = m.groupdict()
            if name == "birth":
                b = _unit_years(_num_value(g["b"]), g["ub"])
                if b <= 120:
                    add(m, "max_age", math.floor(b))
            elif name == "range":
                a_raw, b_raw = _num_value(g["a"]), _num_value(g["b"])
                ua, ub = g["ua"], g["ub"]
                a = _unit_years(a_raw, ua or (ub if not ub or _is_year_unit(ub) else ub))
                b = _unit_years(b_raw, ub or ua)
                pre = (g["pre"] or "").strip()
                if g["conn"] in ("and", "&") and not pre:
                    continue
                context = bool(pre) or bool(g["old"]) or (ua and not _is_year_unit(ua) and ub and _is_year_unit(ub)) \
                    or head_before(m.start()) or copula_before(m.start())
                if not context or a > b or b > 120:
                    continue
                a_i, b_i = math.floor(a), math.floor(b)
                if add(m, "max_age", b_i) and a_i > 0:
                    out.append(_Mention("min_age", a_i, off + m.start(), off + m.end(), off + m.start(), off + m.end()))
            elif name == "no_older":
                if g["ub"] and not _is_year_unit(g["ub"]) and not g["old"]:
                    continue
                add(m, "max_age", math.floor(_unit_years(_num_value(g["b"]), g["ub"])))
            elif name == "open_min":
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a > 120:
                    continue
                add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "max_under":
                if g["ub"] and not _is_year_unit(g["ub"]) and not g["old"]:
                    continue
                b = _unit_years(_num_value(g["b"]), g["ub"])
                if b <= 120:
                    add(m, "max_age", math.floor(b))
            elif name == "max_age":
                add(m, "max_age", math.floor(_num_value(g["b"])))
            elif name == "at_least":
                w = g["w"]
                is_person = "must" in w or re.search(r"\b(?:be|is|are|aged?)\s+$", s[max(0, m.start() - 12):m.start()])
                ok = "age" in w or g["age"] or g["old"] or (g["ua"] and _is_year_unit(g["ua"]) and is_person) or (
                    not g["ua"] and is_person and LEX.OVER_FOLLOW_OK.match(s[m.end():]))
                if not ok:
                    continue
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a <= 120:
                    add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "over":
                if g["ua"] and not _is_year_unit(g["ua"]) and not g["old"]:
                    continue
                if not g["age"] and not g["ua"] and not LEX.OVER_FOLLOW_OK.match(s[m.end():]):
                    continue
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a > 120:
                    continue
                if g["w"].startswith("older"):
                    a = math.floor(a) + 1
                add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "under":
                # "under 21" on its own is an age; "under 3 months" or "under 10 staff" is not.
                near_head = head_before(m.start())
                ok = g["age"] or g["old"] or near_head or (
                    g["w"] in ("under", "younger than") and not g["ub"] and LEX.OVER_FOLLOW_OK.match(s[m.end():]))
                if not ok or (g["ub"] and not _is_year_unit(g["ub"]) and not g["old"] and not near_head):
                    continue
                b = _unit_years(_num_value(g["b"]), g["ub"])
                if b <= 121:
                    add(m, "max_age", max(0, math.ceil(b) - 1))
            elif name == "up_to":
                w = g["w"]
                near_head = w != "to" and head_before(m.start())
                ok = g["age"] or g["old"] or near_head
                # "up to 3 months" is a duration unless it follows the people it bounds ("infants up to 12 months")
                if not ok or (g["ub"] and not _is_year_unit(g["ub"]) and not g["old"] and not near_head):
                    continue
                b = _unit_years(_num_value(g["b"]), g["ub"])
                if b <= 120:
                    add(m, "max_age", math.floor(b))
            elif name == "bare_age":
                if LEX.BARE_AGE_BAD_BEFORE.search(s[max(0, m.start() - 30):m.start()]):
                    continue
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a <= 120:
                    add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "bare_unit":
                if LEX.BARE_UNIT_BAD_BEFORE.search(s[max(0, m.start() - 30):m.start()]):
                    continue
                a = _num_value(g["a"])
                if a <= 120:
                    add(m, "min_age", math.floor(a) if a >= 1 else None)
    return out


def _status_mentions(text: str, s: str, off: int, mask: _Mask) -> list[_Mention]:
    out = []

    def scan(pattern, kind, value=True, bad_before=None, bad_after=None, check=None, noun=False):
        for m in pattern.finditer(s):
            a, b = off + m.start(), off + m.end()
            if not mask.free(a, b):
                continue
            if bad_before is not None and bad_before.search(s[max(0, m.start() - 40):m.start()]):
                continue
            if bad_after is not None and bad_after.search(s[m.end():]):
                continue
            if check is not None and not check(m):
                continue
            if noun:
                # A noun ("veterans") is also the head of its phrase: claim it without hiding it.
                out.append(_Mention(kind, value, a, b, a, a))
                continue
            mask.add(a, b)
            out.append(_Mention(kind, value, a, b, a, b))

    def hiv_ok(m):
        # "aids" alone is a hearing or walking aid unless the listing wrote it in capitals.
        return m.group().startswith("hiv") or text[off + m.start():off + m.end()] == "AIDS"

    scan(LEX.HIV, "hiv", bad_before=LEX.HIV_BAD_BEFORE, bad_after=LEX.HIV_BAD_AFTER, check=hiv_ok)
    scan(_DISABILITY, "disability", bad_before=LEX.DISABILITY_BAD_BEFORE, bad_after=LEX.DISABILITY_BAD_AFTER)
    if not LEX.HOMELESS_AT_RISK.search(s):
        # "homeless or at risk of homelessness" serves people with a home too: no homeless rule.
        scan(LEX.HOMELESS, "homeless", bad_before=LEX.HOMELESS_BAD_BEFORE)
    scan(LEX.PREGNANT, "pregnant", bad_before=re.compile(r"(?:\bnot|prevent\w*|teen)\s+$"), bad_after=LEX.PREGNANT_BAD_AFTER)
    scan(LEX.FEMALE_STATUS, "gender", value="female")
    scan(LEX.VETERAN, "veteran", noun=True)

    def student_ok(m):
        return not re.search(r"\battended\b", m.group())

    scan(LEX.STUDENT, "student", bad_before=LEX.STUDENT_BAD_BEFORE, check=student_ok, noun=True)
    scan(LEX.CAREGIVER, "caregiver", bad_before=LEX.CAREGIVER_BAD_BEFORE, noun=True)
    return out


_HEAD_RE = re.compile("|".join(f"(?P<h{i}>{p.pattern})" for i, (p, _, _) in enumerate(_HEAD_PATTERNS)))


def _heads(s: str, off: int, mask: _Mask, neutral=()):
    """Person nouns (not inside another mention), and the rules the noun itself gives."""
    found = []
    for m in _HEAD_RE.finditer(s):
        a, b = off + m.start(), off + m.end()
        if not mask.free(a, b):
            continue
        _, cls, rule = _HEAD_PATTERNS[int(m.lastgroup[1:])]
        found.append((_Head(a, b, cls, m.group()), rule))
    heads, mentions = [], []
    for head, rule in found:
        heads.append(head)
        if rule is None:
            continue
        kind, value = rule
        if kind == "gender" and any(a <= head.start < b for a, b in neutral):
            continue  # "men and women"
        if kind == "gender" and value == "female" and re.search(r"(?:pregnant|expecting|expectant)\s+(?:\w+\s+)?$",
                                                                 s[max(0, head.start - off - 30):head.start - off]):
            continue  # "pregnant women": pregnancy is the rule
        mentions.append(_Mention(kind, value, head.start, head.end, head.start, head.end,
                                 implicit=kind in ("min_age", "max_age"), head=True))
    return heads, mentions


