"""Map what a resident says ("can't pay rent this month") to terms of the need/service taxonomy.

A caseworker types the resident's words; ``NeedMatcher.match`` answers with the closest taxonomy
terms, best first, or nothing when no term is close (a wrong guess would send the resident to the
wrong door, an empty answer makes the caseworker pick by hand).

How it works, and why:

* Every term is indexed by its own name and by the names of its ancestors (its path): "Help Pay for
  Utilities" under "Housing > Help Pay for Housing" is found by "housing" words too, but its own name
  weighs more (``name_weight``), so a parent outranks its children on the parent's own words.
* Residents rarely use the taxonomy's words ("evicted" vs "Help Pay for Housing"). A small built-in
  lexicon maps everyday phrasings (English, and some Spanish) to generic concept words that taxonomies
  use in term names ("rent" -> housing, rent, pay). The lexicon only expands the query text; it names
  no codes, so the same matcher works on the generator's taxonomy, an imported 211 taxonomy, or any
  other whose names are English.
* The lexicon's words also reach derived forms found in the fitted term names ("rent" -> "Rental
  Assistance", "pay" -> "Utility Payment"); the resident's raw words do not ("place" is not
  "Placement").
* Query and terms are compared by TF-IDF cosine, word unigrams/bigrams blended with char_wb n-grams
  (``char_weight``) so that inflections and small typos ("dentl care") still rank the right term
  first. The char part alone cannot reach the default ``min_score``: a lone unknown word is no
  answer, by design.
* A term is returned only when its score reaches ``min_score``; ties are broken by code so the
  answer is deterministic.

Persistence: ``to_json``/``from_json`` store the fitted state as plain JSON (term documents,
vocabularies and idf weights as lists); ``from_json`` rebuilds the vectorizers from them, no pickle.
``fit`` is also cheap (tens of milliseconds on a 517-term taxonomy), so refitting at load time from
the model's ``taxonomy.csv`` is an equally valid choice.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .taxonomy import Taxonomy

JSON_FORMAT = "servicematch.need-matcher/1"


@dataclass(frozen=True)
class NeedMatch:
    code: str
    name: str
    #: readable path from the root, e.g. ``Housing > Help Pay for Housing``
    path: str
    #: cosine similarity in [0, 1]; comparable within one matcher only
    score: float


# -- text normalisation --------------------------------------------------------------------------

# Words that carry no need: fillers of how people ask ("I need help with ...") and of how taxonomies
# name terms ("Help Pay for ..."). Removing them on both sides keeps "help" from matching every
# "Help ..." term. sklearn's English list is not used: it drops "bill", "fire", "find", "home".
_STOP = frozenset("""
a about after again all also am an and any anything are as at be because been being but by can
cannot cant could did didnt do does doesnt dont for from get gets getting got had has have havent he
her here hers him his how i id im ill ive if in into is isnt it its just me might more most much must
my myself no not now of off on or our out over please really she should so some someone something
somewhere still than that the their them then there these they this those to too us very was wasnt
we were what when where which while who why will with wont would you your yours anyone anybody
need needs needed want wants wanted help helps helping assistance assist looking look trying try
know like able today tonight week month year day days months years thing things stuff way
el la los las un una de del y o en que por para con mi mis me yo tengo tiene necesito necesita
quiero busco ayuda no es al lo se su sus
""".split())

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower-case, strip accents, drop apostrophes ("can't" -> "cant"), other punctuation -> space."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("'", "").replace("\u2019", "")
    return _NON_ALNUM.sub(" ", text).strip()


def _stem(word: str) -> str:
    """Fold plurals so "bills"/"bill" and "utilities"/"utility" are one word; applied to both sides."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in _fold(text).split()]


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in _STOP and not t.isdigit()]


# -- lexicon -------------------------------------------------------------------------------------

