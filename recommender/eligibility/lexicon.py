"""The lexicon of eligibility text: number words, age units and patterns, income, negation, status
and person-noun patterns, list separators and sentence cues. Data only (compiled regexes and word
lists); ``mentions`` scans with them, ``clauses`` groups, ``extract`` reads a listing. Place names come
from the catalogue's gazetteer (``places``), not from here."""
from __future__ import annotations

import re

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
    r"\bexceptions?\s+(?:can|may|will|are)\b|some\s+(?:services|programs|sites|groups|classes)|certain\s+(?:services|programs)|if\b|accompanied\s+by|"
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


# Listing-wide conditions (they hold for every alternative of the listing).
# In recovery: "in recovery", "currently in or have completed treatment for substance abuse".
IN_RECOVERY = re.compile(
    r"\bin\s+recovery\b|\brecovering\s+(?:addicts?|alcoholics?|from\s+(?:substance|drug|alcohol|addiction))|"
    r"\b(?:currently\s+in|in|completed|complete|completing|have\s+completed|has\s+completed|enrolled\s+in)\s+"
    r"(?:or\s+(?:have\s+|has\s+)?completed\s+)?(?:a\s+)?(?:substance\s+abuse\s+|drug\s+|alcohol\s+|addiction\s+|"
    r"substance\s+use\s+)?treatment\s+(?:program\s+)?for\s+(?:substance|drug|alcohol|chemical|addiction)|"
    r"\bclean\s+and\s+sober\b|\bmust\s+be\s+sober\b")
# Referral required: "referral required", "by referral only", "must be referred by".
REFERRAL = re.compile(
    r"\breferrals?\s+(?:is\s+|are\s+)?(?:required|needed|necessary|only)\b|\bby\s+referral(?:\s+only)?\b|"
    r"\bmust\s+(?:be|have\s+been)\s+referred\b|\brequires?\s+(?:a\s+)?referral\b|\bmust\s+have\s+(?:a\s+)?referral\b|"
    r"\breferred\s+by\s+(?:a|an|the|their)\s+(?:\w+\s+){0,3}(?:agency|worker|case\s*manager|physician|doctor|court)")
# "Cannot serve" exclusions: "(cannot help the homeless)", "does not serve veterans".
EXCLUSION = re.compile(
    r"\b(?:cannot|can't|can\s+not|unable\s+to|does\s+not|do\s+not|will\s+not|won't|not\s+able\s+to)\s+"
    r"(?:help|serve|accept|assist|house|admit|take)\s+(?:the\s+|any\s+)?(?P<who>homeless(?:\s+(?:persons?|people|"
    r"individuals|clients|families))?|veterans?|pregnant\s+women|students?|(?:persons?|people|individuals)\s+with\s+"
    r"disabilities|disabled\s+(?:persons?|people|individuals))"
    r"|\bno\s+homeless\b|\bnot\s+for\s+(?:the\s+)?homeless\b")
