"""The lexicon of eligibility text: number words, age units and patterns, income, negation, status
and person-noun patterns, list separators and sentence cues. Data only (compiled regexes and word
lists); ``mentions`` scans with them, ``clauses`` groups, ``extract`` reads a listing. Place names come
from the catalogue's gazetteer (``places``), not from here.

The word lists and every pattern that needs nothing from code are in the data file ``lexicon.json``
(its patterns by name in ``LEX``); the patterns built here are those composed of shared parts (number
words, age units, gender words) or around a gazetteer's areas."""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

LEXICON_FILE = Path(__file__).with_name("lexicon.json")
_DATA = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))


def _compiled(entry: str | dict) -> re.Pattern:
    """One pattern of the data file: a regex, or ``{"regex", "flags": "i", "about"}``."""
    if isinstance(entry, str):
        return re.compile(entry)
    return re.compile(entry["regex"], re.I if "i" in entry.get("flags", "") else 0)


#: The data file's patterns by name (``LEX.HIV``, ``LEX.SEGMENT_SEP``).
LEX = SimpleNamespace(**{name: _compiled(entry) for name, entry in _DATA["patterns"].items()})
_NUMWORD_VALUES: dict[str, int] = _DATA["number_words"]
_NUMWORD = (r"\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty)(?:[\s-](?:one|two|three|four|five|six|seven|"
            r"eight|nine))?\b|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
            r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)\b")


def _n(name: str) -> str:
    """A number that may be an age: 1-3 digits (optionally "1/2"), or a number word."""
    digits = rf"(?<!\d,)(?<![\d$./])\d{{1,3}}(?:\s+1/2|\.5)?(?![\d%/]|,\d|\.\d|:\d|(?:st|nd|rd|th)\b|\s*%|\s*percent)"
    return rf"(?P<{name}>{digits}|{_NUMWORD})"


def _num_value(text: str) -> float:
    text = text.strip()
    if text[0].isdigit():
        if "1/2" in text:
            return float(text.split()[0]) + 0.5
        return float(text)
    parts = re.split(r"[\s-]+", text)
    return float(sum(_NUMWORD_VALUES[p] for p in parts))


_UA = r"(?:years?|yrs?\.?|y/?o\b|months?|mos?\.?|weeks?|wks?\.?)"
_OLD = r"(?:\s*-?\s*olds?\b|\s+of\s+age\b|\s+in\s+age\b)"


def _unit_years(value: float, unit: str | None) -> float:
    unit = (unit or "").strip().lower()
    if unit.startswith("mo"):
        return value / 12.0
    if unit.startswith("w"):
        return value / 52.0
    return value


def _is_year_unit(unit: str | None) -> bool:
    return bool(unit) and unit.strip().lower()[0] in "y"