# (trigger phrases, concept words). A trigger is matched on whole words of the folded, plural-folded
# text; a trailing ``*`` matches any word starting so ("evict*": evict, evicted, eviction). Concept
# words are the generic vocabulary taxonomies use in term names, several synonyms each, so whatever
# the taxonomy calls the concept, one of them is likely in its names. No codes here, on purpose.
_LEXICON: tuple[tuple[tuple[str, ...], str], ...] = (
    # -- housing
    (("rent*", "landlord", "behind on rent", "late on rent", "lease", "renta", "alquiler"),
     "housing rent"),
    # an eviction is a court process as much as a debt: both doors are right
    (("evict*", "desalojo"), "housing rent legal eviction"),
    (("mortgage*", "foreclos*", "lose our house", "lose our home", "lose my house", "lose my home",
      "losing our house", "losing our home", "losing my house", "losing my home", "hipoteca"),
     "housing foreclosure mortgage counseling pay"),
    (("deposit", "tenant*", "inquilino"), "housing legal rent"),
    (("homeless*", "nowhere to sleep", "nowhere to stay", "nowhere to go", "place to stay",
      "place to sleep", "sleeping in", "sleep in my car", "on the street", "on the streets",
      "kicked out", "got evicted", "no home", "shelter*", "couch surfing", "motel", "staying with friends",
      "staying with family", "want us out", "doubled up", "refugio", "sin hogar",
      "en la calle"), "shelter emergency homeless housing temporary"),
    (("place to live", "apartment*", "find housing", "housing", "house", "home", "somewhere to live",
      "move out", "moving", "vivienda", "apartamento", "casa"), "housing"),
    (("roof", "leak*", "repair*", "broken", "fix", "mold*", "plumbing", "ceiling", "furnace", "toilet",
      "sink", "pipes", "no hot water", "reparacion*"), "repair maintenance home"),
    (("sober house", "sober living", "recovery house", "halfway house"), "sober living recovery housing"),
    (("drafty", "draft*", "insulation", "freezing", "cold house", "cold in the house", "windows"),
     "weatherization utility heat home weather"),
    (("fire", "burned", "burnt", "flood*", "storm", "hurricane", "tornado", "disaster*",
      "incendio"), "disaster response emergency relief"),
    (("heat wave", "too hot", "air condition*", "cooling", "fan", "fans"), "weather relief fan"),
    (("nursing home", "assisted living", "group home"), "nursing home assisted living residential"),
    # -- food
    (("food", "hungry", "hunger", "eat", "eating", "starving", "grocery", "groceries", "meal*",
      "nothing to eat", "food bank", "fridge is empty", "empty fridge", "nothing in the fridge",
      "cupboards are empty", "comida", "hambre", "comer", "alimento*"), "food meal pantry"),
    (("food stamp*", "snap", "ebt", "wic", "cupones"), "food benefit snap"),
    (("hot meal", "soup kitchen", "lunch", "dinner", "breakfast"), "meal free food"),
    (("nutrition*", "diet", "eat healthy", "eating healthy"), "nutrition education"),
    (("garden*",), "community garden"),
    # -- utilities and bills
    (("heat", "heater", "heating", "electric*", "power", "utility", "utilities", "shut off",
      "shutoff", "cut off", "turned off", "turn off", "disconnect*", "water bill", "water",
      "gas bill", "gas and electric", "light bill", "lights", "luz", "electricidad", "agua",
      "calefaccion"), "utility bill pay"),
    (("phone", "cell", "internet", "wifi", "telefono"), "phone internet"),
    (("computer*", "laptop", "online", "email", "computadora"), "computer internet access class"),
    # -- work and money
    (("job*", "work", "working", "employ*", "hire*", "hiring", "career", "paycheck", "trabajo",
      "empleo", "trabajar"), "employment work job"),
    (("lost my job", "laid off", "fired", "unemploy*", "no job", "out of work", "jobless",
      "desempleado"), "unemployment unemployed benefit employment work job"),
    (("trade", "training", "skill*", "certificat*", "apprentice*", "learn to", "capacitacion"),
     "training skill job"),
    (("resume", "cv"), "resume development"),
    (("interview*",), "interview training"),
    (("overtime", "wage*", "paying me", "boss", "employer", "workplace", "harass*"),
     "workplace right employment legal"),
    (("money", "cash", "im broke", "am broke", "flat broke", "afford", "cant pay", "pay my",
      "help paying", "bills", "dinero"), "financial pay money"),
    (("cheap", "low cost", "free", "affordable", "sliding scale", "discount*", "gratis"),
     "discounted free"),
    (("tax", "taxes", "irs", "impuesto*"), "tax preparation"),
    (("credit", "debt*", "budget*", "loan*", "saving*", "deuda*"), "credit financial counseling"),
    (("ssi", "ssdi", "social security", "benefits", "welfare", "tanf", "government", "beneficio*"),
     "benefit government program"),
    (("retire*", "pension"), "retirement benefit"),
    (("forms", "form", "paperwork", "application", "apply for", "sign up", "fill out", "filling out"),
     "form fill understand program"),
    # -- children and family
    (("daycare", "day care", "child care", "childcare", "babysit*", "watch my baby",
      "watch my", "someone to watch", "toddler", "preschool", "guarderia",
      "cuidado de ninos"), "childcare daycare child"),
    (("after school", "afterschool", "despues de la escuela"), "afterschool after school program"),
    (("summer camp", "camp"), "camp day recreation"),
    (("baby", "babies", "infant*", "newborn", "bebe"), "baby infant"),
    (("diaper*", "formula", "breast pump", "pump", "panales"), "diaper formula baby supply"),
    (("crib", "car seat", "stroller", "bassinet", "cuna"), "baby supply furniture"),
    (("pregnan*", "expecting a baby", "prenatal", "embarazada"), "pregnancy maternity prenatal care"),
    (("birth control", "condom*", "contracepti*", "plan b", "family planning"),
     "birth control family planning"),
    (("parenting", "my teenager", "my teen", "discipline", "parent class", "parenting class"),
     "parenting education"),
    (("foster*", "adopt*"), "adoption foster care"),
    (("guardian*", "custody"), "guardianship legal"),
    (("runaway", "ran away", "missing"), "missing person runaway"),
    (("mentor*", "role model", "big brother", "big sister"), "mentoring"),
    # read before "mom"/"dad" alone, which mostly mean an ageing parent in a caseworker's notes
    (("single mom", "single mother", "single dad", "single father", "single parent"),
     "single parent family"),
    # -- older people and care at home
    (("mother", "father", "mom", "dad", "grandma", "grandmother", "grandpa", "grandfather",
      "elderly", "senior*", "aging", "old age", "dementia", "alzheimer*", "madre", "padre",
      "abuela", "abuelo", "ancian*"), "senior elder eldercare aging"),
    (("at home", "home care", "in home", "homecare", "caregiver*", "take care of her",
      "take care of him", "look after", "bathing", "bathe", "bath", "shower", "falling", "falls",
      "dress himself", "dress herself", "en casa"), "home care in-home support"),
    (("alone all day", "alone during the day", "sits alone", "lonely", "day program", "adult day"),
     "day center senior adult daycare"),
    (("respite", "need a break", "burned out", "caregiver stress"), "relief caregiver respite"),
    # -- health
    (("doctor*", "sick", "clinic*", "checkup", "check up", "physical", "medical", "hospital",
      "nurse", "illness", "medico", "enfermo", "salud"),
     "health healthcare medical care clinic primary"),
    (("depress*", "anxi*", "stress*", "mental", "crying", "panic", "therap*", "counsel*",
      "psychiatr*", "ptsd", "trauma*", "bipolar", "schizo*", "hearing voices", "deprimid*",
      "ansiedad"), "mental health counseling"),
    (("suicid*", "kill myself", "killing myself", "kill himself", "kill herself", "end my life",
      "hurt myself", "hurt himself", "hurt herself", "hurting myself", "hurting himself",
      "hurting herself", "harm myself", "self harm", "crisis"),
     "crisis psychiatric emergency hotline mental"),
    (("hotline", "someone to talk to", "talk to someone"), "hotline support counseling"),
    (("support group*", "people like me", "peer*"), "support group peer"),
    (("grief", "griev*", "mourning", "passed away", "died", "death"), "bereavement grief support"),
    (("funeral*", "burial", "bury", "cremat*"), "funeral burial"),
    (("hospice", "dying", "terminal*", "end of life"), "hospice end life terminal"),
    (("chronic pain", "in pain", "back pain", "pain management", "pain pills"), "pain management"),
    (("tooth", "teeth", "dentist*", "dental", "toothache", "dentures", "dentista", "muela*"),
     "dental"),
    (("glasses", "eye*", "vision", "see well", "contacts", "lentes"), "vision eye"),
    (("hearing aid*", "hear", "hearing"), "hearing assistive technology impairment"),
    # a sensory loss is a disability as well as a health matter: the concept carries both
    (("blind", "low vision", "ciego"), "vision visual impairment disability"),
    (("deaf", "hard of hearing", "sordo"), "hearing impairment disability"),
    (("medication*", "medicine*", "prescription*", "meds", "pills", "pharmacy", "insulin",
      "medicina*"), "prescription medication health"),
    (("insurance", "insured", "uninsured", "medicaid", "medicare", "coverage", "seguro"),
     "health insurance"),
    (("shot", "shots", "vaccin*", "immuniz*", "flu shot", "vacuna*"), "vaccination"),
    (("hiv", "aids", "std", "sti", "get tested", "tested"), "hiv screening test disease"),
    (("cancer", "chemo*", "tumor"), "cancer health"),
    (("diabet*", "sugar", "blood pressure", "asthma", "chronic"), "disease management chronic health"),
    (("dialysis", "kidney"), "health medical treatment"),
    (("gym", "exercise", "fitness", "lose weight"), "exercise fitness"),
    (("drink*", "alcohol*", "sober", "beer", "drunk"), "alcohol substance use disorder treatment"),
    (("drug*", "addict*", "opioid*", "heroin", "pills", "fentanyl", "rehab", "detox", "hooked",
      "withdrawal", "overdose", "cocaine", "crack", "drogas"),
     "substance use disorder opioid treatment withdrawal"),
    (("smok*", "cigarette*", "tobacco", "vap*", "nicotine"), "nicotine tobacco smoking"),
    (("disab*", "handicap*", "autis*", "special needs", "discapacidad"), "disability support"),
    (("wheelchair", "walker", "cane", "hospital bed", "oxygen", "crutches", "scooter"),
     "disability medical equipment supply assistive"),
    (("physical therapy", "rehab after", "after surgery"), "physical therapy"),
    # -- safety and the law
    (("domestic violence", "abus*", "hits me", "hit me", "beats me", "beat me", "hurts me",
      "violent", "violence", "scared of my", "afraid of my", "unsafe", "not safe", "threaten*",
      "stalk*", "violencia", "me pega", "maltrato"), "violence escape safety domestic survivor"),
    (("rape*", "raped", "sexual assault", "sexually", "molest*", "assaulted"),
     "sexual assault survivor violence safety"),
    (("traffick*", "forced to work"), "human trafficking survivor"),
    (("neglect*", "child abuse"), "abuse neglect survivor"),
    (("lawyer*", "attorney*", "court", "legal", "sued", "sue", "suing", "judge", "filed papers",
      "served papers", "summons", "abogado", "corte"),
     "legal lawyer aid"),
    (("jail", "prison", "incarcerat*", "probation", "parole", "felony", "record", "convict*",
      "released", "locked up", "carcel"), "offender ex-offender jail criminal"),
    (("immigra*", "green card", "visa", "citizenship", "citizen", "deport*", "asylum", "papers",
      "undocumented", "refugee*", "immigration papers", "inmigracion", "ciudadania"),
     "immigration citizenship legal immigrant"),
    # not a bare "id": folding apostrophes turns "I'd" into "id"
    (("my id", "state id", "photo id", "id card", "lost id", "birth certificate", "identification",
      "social security card", "license",
      "identificacion"), "identification recovery document"),
    (("discriminat*", "civil rights", "racis*", "treated unfairly"), "discrimination civil right"),
    (("dispute", "neighbor*", "mediat*"), "mediation"),
    (("notar*",), "notary"),
    (("translat*", "interpret*", "dont speak english", "speak spanish", "traductor"),
     "translation interpretation"),
    (("veteran*", "military", "army", "navy", "marines", "air force", "served", "veterano*"),
     "veteran armed force"),
    (("gay", "lesbian", "transgender", "trans", "queer", "lgbt*", "nonbinary", "non binary"),
     "lgbtq transgender"),
    # -- learning
    (("english", "esl", "ingles"), "english language esl class second"),
    (("ged", "diploma", "high school", "finish school", "finished school", "dropped out"),
     "ged high school equivalency adult education"),
    (("school", "class", "classes", "college", "escuela", "clases"), "education school"),
    (("tuition", "fafsa", "scholarship*", "student loan*"), "financial aid school college loan"),
    (("school supplies", "backpack*", "uniform*", "school clothes"), "school supply clothes"),
    (("tutor*", "homework", "failing", "grades"), "tutoring"),
    (("iep", "special ed", "special education", "learning disabilit*"),
     "special education learning disability"),
    (("read", "reading", "write", "literacy", "cant read", "leer"), "literacy reading basic"),
    # -- getting around
    (("ride*", "transport*", "car", "appointment*", "no way to get", "get to", "getting to",
      "take me to", "drive me", "getting around", "get around", "transporte", "bus", "train"),
     "transportation ride transit"),
    (("fare*", "bus pass", "metro card", "bus ticket", "transit pass", "pasaje"),
     "fare bus pass transit"),
    (("gas for my car", "gas money", "gasoline", "money for gas", "gas for the car"),
     "gas fuel transit pay"),
    (("car repair", "car broke down", "fix my car", "car payment", "car insurance"),
     "car transit pay repair"),
    # -- goods
    (("clothes", "clothing", "coat*", "shoe*", "jacket", "ropa"), "clothing clothes"),
    (("furniture", "bed", "couch", "table", "mattress", "muebles", "cama"), "furniture home goods"),
    (("fridge", "refrigerator", "stove", "washer", "dryer", "appliance*"), "appliance home goods"),
    (("blanket*", "cold at night"), "blanket"),
    (("toiletries", "soap", "shampoo", "hygiene", "tampons", "pads", "toothpaste"),
     "personal care item"),
    (("toy*", "christmas", "gift*", "presents", "juguetes"), "toy gift"),
    (("book*", "libro*"), "book"),
    (("dog", "cat", "pet", "pets", "vet", "mascota*"), "animal welfare pet"),
    (("church", "pray*", "pastor", "spiritual", "faith", "iglesia"), "spiritual support"),
    (("fuel oil", "propane", "firewood", "kerosene"), "home fuel heat"),
)


