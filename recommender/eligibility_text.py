"""Read eligibility rules from a listing's free text ("Homeless women, 18 and older").

``extract_rules(text)`` is deterministic and lexicon/regex based (no model, no network). It returns
``Rule`` objects (``recommender.eligibility_rules``) grouped into alternative clauses: the listing
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
  caregiver, hiv ("living with HIV/AIDS"; not "affected by" or "HIV testing"). Substance use,
  offending history, insurance, benefits and referrals are not modelled.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import product

from recommender.eligibility_rules import KINDS, LOW_INCOME, Rule, normalise_area

__all__ = ["extract_rules"]

_KIND_ORDER = list(KINDS)

#: Alternative clauses kept at most; beyond this the listing is too tangled to read as rules.
MAX_CLAUSES = 32

# ============================================================================ lexicon pieces

_NUMWORD_VALUES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
}
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

# Person nouns that put a following number in an age context ("youth 14 through 21", "children 3-5").
_AGE_CONTEXT_HEAD = re.compile(
    r"(?:persons?|people|individuals?|adults?|men|women|males?|females?|boys?|girls?|children|child|kids?|"
    r"youths?|teens?|teenagers?|adolescents?|juveniles?|minors?|infants?|students?|offenders?|seniors?|"
    r"citizens?|residents?|clients?|participants?|members?|mentors?|groups?|patients?|anyone|everyone|those|"
    r"babies|toddlers?|veterans?|guests?|ones)\W{0,4}(?:\(\s*)?$")


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
_OVER_FOLLOW_OK = re.compile(
    r"^\s*(?:$|[^\w\s]|(?:years?|yrs?|y/o|who|with|and|or|that|in|at|diagnosed|living|residing|are|is|may|must|"
    r"can|from|for|to|but)\b)")
_BARE_AGE_BAD_BEFORE = re.compile(r"(?:reach(?:es|ed)?|turns?|turned|until|by|before|after)\s+(?:\w+\s+)?$")
_BARE_UNIT_BAD_BEFORE = re.compile(r"(?:for|within|past|last|after|before|than|least|about|over|of)\s+$")

# ---------------------------------------------------------------------------- income

_FPL = re.compile(
    r"(?:\b(?:at\s+or\s+)?(?:below|under|less\s+than|up\s+to|within|not\s+(?:to\s+)?exceed(?:ing)?|cannot\s+exceed|"
    r"no\s+more\s+than|maximum\s+of|of)\s+)?(?<![\d.])(?P<p>\d{2,3}(?:\.\d+)?)\s*(?:%|percent\b)\s*(?:or\s+(?:less|below)\s+)?"
    r"(?:of\s+|below\s+|under\s+)?(?:the\s+)?(?:current\s+|annual\s+)?(?:federal\s+|national\s+|u\.?s\.?\s+)?"
    r"(?:poverty\b(?:\s+(?:level|line|guidelines?|index)(?:\s+index)?)?|fpl\b|fpg\b)")
_AMI = re.compile(
    r"(?:\b(?:at\s+or\s+)?(?:below|under|less\s+than|up\s+to|within|not\s+(?:to\s+)?exceed(?:ing)?|cannot\s+exceed|"
    r"no\s+more\s+than|maximum\s+of|of)\s+)?(?<![\d.])(?P<p>\d{2,3})\s*(?:%|percent\b)\s*(?:or\s+(?:less|below)\s+)?(?:of\s+)?(?:the\s+)?(?:baltimore\s+)?"
    r"(?:area\s+median(?:\s+(?:family\s+|household\s+)?income)?|median\s+(?:family\s+|household\s+)?income|ami\b)")
_AMOUNT = re.compile(
    r"\$\s?(?P<amt>\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?\s*(?P<k>k\b)?"
    r"(?:\s*(?:/|\bper\b|\ba\b|\ban\b|\beach\b)\s*(?P<per>month|mo\b|year|yr\b|annum)"
    r"|\s+(?P<per2>monthly|annually|yearly|a\s+year|a\s+month|per\s+year|per\s+month))?"
    r"(?:\s*/\s*(?P<hh>\d{1,2})\s*(?:persons?|people|individuals?))?")
_INCOME_WORD = re.compile(r"\b(?:incomes?|earn(?:s|ings)?|salary|salaries|wages?|makes?|gross)\b")
_LIMIT_WORD = re.compile(
    r"\b(?:below|under|less\s+than|not\s+exceed|cannot\s+exceed|can't\s+exceed|does\s+not\s+exceed|maximum|max|"
    r"up\s+to|or\s+less|no\s+more\s+than|limits?|at\s+or\s+below|within|ceiling)\b")
_AMOUNT_NOT_LIMIT = re.compile(
    r"(?:\b(?:fees?|costs?|charges?|deposits?|rent|donations?|co-?pays?|pay|asset|assets|savings)\b[^$]{0,30}$)|"
    r"(?:(?<!not\s)(?<!cannot\s)\b(?:at\s+least|minimum\s+of|more\s+than|greater\s+than)\s*$)")
_QUAL_INCOME = re.compile(r"\b(?:" + "|".join([
    r"(?:very\s+)?low[\s-]+(?:(?:to|and|or)[\s-]+(?:moderate|middle|limited|no)[\s-]+)?incomes?",
    r"low[\s-]*(?:moderate|middle)[\s-]+incomes?",
    r"(?:very\s+low|low|moderate)-,?\s+(?:low-,?\s+)?(?:and\s+)?(?:moderate|low|middle)-incomes?",
    r"moderate\s+to\s+low[\s-]+incomes?",
    r"(?:limited|little|fixed)\s+(?:or\s+no\s+)?incomes?",
    r"low\s+or\s+(?:no|limited)\s+incomes?",
    r"(?:have|has|with|or)\s+no\s+income",
    r"indigen(?:t|ce|cy)",
    r"income[\s-]+eligib(?:le|ility)",
    r"income\s+(?:guidelines?|requirements?|criteria|limits?|limitations|qualifications?|standards?|tests?|"
    r"(?:and|&)\s+(?:assets?|resources?)\s+(?:eligibility|limits?|requirements?|guidelines?|criteria))",
    r"financial(?:ly)?\s+(?:eligibility|eligible|criteria|need|hardship|requirements?|standards|guidelines|unable|qualif\w*)",
    r"in\s+financial\s+need",
    r"based\s+on\s+(?:family\s+|household\s+)?income",
    r"economically\s+disadvantaged",
    r"(?:live|living|lives)\s+in\s+poverty",
    r"means[\s-]+tested",
]) + r")")
_SLASH_NO_INCOME = re.compile(r"/\s*no\s+income\b")

# ---------------------------------------------------------------------------- negations

_NEGATION_HINT = re.compile(r"\bno\b|\bnot\b|regardless|\ball\b|\bany\b|\bboth\b|\beither\b|\bco-?ed\b|\bage\s+is")
_NEGATIONS = [
    (re.compile(r"\bno\s+age\s+(?:or|and|&)\s+income\s+(?:requirements?|restrictions?|limits?|limitations?)"),
     frozenset({"min_age", "max_age", "income_limit"})),
    (re.compile(r"\bregardless\s+of\s+(?:their\s+)?age\s+(?:and|or|&)\s+income"),
     frozenset({"min_age", "max_age", "income_limit"})),
    (re.compile(r"\bno\s+income\s+(?:requirements?|restrictions?|limits?|limitations?|guidelines?|eligibility|criteria|"
                r"tests?|caps?|ceilings?)|\bregardless\s+of\s+(?:\w+\s+){0,3}?income|\bnot\s+income[\s-]+"
                r"(?:based|tested|restricted)|\bincome\s+is\s+not\s+a\s+factor|\bno\s+means\s+test"),
     frozenset({"income_limit"})),
    (re.compile(r"\b(?:of\s+)?all\s+ages\b|\b(?:of\s+)?any\s+age\b|\bregardless\s+of\s+age|\bno\s+age\s+"
                r"(?:requirements?|restrictions?|limits?|limitations?)|\bage\s+is\s+not\s+a\s+factor"),
     frozenset({"min_age", "max_age"})),
    (re.compile(r"\bregardless\s+of\s+(?:gender|sex)\b|\bany\s+gender\b|\ball\s+genders\b|\bboth\s+(?:genders|sexes)\b|"
                r"\beither\s+(?:gender|sex)\b|\bco-?ed\b"),
     frozenset({"gender"})),
    (re.compile(r"\bno\s+residency\s+requirements?|\bregardless\s+of\s+(?:where\s+they\s+live|residence|residency|"
                r"county)|\bany\s+county\b|\ball\s+counties\b"),
     frozenset({"residency"})),
]

# ---------------------------------------------------------------------------- residency

_COUNTY_NAMES = (r"allegany|anne\s+arundel|baltimore|calvert|caroline|carroll|cecil|charles|dorchester|frederick|garrett|"
                 r"harford|howard|kent|montgomery|prince\s+george'?s|queen\s+anne'?s|st\.?\s+mary'?s|saint\s+mary'?s|"
                 r"somerset|talbot|washington|wicomico|worcester")
_AREA = (rf"(?:(?:north|south|east|west)(?:ern)?\s+)?(?:baltimore\s+city|city\s+of\s+baltimore|(?:{_COUNTY_NAMES})\s+county|"
         r"maryland|district\s+of\s+columbia|washington,?\s+d\.\s?c\.?|d\.\s?c\.|\bdc\b|west\s+virginia|virginia|"
         r"pennsylvania|delaware|baltimore)")
_AREA_RE = re.compile(_AREA)
_CITY_AND_COUNTY = r"baltimore\s+city\s+(?:and|&|or)\s+(?:baltimore\s+)?county"
_AREA_LIST = rf"(?:{_CITY_AND_COUNTY}|{_AREA}(?:\s*(?:,|and/or|\band\b|\bor\b|&)\s*(?:the\s+)?{_AREA})*)"
_RESIDENCY = [
    re.compile(rf"\b(?:residents?|residing|resides?|living|lives?|located)\s+(?:with)?in\s+(?:the\s+)?(?P<area>{_AREA_LIST})"),
    re.compile(rf"\bresidents?\s+of\s+(?:the\s+)?(?P<area>{_AREA_LIST})"),
    re.compile(rf"(?P<area>{_AREA_LIST})(?=\s+(?:residents?|residency|citizens?|veterans?|seniors?|families|households?|"
               r"homeowners?|tenants?|renters?|youth|adults?|children|women|men)\b)"),
    re.compile(rf"\b(?:in|at)\s+an?\s+(?P<area>{_AREA})\s+shelters?\b"),
    re.compile(rf"\banyone\s+(?:living\s+|who\s+lives\s+)?in\s+(?:the\s+)?(?P<area>{_AREA_LIST})"),
]
_RESIDENCY_HINT = re.compile(
    r"county|city|baltimore|maryland|d\.\s?c|\bdc\b|columbia|virginia|pennsylvania|delaware|zip|resid|\bliv")
_ZIP_RESIDENCY = re.compile(
    r"\b(?:residents?\s+(?:of|in)|live\s+in|lives\s+in|living\s+in|reside\s+in|residing\s+in)\s+(?:the\s+)?"
    r"zip\s*(?:codes?)?\s*:?\s*(?P<zips>\d{5}(?:\s*(?:,|and|or|&)\s*\d{5})*)")
# Other named places, found in the listing's own capitalisation ("resident of Hampden").
_NAMED_PLACE = re.compile(
    r"\b(?:[Rr]esidents?\s+of|[Rr]esiding\s+in|[Ll]iv(?:e|es|ing)\s+in)\s+(?:the\s+)?"
    r"(?P<area>[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})")
_NOT_A_PLACE = re.compile(
    r"\b(?:housing|public|programs?|schools?|courts?|center|centre|shelters?|department|hospital|office|area|catchment|"
    r"target|community|house|homes?|apartments?|buildings?|facility|facilities|system|county|city|state)\b", re.I)

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
_DISABILITY_BAD_BEFORE = re.compile(
    r"(?:regardless\s+of|without|\bno|\bnot|non-?|on|about|regarding|information|"
    r"(?:affected|interested)(?:\s+or\s+(?:affected|interested))?\s+(?:by|in))\s+$")
_DISABILITY_BAD_AFTER = re.compile(r"^\s*(?:services|resources|information|awareness|rights|advocacy|issues)\b")
_HIV = re.compile(r"\bhiv(?:\s*/\s*aids|\s+(?:or|and|&)\s+aids)?(?:\s*(?:\+|-?\s*positive\b|-?\s*infected\b))?|\baids\b")
_HIV_BAD_BEFORE = re.compile(
    r"(?:affected\s+by|at\s+risk\s+(?:of|for)|risk\s+(?:of|for)|about|on|regarding|prevention|testing|test|tested|"
    r"screenings?|education|awareness|information|for)\s+(?:\w+\s+)?$")
_HIV_BAD_AFTER = re.compile(
    r"^\s*(?:/\s*std|(?:testing|tests?|prevention|screenings?|education|awareness|information|services|programs?|"
    r"outreach|counseling)\b)")
_HOMELESS = re.compile(
    r"\bhomeless(?:ness)?\b|\bwithout\s+(?:a\s+)?(?:permanent|stable|fixed|regular)\s+(?:housing|home|residence|address)\b|"
    r"\bno\s+(?:permanent|fixed|stable)\s+(?:housing|home|address|residence)\b|\bunhoused\b|\bunsheltered\b|"
    r"\bliving\s+on\s+the\s+streets?\b")
_HOMELESS_BAD_BEFORE = re.compile(
    r"(?:risk\s+of|danger\s+of|prevent(?:ing)?|help\s+the|\bno|\bnot|formerly|facing|becoming|avoid)\s+(?:becoming\s+)?$")
_HOMELESS_AT_RISK = re.compile(r"\b(?:at\s+risk|in\s+danger|risk)\s+of\s+(?:becoming\s+)?homeless")
_PREGNANT = re.compile(r"\bpregnan(?:t|cy)\b|\bexpect(?:ing|ant)\b(?!\s+(?:parents?|families|fathers?|couples?|to\b))")
_PREGNANT_BAD_AFTER = re.compile(r"^\s*(?:prevention|tests?|testing|options)\b")
_FEMALE_STATUS = re.compile(r"\bbreast[\s-]?feeding\b|\bpost[\s-]?partum\b|\blactating\b")
_VETERAN = re.compile(r"\bveterans?\b(?!\s+(?:affairs|administration|services|organizations?))")
_STUDENT = re.compile(
    r"\b(?:high\s+school|hs|college)\s+(?:seniors|juniors|freshmen|sophomores)\b|\bstudents?\b(?!\s+(?:attendance|loans?|aid|housing|teachers?|services|council))|"
    r"\benrolled\s+(?:as\s+a\s+student\s+)?(?:in|at)\s+(?:[\w.-]+\s+){0,5}?(?:schools?|college|university|classes|"
    r"head\s+start)\b|\battending\s+(?:[\w.-]+\s+){0,5}?(?:schools?|college|university)\b")
_STUDENT_BAD_BEFORE = re.compile(r"(?:\bnot|n't|never|\bno)\s+(?:\w+\s+)?$")
_CAREGIVER = re.compile(
    r"\b(?:family\s+|kinship\s+|informal\s+|unpaid\s+)?care\s*-?\s*givers?\b|\bcaretakers?\b|"
    r"\bgrandparents\s+raising\b|\braising\s+(?:their\s+)?grandchildren\b")
_CAREGIVER_BAD_BEFORE = re.compile(r"(?:\bby|\bof|\bto|\bfor|\btheir|\bwith|\bhis|\bher)\s+(?:\w+\s+)?$")

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
    (re.compile(r"\byouths?\b|\bteens?\b|\bteenagers?\b|\badolescents?\b|\badolescent\b|\bjuveniles?\b|\bpre-?teens?\b|"
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

_DEPENDENT_ZONE = re.compile(
    r"\bwhose\s+(?:\w+\s*/\s*)?(?:spouses?|partners?|husbands?|wives|wife|parents?|child|children|famil(?:y|ies)|"
    r"caregivers?|relatives?)\b|"
    r"\b(?:with|of|their|his|her|has|have|had|raising|lost|custody\s+of|whose|for|against)\s+(?:(?:a|an|the|one|or|more|young|"
    r"minor|own|dependent|school[\s-]?aged?|small|their|newborn|unborn|infant)\s+){0,3}(?:children|child|kids?|infants?|"
    r"babies|baby|newborns?|grandchildren|toddlers?|sons?|daughters?|youth|teens?|minors?)\b")
_RELATION_ZONE = re.compile(
    r"\b(?:care\s*-?\s*givers?|caretakers?|family\s+members?|friends?|relatives?|parents?|spouses?|guardians?|mothers?|"
    r"fathers?|loved\s+ones|survivors?)\s+(?:of|to|for|with)\b|\b(?:famil(?:y|ies)|households?)\s+(?:of|to|for)\b")
_POSSESSIVE = re.compile(r"\b(?:their|his|her|its|your)\s+(?:\w+\s+)?$")

_QUALIFIER_START = re.compile(
    r"^(?:who|whose|that|which|with|without|in|living|residing|receiving|having|has|have|ages?|aged|between|from|"
    r"currently|diagnosed|recovering|suffering|attending|enrolled|needing|seeking|experiencing|affected|over|under|"
    r"up|must|should|need|needs|requires?|required|able|unable|at|on|of|for|whom|being|not|cannot|can't|are|is|were|"
    r"was|do|does|did|may|age|whether|where|if|to|by|as|within|through|until|showing|show|also)\b|^\d")
_SEGMENT_SEP = re.compile(
    r"(?:\s*(?:;|,|&|\band/or\b|\band\b|\bor\b|\bas\s+well\s+as\b|\bplus\b|\balong\s+with\b)\s*)+")
# "or"/"and" that do not join groups of people
_NO_SPLIT = re.compile(
    r"\bat\s+or\s+(?:below|above|under|over)\b|\bor\s+(?:less|more|older|younger|over|under|above|below)\b|"
    r"\bone\s+or\s+more\b|\bhe\s+or\s+she\b|\bhis\s+or\s+her\b|\bhim\s+or\s+her\b|\bmore\s+or\s+less\b")
_INCLUDING = re.compile(r"\b(?:including|includes|include|such\s+as|e\.g\b\.?|especially|i\.e\b\.?)")
_SKIP_SENTENCE = re.compile(
    r"^\W*(?:primarily|priority|preference|preferred|prefers?|geared|focus(?:es)?|targets?|targeted|typically|mostly|generally|"
    r"usually|especially|emphasis|accepts?|also\s+accepts?|works\s+mostly|may)\b|"
    r"\b(?:top\s+priority|priority\s+(?:is\s+)?given|(?:is|are)\s+preferred|preferred\b|geared\s+toward|"
    r"targeted\s+(?:to|at|toward)|aimed\s+at|focus(?:es)?\s+(?:is\s+)?on|"
    r"some\s+(?:services|programs|sites|groups|classes)|certain\s+(?:services|programs)|if\b|accompanied\s+by|"
    r"may\s+(?:apply|be\s+(?:needed|required|requested|asked)|need|require))")
_PARENTHESES = re.compile(r"\([^()]*\)")
_PURPOSE = re.compile(r"\bto\s+(?:receive|become|be\s+an?|adopt|join|access|use|participate|attend|enroll|volunteer)\b")
# "Children 3 to 18 must attend with a parent", "Men must have children": a rule for part of the people
_SUBGROUP_RULE = re.compile(
    r"^\W*(?:[\w-]+\s+){0,2}?(?:men|women|males?|females?|boys?|girls?|children|child|kids?|youths?|teens?|"
    r"teenagers?|adolescents?|minors?|infants?|guests?)\b.*\bmust\b")
# sentences about the people who help, not the people served
_HELPERS = re.compile(r"^\W*(?:mentors?|volunteers?|staff|tutors?|interns?)\b")
_NEGATION_SENTENCE = re.compile(
    r"^\W*(?:no|not|non|except|excluding|does\s+not|do\s+not|cannot|can't|none\s+of)\b")
_REQUIREMENT = re.compile(
    r"\b(?:must|required|requires?|requirements?|only|need\s+to|needs\s+to|have\s+to|has\s+to|shall|mandatory)\b")
_ALSO = re.compile(r"\balso\s+(?:serves?|open\s+to|available\s+to|accepts?|offers?)\b|\bavailable\s+(?:to|for)\b")
_NO_RULES_TEXT = re.compile(
    r"^\W*(?:none|n/?a|no\s+restrictions?|no\s+requirements?|no\s+eligibility\s+requirements?|no\s+limits?\s+on\s+eligibility|"
    r"open|everyone|anyone|all)\W*$")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "dept", "st", "no", "vs", "inc", "mr", "mrs", "ms", "dr", "jr", "sr", "approx",
                  "u.s", "d.c", "a.m", "p.m", "ave", "co", "ft", "mt"}


# ============================================================================ data of one reading


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


def extract_rules(text) -> list[Rule]:
    """Rules stated by a listing's eligibility text (see the module docstring for the conventions).

    Returns ``[]`` for empty/None/NaN text and for text that opens the service to anyone.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    text = str(text)
    if not text.strip():
        return []
    low = _lower_same_length(text)
    if _NO_RULES_TEXT.match(low):
        return []
    global_negs: set[str] = set()
    results, after_cut, subgroup, names_people = [], False, [], []
    for start, end in _sentences(low):
        results.append(_read_sentence(text, low, start, end, global_negs, after_cut))
        after_cut = bool(_INCLUDING.search(low[start:end]))
        subgroup.append(bool(_SUBGROUP_RULE.match(low[start:end])))
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