_AGE_PATTERNS = {
    "birth": re.compile(
        rf"\b(?:from\s+)?(?:birth|newborns?|infancy)\s*(?:-|to|through|thru|until|till|up\s+to)\s*(?:age\s+(?:of\s+)?)?"
        rf"{_n('b')}\s*-?\s*(?P<ub>{_UA})?(?P<old>{_OLD})?"),
    "range": re.compile(
        rf"(?P<pre>\bbetween\s+(?:the\s+)?(?:ages?\s+(?:of\s+)?)?|\b(?:ages?|aged)\s*(?:of\s+|from\s+|between\s+)?|"
        rf"\bfrom\s+(?:age\s+)?)?{_n('a')}\s*-?\s*(?P<ua>{_UA})?(?:\s*old)?\s*(?P<conn>-|\bto\b|\bthrough\b|\bthru\b|"
        rf"\band\b|&|\buntil\b)\s*(?:age\s+)?{_n('b')}\s*-?\s*(?P<ub>{_UA})?(?P<old>{_OLD})?"),
    "no_older": re.compile(
        rf"\b(?:no|not|cannot\s+be|can't\s+be|must\s+not\s+be)\s+(?:older|over)\s+(?:than\s+)?(?:the\s+age\s+of\s+|age\s+)?"
        rf"{_n('b')}(?:\s*-?\s*(?P<ub>{_UA}))?(?P<old>{_OLD})?"),
    "open_min": re.compile(
        rf"(?:\b(?:ages?|aged)\s*(?:of\s+)?)?{_n('a')}\s*(?:-?\s*(?P<ua>{_UA})(?:{_OLD})?\s*)?(?:\+|(?:\band\b|&|\bor\b|-)\s*(?:older|over|up|upwards?|above|"
        rf"beyond)\b)"),
    "max_under": re.compile(
        rf"{_n('b')}(?:\s*-?\s*(?P<ub>{_UA})(?P<old>{_OLD})?)?\s*(?:\band\b|\bor\b|&)\s*(?:under|younger|below)\b"),
    "max_age": re.compile(rf"\bmax(?:imum)?\.?\s+age(?:\s+(?:is|of))?\s+{_n('b')}"),
    "at_least": re.compile(
        rf"\b(?P<w>at\s+least|minimum(?:\s+age)?(?:\s+of)?|min\.?\s+age(?:\s+of)?|must\s+be(?:\s+at\s+least)?)\s+"
        rf"(?P<age>age\s+)?{_n('a')}(?:\s*-?\s*(?P<ua>{_UA}))?(?P<old>{_OLD})?"),
    "over": re.compile(
        rf"\b(?P<w>over|older\s+than|above)\s+(?:the\s+)?(?P<age>age\s+(?:of\s+)?)?{_n('a')}(?:\s*-?\s*(?P<ua>{_UA}))?"
        rf"(?P<old>{_OLD})?"),
    "under": re.compile(
        rf"\b(?P<w>under|younger\s+than|less\s+than|below)\s+(?:the\s+)?(?P<age>age\s+(?:of\s+)?)?{_n('b')}"
        rf"(?:\s*-?\s*(?P<ub>{_UA}))?(?P<old>{_OLD})?"),
    "up_to": re.compile(
        rf"\b(?P<w>up\s+to|upto|through|thru|until|till|to)\s+(?:the\s+)?(?P<age>age\s+(?:of\s+)?)?{_n('b')}"
        rf"(?:\s*-?\s*(?P<ub>{_UA}))?(?P<old>{_OLD})?"),
    "bare_age": re.compile(rf"\b(?:ages?|aged)\s*(?:of\s+)?{_n('a')}(?:\s*-?\s*(?P<ua>{_UA}))?(?P<old>{_OLD})?"),
    "bare_unit": re.compile(rf"{_n('a')}\s*-?\s*(?P<ua>years?|yrs?\.?)(?P<old>{_OLD})"),
}
_AGE_HINT = re.compile(r"\d|" + _NUMWORD)

# ---------------------------------------------------------------------------- income

_QUAL_INCOME = re.compile(r"\b(?:" + "|".join(_DATA["qualified_income"]) + r")")

# ---------------------------------------------------------------------------- negations

#: (phrase, the rule fields it lifts): "no income requirements" lifts ``income_limit``
_NEGATIONS = [(re.compile(n["regex"]), frozenset(n["lifts"])) for n in _DATA["negations"]]

# ---------------------------------------------------------------------------- statuses

_DIS_MOD = (r"(?:physical(?:ly)?|developmental(?:ly)?|mental(?:ly)?|emotional(?:ly)?|intellectual(?:ly)?|learning|"
            r"cognitive(?:ly)?|sensory|psychiatric|behavioral|functional(?:ly)?|medical(?:ly)?|severe(?:ly)?|significant|"
            r"permanent(?:ly)?|chronic(?:ally)?|multiple|other)")
_DISABILITY = re.compile(
    rf"\b(?:(?:{_DIS_MOD})(?:\s*(?:,|and/or|\band\b|\bor\b|&|/)\s*|\s+))*(?:disabilit(?:y|ies)|disabled|handicap(?:ped|s)?|"
    r"impaired|impairments?)\b"
    r"|\b(?:visually|hearing)\s+impaired\b|\blegally\s+blind\b|\bblind\b|\blow\s+vision\b|\bdeaf\b|\bhard\s+of\s+hearing\b"
    r"|\bmental(?:ly)?\s+retard(?:ation|ed)\b|\bautis(?:m|tic)\b|\bcerebral\s+palsy\b|\bspina\s+bifida\b"
    r"|\b(?:(?:severe|serious|persistent|chronic|major)\s+(?:and\s+persistent\s+)?)*mental(?:ly)?\s+ill(?:ness(?:es)?)?\b"
    r"|\bpsychiatric\s+(?:disorders?|disabilit\w*|illness(?:es)?|conditions?|problems?)\b|\bmental\s+disorders?\b"
    r"|\bpsychological\s+illness(?:es)?\b|\bdevelopmental\s+disorders?\b|\bemotionally\s+disturbed\b|\b(?:serious\s+)?emotional\s+disturbances?\b")