def _compile_lexicon() -> tuple[tuple[tuple[str, ...], bool, int], ...]:
    """Triggers as (words, last word is a prefix, concept index), longest first.

    Longest first because a phrase is read whole before its parts: "after school" is the after-school
    concept, and its "school" must not also fire the generic school one.
    """
    compiled = []
    for index, (triggers, _) in enumerate(_LEXICON):
        for trig in triggers:
            prefix = trig.endswith("*")
            if prefix:  # leading words fold like the text's; the last stays a raw prefix
                *lead, last = _fold(trig[:-1]).split()
                words = [_stem(w) for w in lead] + [last]
            else:
                words = _tokens(trig)
            compiled.append((tuple(words), prefix, index))
    compiled.sort(key=lambda t: (-len(t[0]), -sum(map(len, t[0])), t[2]))
    return tuple(compiled)


_TRIGGERS = _compile_lexicon()
_CONCEPTS = tuple(_content(_tokens(concepts)) for _, concepts in _LEXICON)
# lookup tables so a query costs a few dict probes per word, not a scan of every trigger:
# exact first word -> trigger ranks; and (prefix length -> prefix -> ranks) for a prefix first word
_BY_FIRST: dict[str, list[int]] = {}
_BY_PREFIX: dict[int, dict[str, list[int]]] = {}
for _rank, (_words, _prefix, _) in enumerate(_TRIGGERS):
    if _prefix and len(_words) == 1:
        _BY_PREFIX.setdefault(len(_words[0]), {}).setdefault(_words[0], []).append(_rank)
    else:
        _BY_FIRST.setdefault(_words[0], []).append(_rank)