def _value_key(value):
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def _rule_value(value):
    return dict(value) if isinstance(value, dict) else value


# ============================================================================ one sentence


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


def _read_sentence(text: str, low: str, start: int, end: int, global_negs: set, after_cut: bool = False):
    """An OR-group of alternatives for one sentence, ``'open'`` when the sentence opens the service to
    anyone, or None when the sentence states no rule. Text after "including" is ignored."""
    s = low[start:end]
    if after_cut and s.lstrip().startswith("("):
        return None  # "Low income, including senior citizens. (60 & older.)": still the example
    cut = _INCLUDING.search(s)
    if cut:
        end = start + cut.start()
        s = low[start:end]
    bare = _PARENTHESES.sub(lambda m: " " * len(m.group()), s)  # "(18 if in school)" does not make it conditional
    if not s.strip() or _SKIP_SENTENCE.search(bare) or _HELPERS.match(s):
        return None
    mask = _Mask(start, end)
    mentions: list[_Mention] = []
    negs: list[_Mention] = []
    for pattern, kinds in (_NEGATIONS if _NEGATION_HINT.search(s) else ()):
        for m in pattern.finditer(s):
            a, b = start + m.start(), start + m.end()
            if mask.free(a, b):
                mask.add(a, b)
                negs.append(_Mention("_neg", kinds, a, b, a, b))
    if _NEGATION_SENTENCE.match(s):
        for n in negs:
            global_negs.update(n.value)
        return None
    # "men and women": both heads stay visible, neither gives a rule, and the pair is not a list split
    neutral = [(start + m.start(), start + m.end()) for m in _GENDER_PAIR.finditer(s)]
    mentions += _income_mentions(s, start, mask)
    mentions += _residency_mentions(text, s, start, mask)
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
    return _Sentence(alts=alts, requirement=bool(_REQUIREMENT.search(s)), also=bool(_ALSO.search(s)), kinds=kinds,
                     household_table=household_table, has_head=bool(heads), purpose=bool(_PURPOSE.search(s)))


