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

import re
from functools import lru_cache

# ISO 639-1 code | ISO 639-2/T | ISO 639-2/B (when different) | English names and common aliases.
_TABLE = """
aa|aar||Afar
ab|abk||Abkhazian;Abkhaz
ae|ave||Avestan
af|afr||Afrikaans
ak|aka||Akan
am|amh||Amharic
an|arg||Aragonese
ar|ara||Arabic
as|asm||Assamese
av|ava||Avaric
ay|aym||Aymara
az|aze||Azerbaijani;Azeri
ba|bak||Bashkir
be|bel||Belarusian;Byelorussian
bg|bul||Bulgarian
bi|bis||Bislama
bm|bam||Bambara
bn|ben||Bengali;Bangla
bo|bod|tib|Tibetan
br|bre||Breton
bs|bos||Bosnian
ca|cat||Catalan;Valencian
ce|che||Chechen
ch|cha||Chamorro
co|cos||Corsican
cr|cre||Cree
cs|ces|cze|Czech
cu|chu||Church Slavic;Church Slavonic;Old Church Slavonic
cv|chv||Chuvash
cy|cym|wel|Welsh
da|dan||Danish
de|deu|ger|German
dv|div||Divehi;Dhivehi;Maldivian
dz|dzo||Dzongkha
ee|ewe||Ewe
el|ell|gre|Greek;Modern Greek
en|eng||English
eo|epo||Esperanto
es|spa||Spanish;Castilian;Espanol;Español
et|est||Estonian
eu|eus|baq|Basque
fa|fas|per|Persian;Farsi;Dari
ff|ful||Fulah;Fula;Fulani;Pulaar
fi|fin||Finnish
fj|fij||Fijian
fo|fao||Faroese
fr|fra|fre|French
fy|fry||Western Frisian;Frisian
ga|gle||Irish;Irish Gaelic
gd|gla||Scottish Gaelic;Gaelic
gl|glg||Galician
gn|grn||Guarani
gu|guj||Gujarati;Gujurati
gv|glv||Manx
ha|hau||Hausa
he|heb||Hebrew
hi|hin||Hindi
ho|hmo||Hiri Motu
hr|hrv||Croatian
ht|hat||Haitian Creole;Haitian;Kreyol;Kreyòl
hu|hun||Hungarian
hy|hye|arm|Armenian
hz|her||Herero
ia|ina||Interlingua
id|ind||Indonesian;Bahasa Indonesia
ie|ile||Interlingue;Occidental
ig|ibo||Igbo
ii|iii||Sichuan Yi;Nuosu
ik|ipk||Inupiaq
io|ido||Ido
is|isl|ice|Icelandic
it|ita||Italian
iu|iku||Inuktitut
ja|jpn||Japanese
jv|jav||Javanese
ka|kat|geo|Georgian
kg|kon||Kongo;Kikongo
ki|kik||Kikuyu;Gikuyu
kj|kua||Kuanyama;Kwanyama
kk|kaz||Kazakh
kl|kal||Kalaallisut;Greenlandic
km|khm||Khmer;Cambodian
kn|kan||Kannada
ko|kor||Korean
kr|kau||Kanuri
ks|kas||Kashmiri
ku|kur||Kurdish
kv|kom||Komi
kw|cor||Cornish
ky|kir||Kyrgyz;Kirghiz
la|lat||Latin
lb|ltz||Luxembourgish;Letzeburgesch
lg|lug||Ganda;Luganda
li|lim||Limburgish;Limburgan
ln|lin||Lingala
lo|lao||Lao;Laotian
lt|lit||Lithuanian
lu|lub||Luba-Katanga
lv|lav||Latvian
mg|mlg||Malagasy
mh|mah||Marshallese
mi|mri|mao|Maori
mk|mkd|mac|Macedonian
ml|mal||Malayalam
mn|mon||Mongolian
mr|mar||Marathi
ms|msa|may|Malay
mt|mlt||Maltese
my|mya|bur|Burmese;Myanmar
na|nau||Nauru;Nauruan
nb|nob||Norwegian Bokmal;Norwegian Bokmål;Bokmal;Bokmål
nd|nde||North Ndebele
ne|nep||Nepali
ng|ndo||Ndonga
nl|nld|dut|Dutch;Flemish
nn|nno||Norwegian Nynorsk;Nynorsk
no|nor||Norwegian
nr|nbl||South Ndebele
nv|nav||Navajo;Navaho
ny|nya||Chichewa;Chewa;Nyanja
oc|oci||Occitan
oj|oji||Ojibwa;Ojibwe
om|orm||Oromo
or|ori||Oriya;Odia
os|oss||Ossetian;Ossetic
pa|pan||Punjabi;Panjabi
pi|pli||Pali
pl|pol||Polish
ps|pus||Pashto;Pushto
pt|por||Portuguese;Portugese
qu|que||Quechua
rm|roh||Romansh
rn|run||Rundi;Kirundi
ro|ron|rum|Romanian;Moldavian;Moldovan
ru|rus||Russian
rw|kin||Kinyarwanda
sa|san||Sanskrit
sc|srd||Sardinian
sd|snd||Sindhi
se|sme||Northern Sami
sg|sag||Sango
si|sin||Sinhala;Sinhalese
sk|slk|slo|Slovak
sl|slv||Slovenian;Slovene
sm|smo||Samoan
sn|sna||Shona
so|som||Somali
sq|sqi|alb|Albanian
sr|srp||Serbian
ss|ssw||Swati;Swazi
st|sot||Southern Sotho;Sesotho
su|sun||Sundanese
sv|swe||Swedish
sw|swa||Swahili;Kiswahili
ta|tam||Tamil
te|tel||Telugu
tg|tgk||Tajik
th|tha||Thai
ti|tir||Tigrinya
tk|tuk||Turkmen
tl|tgl||Tagalog;Filipino;Pilipino;Philipino;Phillipino
tn|tsn||Tswana;Setswana
to|ton||Tongan
tr|tur||Turkish
ts|tso||Tsonga
tt|tat||Tatar
tw|twi||Twi
ty|tah||Tahitian
ug|uig||Uyghur;Uighur
uk|ukr||Ukrainian
ur|urd||Urdu
uz|uzb||Uzbek
ve|ven||Venda
vi|vie||Vietnamese
vo|vol||Volapuk;Volapük
wa|wln||Walloon
wo|wol||Wolof
xh|xho||Xhosa
yi|yid||Yiddish
yo|yor||Yoruba
za|zha||Zhuang
zh|zho|chi|Chinese;Mandarin;Cantonese
zu|zul||Zulu
"""