def _concepts_of(words: list[str]) -> list[int]:
    """Indices of the lexicon concepts that ``words`` trigger; each word feeds one phrase at most."""
    found: list[tuple[int, int]] = []  # (trigger rank, start): rank order is longest first
    for start, word in enumerate(words):
        ranks = list(_BY_FIRST.get(word, ()))
        for length, table in _BY_PREFIX.items():
            if len(word) >= length:
                ranks.extend(table.get(word[:length], ()))
        for rank in ranks:
            trig, prefix, _ = _TRIGGERS[rank]
            n = len(trig)
            span = words[start:start + n]
            if len(span) < n or (n > 1 and span[1:-1] != list(trig[1:-1])):
                continue
            if n > 1 and not (span[-1] == trig[-1] or (prefix and span[-1].startswith(trig[-1]))):
                continue
            found.append((rank, start))
    used = [False] * len(words)
    fired: set[int] = set()
    for rank, start in sorted(found):
        n = len(_TRIGGERS[rank][0])
        if not any(used[start:start + n]):
            used[start:start + n] = [True] * n
            fired.add(_TRIGGERS[rank][2])
    return sorted(fired)


def _query_words(text: str) -> tuple[list[str], list[str]]:
    """(the text's own content words, the concept words its phrasings trigger), each list deduplicated."""
    words = _tokens(text)
    own = list(dict.fromkeys(_content(words)))
    concepts = list(dict.fromkeys(c for i in _concepts_of(words) for c in _CONCEPTS[i]))
    return own, concepts


