"""Language names, codes and 211-style free text -> ISO 639-1, with what cannot be coded kept for the report."""
from __future__ import annotations

import pytest

from recommender.languages import code_for, describe_uncoded, iso639_1_codes, scan_text


def test_the_table_covers_iso_639_1():
    codes = iso639_1_codes()
    assert len(codes) == 183
    assert all(len(c) == 2 and c.isalpha() and c.islower() for c in codes)


@pytest.mark.parametrize("value, code", [
    ("Spanish", "es"), ("spanish.", "es"), ("Castilian", "es"), ("es", "es"), ("spa", "es"),
    ("eng", "en"), ("en-US", "en"), ("zh_Hant", "zh"), ("Mandarin", "zh"), ("cmn", "zh"),
    ("fre", "fr"), ("ger", "de"), ("Farsi", "fa"), ("Haitian Creole", "ht"), ("Tagalog", "tl"),
    ("Portugese", "pt"), ("Urdu", "ur"),
])
def test_structured_values(value, code):
    assert code_for(value) == code


@pytest.mark.parametrize("value", ["", "xx", "Creole", "qqq"])
def test_values_without_a_code(value):
    assert code_for(value) is None


@pytest.mark.parametrize("value, code", [("Hmong", "hmn"), ("hmn", "hmn"), ("American Sign Language", "ase"),
                                         ("Klingon", "tlh"), ("spa", "es"), ("cmn", "zh")])
def test_iso_639_3_where_no_two_letter_code_exists(value, code):
    assert code_for(value) == code


def test_known_languages_without_a_639_1_code_are_described():
    assert "ase" in describe_uncoded("ASL")
    assert describe_uncoded("Creole").startswith("Creole (ambiguous")
    assert describe_uncoded("Klingon") is None


@pytest.mark.parametrize("text, codes, uncoded, unknown", [
    ("Spanish.", ["es"], [], []),
    ("Spanish, French and Russian.", ["es", "fr", "ru"], [], []),
    ("ASL and Spanish.", ["es"], ["ASL"], []),
    ("Accommodations possible.", [], [], []),
    ("Language Line.", [], [], []),
    ("Can obtain interpreter for non English speaking clients.", [], [], []),
    ("French, Lakota.", ["fr"], ["Lakota"], []),
    ("Spanish, Mai Mai (Somali language)", ["es", "so"], [], ["Mai Mai"]),
    ("Spanish translators available. Ask for Ms. Lopez.", ["es"], [], []),
    ("Services for Latino families", [], [], []),
    ("{English,Spanish}", ["en", "es"], [], []),
])
def test_free_text(text, codes, uncoded, unknown):
    assert scan_text(text) == (codes, uncoded, unknown)