# ISO 639-3 individual languages that sit inside an ISO 639-1 macrolanguage.
_ISO639_3 = {
    "cmn": "zh", "yue": "zh", "arb": "ar", "pes": "fa", "prs": "fa", "swh": "sw", "fil": "tl",
    "ekk": "et", "lvs": "lv", "zsm": "ms", "pbu": "ps", "uzn": "uz", "azj": "az", "khk": "mn",
    "npi": "ne", "ory": "or", "plt": "mg", "ydd": "yi", "als": "sq", "gug": "gn", "quz": "qu",
}

# Languages people name that have no ISO 639-1 code: they are reported (with what they are), not dropped.
NO_ISO639_1 = {
    "american sign language": "American Sign Language (ISO 639-3 ase)",
    "asl": "American Sign Language (ISO 639-3 ase)",
    "a.s.l.": "American Sign Language (ISO 639-3 ase)",
    "sign language": "a sign language",
    "signing": "a sign language",
    "braille": "Braille (a writing system, not a language)",
    "creole": "Creole (ambiguous: which creole?)",
    "hmong": "Hmong (ISO 639-2 hmn)",
    "lakota": "Lakota (ISO 639-3 lkt)",
    "cebuano": "Cebuano (ISO 639-2 ceb)",
    "ilocano": "Ilocano (ISO 639-2 ilo)",
    "cape verdean creole": "Cape Verdean Creole (ISO 639-3 kea)",
    "karen": "Karen (ISO 639-2 kar)",
    "chuukese": "Chuukese (ISO 639-2 chk)",
    "mandinka": "Mandinka (ISO 639-2 man)",
    "krio": "Krio (ISO 639-3 kri)",
    "garifuna": "Garifuna (ISO 639-3 cab)",
}


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).strip(" .,;:!()[]{}\"'").lower()


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    by_code: dict[str, str] = {}
    by_alpha3: dict[str, str] = dict(_ISO639_3)
    by_name: dict[str, str] = {}
    for line in _TABLE.strip().splitlines():
        code, t3, b3, names = line.split("|")
        names_list = names.split(";")
        by_code[code] = names_list[0]
        by_alpha3[t3] = code
        if b3:
            by_alpha3[b3] = code
        for name in names_list:
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
_NOT_LANGUAGE_WORDS = {
    "none", "all", "yes", "no", "varies", "various", "interpreters", "interpreter", "interpretation",
    "translation", "translators", "translator", "accommodations", "accommodation", "accommodated",
    "possible", "available", "language", "languages", "line", "lines", "link", "tty", "tdd", "relay",
    "limited", "basic", "some", "other", "others", "call", "see", "notes", "bilingual", "multilingual",
    "multi", "lingual", "many", "most", "staff", "also", "numerous", "program", "programs", "only",
    "upon", "request", "services", "service", "materials", "brochures", "appointment", "advance",
}