# ---------------------------------------------------------------------------- heads (the people a phrase names)

_PERSON = "person"      # served people; a rule-bearing or plain person noun
_AGE_GROUP = "age"      # children, youth, infants...: receive a stated age from a neighbour
_RELATION = "relation"  # families, parents, friends: someone's relatives
_HOUSEHOLD = "household"  # spouses, dependents: always served through the main person
_OPEN = "open"          # anyone, the public
_ORG = "org"            # agencies, businesses, providers: not residents

_FEMALE_WORDS = (r"women|woman|females?|girls?|ladies|mothers?|moms?|wives|grandmothers?|"
                 r"widows?(?!\s+(?:or|and|&|/)\s+widowers?)")
_MALE_WORDS = r"men|males?|boys?|fathers?|dads?|gentlemen|widowers?|grandfathers?"
_GENDER_PAIR = re.compile(
    rf"\b(?:{_MALE_WORDS})\s*(?:,|\band/or\b|\band\b|\bor\b|&|/)\s*(?:{_FEMALE_WORDS})\b|"
    rf"\b(?:{_FEMALE_WORDS})\s*(?:,|\band/or\b|\band\b|\bor\b|&|/)\s*(?:{_MALE_WORDS})\b|"
    r"\bwidows?\s+(?:or|and|&|/)\s+widowers?\b")
_NOT_PERSON_AFTER = (r"(?!\s*-?\s*(?:day|care|education|literacy|services?|programs?|protective|medical|daycare|basic|ed\b|"
                     r"learners?|foster|abuse|support|welfare|development|custody|health|center|centre|housing|"
                     r"centers|apartments?|communities|buildings?|high|history|issues|studies)\b)")