def expand(text: str) -> str:
    """The query document: the text's content words plus the concept words its phrasings trigger.

    Each distinct word once: a resident's "food" that the food concept repeats is still one word,
    so the terms matching the most different words of the need win, not the most repeated one.
    """
    own, concepts = _query_words(text)
    return " ".join(dict.fromkeys(own + concepts))


def _term_doc(text: str) -> str:
    return " ".join(_content(_tokens(text)))


# Derivational endings that join a resident's word to a taxonomy's without changing what is meant:
# "rent" / "Rental Assistance", "pay" / "Utility Payment". Not -er (rent -> "Home Renters" is who,
# not what) nor -ing (live -> "Assisted Living" is one kind of place, not any). Plurals: see _stem.
_SUFFIXES = ("al", "ment", "ation", "ance", "ence")
_MIN_BASE = 3


def _variants(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """word -> the indexed words it derives from or that derive from it, through one suffix."""
    vocab = {w for w in vocabulary if " " not in w}
    links: dict[str, set[str]] = {}
    for word in vocab:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_BASE:
                base = word[: -len(suffix)]
                for b in (base, base + "e"):  # "guidance" <- "guide"
                    links.setdefault(b, set()).add(word)
                    if b in vocab:
                        links.setdefault(word, set()).add(b)
    return {w: tuple(sorted(v - {w})) for w, v in links.items() if v - {w}}


# -- the matcher ---------------------------------------------------------------------------------

class NeedMatcher:
    """Nearest taxonomy terms of a free-text need (scikit-learn conventions: ``fit(taxonomy)``).

    Parameters
    ----------
    min_score : default threshold of ``match``; below it a term is not returned.
    name_weight : share of a term's own name in its vector (the rest is its ancestors' names).
    char_weight : share of the char_wb n-gram similarity in the score (the rest is word n-grams).
    char_ngrams : (min, max) length of char_wb n-grams.
    """

    def __init__(self, min_score: float = 0.3, name_weight: float = 0.75, char_weight: float = 0.3,
                 char_ngrams: tuple[int, int] = (3, 5)):
        self.min_score = min_score
        self.name_weight = name_weight
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams

    # vectorizers take our own normalised documents: no second lower-casing or token rules
    def _word_vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="word", lowercase=False, token_pattern=r"\S+",
                               ngram_range=(1, 2), sublinear_tf=True, vocabulary=vocabulary)

    def _char_vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=tuple(self.char_ngrams),
                               sublinear_tf=True, vocabulary=vocabulary)

    def _check_params(self) -> None:
        if not 0.0 <= self.name_weight <= 1.0:
            raise ValueError(f"name_weight must be in [0, 1], got {self.name_weight!r}")
        if not 0.0 <= self.char_weight <= 1.0:
            raise ValueError(f"char_weight must be in [0, 1], got {self.char_weight!r}")
        lo, hi = self.char_ngrams
        if not 1 <= lo <= hi:
            raise ValueError(f"char_ngrams must be (min, max) with 1 <= min <= max, got {self.char_ngrams!r}")

    def fit(self, taxonomy: Taxonomy, codes: Iterable[str] | None = None) -> "NeedMatcher":
        """Index the taxonomy's terms (or only ``codes``, e.g. those services actually use)."""
        self._check_params()
        wanted = taxonomy.codes() if codes is None else sorted({str(c).strip().lower() for c in codes})
        unknown = [c for c in wanted if c not in taxonomy.parents]
        if unknown:
            raise ValueError(f"codes not in the taxonomy: {', '.join(unknown[:5])}")
        if not wanted:
            raise ValueError("taxonomy has no terms to index")
        self.codes_ = list(wanted)
        self.names_ = [taxonomy.names.get(c, c) for c in self.codes_]
        self.paths_ = [taxonomy.path(c) for c in self.codes_]
        self.name_docs_ = [_term_doc(n) for n in self.names_]
        self.context_docs_ = [_term_doc(" ".join(taxonomy.names.get(a, a) for a in taxonomy.ancestors(c)[1:]))
                              for c in self.codes_]
        # idf over names and paths together: a word in every path ("health" under Health) is common
        self.word_vectorizer_ = self._word_vectorizer().fit(self.name_docs_ + self.context_docs_)
        self.char_vectorizer_ = self._char_vectorizer().fit(self.name_docs_ + self.context_docs_)
        self._index()
        return self

    def _index(self) -> None:
        """Term vectors: own name blended with ancestors' names, each l2-normalised, per analyzer."""
        def blend(vec: TfidfVectorizer) -> sp.csr_matrix:
            names = vec.transform(self.name_docs_)
            context = vec.transform(self.context_docs_)
            return normalize((self.name_weight * names + (1.0 - self.name_weight) * context).tocsr())
        self.word_matrix_ = blend(self.word_vectorizer_).T.tocsr()
        self.variants_ = _variants(self.word_vectorizer_.vocabulary_)
        self.char_matrix_ = blend(self.char_vectorizer_).T.tocsr()

    def scores(self, text: str) -> np.ndarray:
        """Similarity of ``text`` to every indexed term, in ``codes_`` order."""
        if not hasattr(self, "codes_"):
            raise RuntimeError("NeedMatcher is not fitted: call fit(taxonomy) or from_json(data) first")
        if not isinstance(text, str):
            raise TypeError(f"need text must be a string, got {type(text).__name__}")
        own, concepts = _query_words(text)
        words = list(dict.fromkeys(own + concepts))
        if not words:
            return np.zeros(len(self.codes_))
        # only the lexicon's words reach derived forms: they are chosen to be generic ("rent",
        # "pay"), while a resident's own word may mean something else once suffixed ("place")
        extra = [v for w in concepts for v in self.variants_.get(w, ()) if v not in words]
        doc = " ".join(words + list(dict.fromkeys(extra)))
        word = (self.word_vectorizer_.transform([doc]) @ self.word_matrix_).toarray().ravel()
        char = (self.char_vectorizer_.transform([doc]) @ self.char_matrix_).toarray().ravel()
        return (1.0 - self.char_weight) * word + self.char_weight * char

    def match(self, text: str, k: int = 3, min_score: float | None = None) -> list[NeedMatch]:
        """The ``k`` closest terms scoring at least ``min_score``, best first; [] when none is close."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k!r}")
        threshold = self.min_score if min_score is None else min_score
        # rounding makes near-equal float sums tie exactly, so the code decides and order is stable
        s = np.round(self.scores(text), 6)
        keep = np.flatnonzero((s >= threshold) & (s > 0))
        if keep.size == 0:
            return []
        order = sorted(keep.tolist(), key=lambda i: (-s[i], self.codes_[i]))[:k]
        return [NeedMatch(self.codes_[i], self.names_[i], self.paths_[i], float(s[i])) for i in order]

    # -- persistence (plain JSON, no pickle) -----------------------------------------------------

    def to_json(self) -> dict:
        if not hasattr(self, "codes_"):
            raise RuntimeError("NeedMatcher is not fitted: nothing to store")

        def vec_state(vec: TfidfVectorizer) -> dict:
            vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            return {"vocabulary": vocab, "idf": [float(x) for x in vec.idf_]}

        return {
            "format": JSON_FORMAT,
            "params": {"min_score": self.min_score, "name_weight": self.name_weight,
                       "char_weight": self.char_weight, "char_ngrams": list(self.char_ngrams)},
            "terms": {"codes": self.codes_, "names": self.names_, "paths": self.paths_,
                      "name_docs": self.name_docs_, "context_docs": self.context_docs_},
            "word": vec_state(self.word_vectorizer_),
            "char": vec_state(self.char_vectorizer_),
        }

    @classmethod
    def from_json(cls, data: dict) -> "NeedMatcher":
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"need matcher JSON: expected format {JSON_FORMAT!r}, got {got!r}")
        try:
            params, terms = data["params"], data["terms"]
            self = cls(min_score=float(params["min_score"]), name_weight=float(params["name_weight"]),
                       char_weight=float(params["char_weight"]), char_ngrams=tuple(params["char_ngrams"]))
            self._check_params()
            self.codes_ = [str(c) for c in terms["codes"]]
            self.names_ = [str(n) for n in terms["names"]]
            self.paths_ = [str(p) for p in terms["paths"]]
            self.name_docs_ = [str(d) for d in terms["name_docs"]]
            self.context_docs_ = [str(d) for d in terms["context_docs"]]
            self.word_vectorizer_ = self._restore(self._word_vectorizer, data["word"], "word")
            self.char_vectorizer_ = self._restore(self._char_vectorizer, data["char"], "char")
        except KeyError as exc:
            raise ValueError(f"need matcher JSON: missing field {exc.args[0]!r}") from None
        n = len(self.codes_)
        for field in ("names_", "paths_", "name_docs_", "context_docs_"):
            if len(getattr(self, field)) != n:
                raise ValueError(f"need matcher JSON: terms.{field[:-1]} has {len(getattr(self, field))} "
                                 f"entries, terms.codes has {n}")
        self._index()
        return self

    @staticmethod
    def _restore(make, state: dict, which: str) -> TfidfVectorizer:
        vocab, idf = list(state["vocabulary"]), np.asarray(state["idf"], dtype=np.float64)
        if len(vocab) != len(idf) or len(set(vocab)) != len(vocab) or not vocab:
            raise ValueError(f"need matcher JSON: {which}.vocabulary ({len(vocab)} entries, unique and "
                             f"non-empty) must match {which}.idf ({len(idf)} entries)")
        vec = make({t: i for i, t in enumerate(vocab)})
        vec.idf_ = idf
        return vec