# ---------------------------------------------------------------------------- mentions


def _income_mentions(s: str, off: int, mask: _Mask) -> list[_Mention]:
    out = []
    for m in _FPL.finditer(s):
        a, b = off + m.start(), off + m.end()
        if mask.free(a, b):
            mask.add(a, b)
            out.append(_Mention("income_limit", {"fpl_percent": _int_or_float(m.group("p"))}, a, b, a, b))
    for m in _AMI.finditer(s):
        a, b = off + m.start(), off + m.end()
        if mask.free(a, b):
            mask.add(a, b)
            out.append(_Mention("income_limit", {"ami_percent": _int_or_float(m.group("p"))}, a, b, a, b))
    if _INCOME_WORD.search(s) and _LIMIT_WORD.search(s):
        prev_end = 0
        for m in _AMOUNT.finditer(s):
            before_start, before = prev_end, s[prev_end:m.start()]
            prev_end = m.end()
            if re.search(r"\basset", before) or _AMOUNT_NOT_LIMIT.search(before):
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
    for pattern in (_QUAL_INCOME, _SLASH_NO_INCOME):
        for m in pattern.finditer(s):
            a, b = off + m.start(), off + m.end()
            if mask.free(a, b):
                mask.add(a, b)
                out.append(_Mention("income_limit", LOW_INCOME, a, b, a, b))
    return out