_HEAD_PATTERNS = [
    (re.compile(r"\bolder\s+(?:adults?|persons?|people|individuals|americans)\b"), _PERSON, ("min_age", 60)),
    (re.compile(r"\bsenior\s+citizens?\b|(?<!high school )(?<!college )\bseniors\b|\bsenior\b" + _NOT_PERSON_AFTER + r"|\belderly\b|\belders\b"),
     _PERSON, ("min_age", 60)),
    (re.compile(r"\byoung\s+(?:adults?|people|persons)\b"), _AGE_GROUP, None),
    (re.compile(r"\badults?\b" + _NOT_PERSON_AFTER), _PERSON, ("min_age", 18)),
    (re.compile(r"\bchild(?:ren)?\b" + _NOT_PERSON_AFTER + r"(?!'s)|\bkids?\b|\bminors?\b"), _AGE_GROUP, ("max_age", 17)),
    # "youth" alone: programmes set the bound anywhere from 18 to 24; 24 keeps every youth programme
    # open to its youngest adults and closes it to a 67-year-old
    (re.compile(r"\byouths?\b(?!\s*-?\s*(?:services?|programs?|centers?|development|sports|league))"), _AGE_GROUP,
     ("max_age", 24)),
    (re.compile(r"\bteens?\b|\bteenagers?\b|\badolescents?\b|\badolescent\b|\bjuveniles?\b|\bpre-?teens?\b|"
                r"\binfants?\b|\bbabies\b|\bbaby\b|\bnewborns?\b|\btoddlers?\b|\bpreschoolers?\b"), _AGE_GROUP, None),
    (re.compile(rf"\b(?:{_FEMALE_WORDS})\b(?!'s\s+(?:health|center|centre|programs?|services|history|issues|studies|day))"),
     _PERSON, ("gender", "female")),
    (re.compile(rf"\b(?:{_MALE_WORDS})\b(?!'s\s+(?:health|center|centre|programs?|services|history|issues|studies|day))"),
     _PERSON, ("gender", "male")),
    (re.compile(r"\bspouses?\b|\bdependents?\b|\bsignificant\s+others?\b"), _HOUSEHOLD, None),
    (re.compile(r"\bfamilies\b|(?<!the\s)\bfamily(?:\s+members?)?(?=\s*(?:$|[,.;)]|\band\b|\bor\b|\bof\b|\bwho\b|\bwith\b))|\bhouseholds?\b|\bparents?\b|\bguardians?\b|\bfriends?\b|"
                r"\brelatives?\b|\bloved\s+ones\b|\bgrandparents?\b"), _RELATION, None),
    (re.compile(r"\bany\s*one\b|\banybody\b|\bevery\s*one\b|\beverybody\b|"
                r"\b(?:the\s+)?(?:general\s+)?public\b(?=\s*(?:$|[.,;:)!]|and\b|or\b|for\b|who\b|with\b|at\s+large))|\ball(?=\s+(?:are|is)\s+welcome)|(?<=open to )all\b|\ball\s+welcome\b|"
                r"\bothers\b|\binterested\s+(?:persons|people|individuals|parties)\b"), _OPEN, None),
    (re.compile(r"\bagenc(?:y|ies)\b|\borgani[sz]ations?\b|\bbusinesses?\b|\bcorporations?\b|\bcompanies\b|\bnon-?profits?\b|"
                r"\binstitutions?\b|\buniversities\b|\bcolleges?\b|\bchurches\b|\bcongregations?\b|\bproviders?\b|"
                r"\bprofessionals?\b|\bdentists?\b|\bphysicians?\b|\bdoctors?\b|\bemployers?\b|\blandlords?\b|"
                r"\bassociations?\b|\bvendors?\b|\battorneys?\b|\blawyers?\b|\bschools\b(?=\s*(?:,|\.|$|\band\b|\bor\b))"),
     _ORG, None),
    (re.compile(r"\bpersons?(?=\b|\d)|\bpeople\b|\bindividuals?\b|\bresidents?\b|\bcitizens?\b|\bclients?\b|\bpatients?\b|"
                r"\bconsumers?\b|\bhome\s*owners?\b|\bhome\s*buyers?\b|\btenants?\b|\brenters?\b|\bvictims?\b|"
                r"\bsurvivors?\b|\bmembers?\b|\bimmigrants?\b|\brefugees?\b|\basylees?\b|\bex-offenders?\b|\boffenders?\b|"
                r"\binmates?\b|\bprisoners?\b|\btravell?ers?\b|\bcouples?\b|\btax\s*payers?\b|\bjob\s*seekers?\b|"
                r"\bapplicants?\b|\bparticipants?\b|\bthose\b|\bguests?\b|\bworkers?\b|\bemployees?\b|"
                r"\blatinos?\b|\bhispanics?\b|\bpopulation\b|"
                r"\bhomebound\b|\bsingles\b|\bveterans?\b|\bstudents?\b|\bcare\s*-?\s*givers?\b|\bcaretakers?\b|"
                r"\bwidows?\b|\bwidowers?\b|\bmentors?\b|\bvolunteers?\b"), _PERSON, None),
]

# ---------------------------------------------------------------------------- sentences

#: words a full stop does not end a sentence after ("e.g.", "St.")
_ABBREVIATIONS = frozenset(_DATA["abbreviations"])


def residency_patterns(area: str, area_list: str) -> tuple[re.Pattern, ...]:
    """Phrases that make a named area a residency rule, around a gazetteer's area regexes."""
    return (
        re.compile(rf"\b(?:residents?|residing|resides?|living|lives?|located)\s+(?:with)?in\s+(?:the\s+)?(?P<area>{area_list})"),
        re.compile(rf"\bresidents?\s+of\s+(?:the\s+)?(?P<area>{area_list})"),
        re.compile(rf"(?P<area>{area_list})(?=\s+(?:residents?|residency|citizens?|veterans?|seniors?|families|households?|"
                   r"homeowners?|tenants?|renters?|youth|adults?|children|women|men)\b)"),
        re.compile(rf"\b(?:in|at)\s+an?\s+(?P<area>{area})\s+shelters?\b"),
        re.compile(rf"\banyone\s+(?:living\s+|who\s+lives\s+)?in\s+(?:the\s+)?(?P<area>{area_list})"),
    )
