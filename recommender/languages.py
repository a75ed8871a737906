"""Language names and codes -> the contract's language codes, for structured values and for free text.

The contract's ``languages`` are ISO 639-1 codes, or ISO 639-3 codes for languages that have no
two-letter code (Hmong ``hmn``, American Sign Language ``ase``); a three-letter code of a language
that has a two-letter one is normalised to it (``spa`` -> ``es``). :func:`normalise_language` is the
one check used by table loading, importers and the API's profiles; names map to codes ("Spanish" ->
``es``). ISO 639-3 comes from ``pycountry``'s copy of the standard. Directories give languages as names
("Spanish"), ISO 639-1/639-2/639-3 codes, locale tags ("en-US"), or, in 211 exports, free text
("Spanish. Accommodations possible."). Names that cannot be coded are returned to the caller so they
are reported, never silently dropped.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

# The code tables are data (``data/languages.json``): each ISO 639-1 code with its ISO 639-2/T and /B
# codes and English names and aliases; ISO 639-3 individual languages inside a 639-1 macrolanguage;
# languages people name that have no ISO 639-1 code; words of 211 language fields that are not names.
DATA_FILE = Path(__file__).parent / "data" / "languages.json"
_DATA = json.loads(DATA_FILE.read_text(encoding="utf-8"))

# Languages people name that have no ISO 639-1 code: they are reported (with what they are), not dropped.
NO_ISO639_1: dict[str, str] = _DATA["no_iso639_1"]


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).strip(" .,;:!()[]{}\"'").lower()


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    by_code: dict[str, str] = {}
    by_alpha3: dict[str, str] = dict(_DATA["in_macrolanguage"])
    by_name: dict[str, str] = {}
    for entry in _DATA["iso639_1"]:
        code = entry["code"]
        by_code[code] = entry["names"][0]
        by_alpha3[entry["t"]] = code
        if "b" in entry:
            by_alpha3[entry["b"]] = code
        for name in entry["names"]:
            by_name[_norm(name)] = code
    return by_code, by_alpha3, by_name


def iso639_1_codes() -> dict[str, str]:
    """Every ISO 639-1 code with its English name."""
    return dict(_tables()[0])


@lru_cache(maxsize=1)
def _iso639_3():
    import pycountry  # the ISO 639-3 table (~7,900 languages), loaded when first needed

    return pycountry.languages


def iso639_3(code: str) -> str | None:
    """``code`` when it is an ISO 639-3 (or 639-2) code of a language without a two-letter code, the
    two-letter code when it has one, else None."""
    code = code.strip().lower()
    if len(code) != 3 or not code.isalpha():
        return None
    found = _iso639_3().get(alpha_3=code) or _iso639_3().get(bibliographic=code)
    if found is None:
        return None
    return getattr(found, "alpha_2", None) or found.alpha_3


def normalise_language(value) -> str:
    """The contract's code for a language value: an ISO 639-1 code, an ISO 639-3 code (normalised to
    the two-letter code where one exists), a locale tag or an English name. Raises ValueError naming
    what it is, or what to write instead."""
    text = str(value).strip().lower()
    if len(text) == 2 and text in _tables()[0]:
        return text
    if text in _tables()[1]:  # 639-2 codes and individual languages of a macrolanguage (cmn -> zh)
        return _tables()[1][text]
    three = iso639_3(text)
    if three is not None:
        return three
    code = code_for(text)
    if code is not None:
        return code
    raise ValueError(f"{value!r} is not an ISO 639-1 or ISO 639-3 language code (e.g. 'es', 'zh', 'hmn'), "
                     "nor a language name we know")


def code_for(value: str) -> str | None:
    """The contract's code of a structured language value (name, 639-1/2/3 code, locale tag), else
    None: the ISO 639-1 code, or the ISO 639-3 code of a language that has none."""
    by_code, by_alpha3, by_name = _tables()
    text = _norm(value)
    if not text:
        return None
    if text in by_name:
        return by_name[text]
    described = _uncoded().get(text)
    if described is not None:  # "ASL" is American Sign Language (ase), not the Asilulu code "asl"
        m = re.search(r"ISO 639-[23] ([a-z]{3})", described)
        return m.group(1) if m else None
    # Locale tags carry the language in the primary subtag: en-US, zh-Hant, es_MX.
    primary = re.split(r"[-\s]", text, maxsplit=1)[0]
    if len(primary) == 2 and primary in by_code:
        return primary
    if len(primary) == 3 and primary in by_alpha3:
        return by_alpha3[primary]
    if len(primary) == 3:
        return iso639_3(primary)
    try:  # an English name of a language with no two-letter code ("Hmong")
        found = _iso639_3().lookup(text)
    except LookupError:
        return None
    return getattr(found, "alpha_2", None) or found.alpha_3


@lru_cache(maxsize=1)
def _uncoded() -> dict[str, str]:
    return {_norm(k): v for k, v in NO_ISO639_1.items()}


def describe_uncoded(value: str) -> str | None:
    """What a known language without an ISO 639-1 code is (for the report), else None."""
    return _uncoded().get(_norm(value))


@lru_cache(maxsize=1)
def _scanner() -> re.Pattern:
    _, _, by_name = _tables()
    names = sorted(set(by_name) | set(_uncoded()), key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    # Word boundaries on both sides so "Latino" is not Latin and "Thailand" is not Thai.
    return re.compile(rf"(?<![\w.])({alternatives})(?![\w])", re.IGNORECASE)


# Separators of language lists in free text: "Spanish, French and Russian", "ASL/Spanish", "{en,es}".
_SEGMENT_SPLIT = re.compile(r"[,;/&+|(){}\[\]\n]|\.(?:\s|$)|\s-+\s|\b(?:and|or|with|plus)\b", re.IGNORECASE)
# A short run of capitalised words, the shape of a language name ("Lakota", "Mai Mai").
_NAME_SHAPE = re.compile(r"^[A-Z][a-zà-ÿ'’]+(?:[ -][A-Z][a-zà-ÿ'’]+)?$")


def scan_text(text: str) -> tuple[list[str], list[str], list[str]]:
    """Languages named in free text.

    Returns ``(codes, uncoded, unknown)``: ISO 639-1 codes in order of mention; known languages without
    a 639-1 code (as named); and name-shaped list items that are not languages we know ("Mai Mai").
    Sentences with no language in them ("Accommodations possible.") give three empty lists.
    """
    by_code, _, by_name = _tables()
    codes: dict[str, None] = {}
    uncoded: dict[str, None] = {}
    for match in _scanner().finditer(text):
        if _NEGATED.search(text, 0, match.start()):
            continue  # "non English speaking clients" names English only to exclude it
        name = _norm(match.group(1))
        if name in _uncoded():
            uncoded.setdefault(match.group(1).strip(), None)
        else:
            codes.setdefault(by_name[name], None)
    unknown: dict[str, None] = {}
    for segment in _SEGMENT_SPLIT.split(_PERSON.sub(" ", text)):
        segment = segment.strip(" .:\"'*-\t")
        if not segment or _scanner().search(segment):
            continue
        words = set(segment.lower().replace("-", " ").split())
        if _NAME_SHAPE.match(segment) and not words & _NOT_LANGUAGE_WORDS:
            unknown.setdefault(segment, None)
    return list(codes), list(uncoded), list(unknown)


# "speak to Ms. Lopez": a person, not a language.
_PERSON = re.compile(r"\b(?:Mr|Ms|Mrs|Miss|Dr)\.?\s+[A-Z][\w'-]*")
_NEGATED = re.compile(r"\b(?:non|no|not)[\s-]*$", re.IGNORECASE)

# Words of capitalised list items in 211 language fields that are not language names
# ("Accommodations Possible", "Language Line", "Numerous").
_NOT_LANGUAGE_WORDS = frozenset(_DATA["not_language_words"])