def _int_or_float(x) -> int | float:
    x = float(str(x).replace(",", ""))
    return int(x) if x.is_integer() else x


def _areas_in(list_text: str) -> tuple[str, ...]:
    if re.fullmatch(_CITY_AND_COUNTY, list_text.strip()):
        return ("baltimore city", "baltimore county")
    areas = []
    for m in _AREA_RE.finditer(list_text):
        area = normalise_area(m.group())
        if area not in areas:
            areas.append(area)
    return tuple(areas)


def _residency_mentions(text: str, s: str, off: int, mask: _Mask) -> list[_Mention]:
    out = []
    if not _RESIDENCY_HINT.search(s):
        return out
    for m in _ZIP_RESIDENCY.finditer(s):
        a, b = off + m.start(), off + m.end()
        za, zb = off + m.start("zips"), off + m.end("zips")
        if mask.free(za, zb):
            mask.add(za, zb)
            zips = tuple(dict.fromkeys(re.findall(r"\d{5}", m.group("zips"))))
            out.append(_Mention("residency", zips, a, b, za, zb))
    for pattern in _RESIDENCY:
        for m in pattern.finditer(s):
            aa, ab = off + m.start("area"), off + m.end("area")
            if not mask.free(aa, ab):
                continue
            areas = _areas_in(m.group("area"))
            if not areas:
                continue
            mask.add(aa, ab)
            out.append(_Mention("residency", areas, off + m.start(), off + m.end(), aa, ab))
    original = text[off:off + len(s)]
    for m in _NAMED_PLACE.finditer(original):
        name = m.group("area")
        aa, ab = off + m.start("area"), off + m.end("area")
        if _NOT_A_PLACE.search(name) or not mask.free(aa, ab):
            continue
        mask.add(aa, ab)
        out.append(_Mention("residency", (normalise_area(name),), off + m.start(), off + m.end(), aa, ab))
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
        return bool(_AGE_CONTEXT_HEAD.search(s[max(0, pos - 40):pos]))

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
                    not g["ua"] and is_person and _OVER_FOLLOW_OK.match(s[m.end():]))
                if not ok:
                    continue
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a <= 120:
                    add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "over":
                if g["ua"] and not _is_year_unit(g["ua"]) and not g["old"]:
                    continue
                if not g["age"] and not g["ua"] and not _OVER_FOLLOW_OK.match(s[m.end():]):
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
                    g["w"] in ("under", "younger than") and not g["ub"] and _OVER_FOLLOW_OK.match(s[m.end():]))
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
                if _BARE_AGE_BAD_BEFORE.search(s[max(0, m.start() - 30):m.start()]):
                    continue
                a = _unit_years(_num_value(g["a"]), g["ua"])
                if a <= 120:
                    add(m, "min_age", math.floor(a) if a >= 1 else None)
            elif name == "bare_unit":
                if _BARE_UNIT_BAD_BEFORE.search(s[max(0, m.start() - 30):m.start()]):
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

    scan(_HIV, "hiv", bad_before=_HIV_BAD_BEFORE, bad_after=_HIV_BAD_AFTER, check=hiv_ok)
    scan(_DISABILITY, "disability", bad_before=_DISABILITY_BAD_BEFORE, bad_after=_DISABILITY_BAD_AFTER)
    if not _HOMELESS_AT_RISK.search(s):
        # "homeless or at risk of homelessness" serves people with a home too: no homeless rule.
        scan(_HOMELESS, "homeless", bad_before=_HOMELESS_BAD_BEFORE)
    scan(_PREGNANT, "pregnant", bad_before=re.compile(r"(?:\bnot|prevent\w*|teen)\s+$"), bad_after=_PREGNANT_BAD_AFTER)
    scan(_FEMALE_STATUS, "gender", value="female")
    scan(_VETERAN, "veteran", noun=True)

    def student_ok(m):
        return not re.search(r"\battended\b", m.group())

    scan(_STUDENT, "student", bad_before=_STUDENT_BAD_BEFORE, check=student_ok, noun=True)
    scan(_CAREGIVER, "caregiver", bad_before=_CAREGIVER_BAD_BEFORE, noun=True)
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
    flat = _NO_SPLIT.sub(lambda m: "x" * len(m.group()), "".join(chars))
    segments, pos, coord = [], 0, ""
    for m in _SEGMENT_SEP.finditer(flat):
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
        for pattern in (_DEPENDENT_ZONE, _RELATION_ZONE):
            for m in pattern.finditer(text):
                if pattern is _RELATION_ZONE:
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
    if _QUALIFIER_START.match(text):
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
            if head.cls == _HOUSEHOLD or _POSSESSIVE.search(before) or (
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
