"""Places: which areas a listing names and where a resident lives, from a gazetteer data file.

A gazetteer (``gazetteers/<name>.json``) holds one jurisdiction's place data: the county-level areas
of its home state, neighbouring states, spellings ("prince georges county", "d.c."), the first three
ZIP digits of each state, a city whose mailing name also covers part of a county ("Baltimore"),
neighbourhoods and the county-level area they lie in ("hampden" -> "baltimore city"), and the regex
that finds area names in lower-cased listing text. The catalogue names its gazetteer (``maryland``
today); nothing here knows Maryland.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .fields import missing, zip_code
from .lexicon import residency_patterns

GAZETTEER_DIR = Path(__file__).with_name("gazetteers")
DEFAULT_GAZETTEER = "maryland"

_DIRECTION = re.compile(r"^(?:north|south|east|west)(?:ern)?\s+(?=\S)")


@dataclass(frozen=True)
class Gazetteer:
    name: str
    home_state: str
    counties: frozenset
    states: frozenset
    aliases: Mapping[str, str]
    zip3: Mapping[str, tuple]
    ambiguous_city: Mapping
    county_field: Mapping[str, str]
    neighbourhoods: Mapping[str, str]
    #: compiled from the data: one area name, a list of areas, "City and County"
    area_re: re.Pattern = field(repr=False)
    #: listing phrases that make a named area a residency rule ("residents of ...")
    residency: tuple = field(repr=False)
    city_and_county_re: re.Pattern = field(repr=False)
    city_and_county: tuple = ()

    # ------------------------------------------------------------------ names
    def normalise(self, name: str) -> str:
        """A place name as a canonical lower-case area: 'Baltimore City' style names to ``'baltimore
        city'``, ``'Prince Georges County'`` to ``"prince george's county"``, ``'D.C.'`` to ``'district of
        columbia'``. A compass part of a county ("South Montgomery County") is dropped (the county is the
        finest area a profile can be checked against); "East Baltimore" is kept, a part of the city with
        no county of its own. A bare ambiguous city name ("Baltimore") means the city: listings name the
        county explicitly when they mean it."""
        text = " ".join(str(name).replace("\u2019", "'").lower().split()).strip(" ,;:")
        if text in self.aliases:
            return self.aliases[text]
        stripped = _DIRECTION.sub("", text)
        if stripped != text and stripped.endswith(" county"):
            text = stripped
        return self.aliases.get(text, text)

    def areas_in(self, list_text: str) -> tuple[str, ...]:
        """The areas named in a matched list ("Baltimore City and County" is two)."""
        if self.city_and_county_re.fullmatch(list_text.strip()):
            return tuple(self.city_and_county)
        areas: list[str] = []
        for m in self.area_re.finditer(list_text):
            area = self.normalise(m.group())
            if area not in areas:
                areas.append(area)
        return tuple(areas)

    def county_of(self, area: str) -> str | None:
        """The county-level area a neighbourhood lies in, or the area itself when it is one."""
        if area in self.counties:
            return area
        return self.neighbourhoods.get(area)

    def in_state(self, state: str, zip3: int) -> bool:
        return any(lo <= zip3 <= hi for lo, hi in self.zip3.get(state, ()))

    # ------------------------------------------------------------------ a resident's place
    def place(self, profile: Mapping) -> "Place":
        place = Place(zip=zip_code(profile))
        names = set()
        state = profile.get("state")
        if not missing(state):
            place.state = self.normalise(state)
            names.add(place.state)
        county = profile.get("county")
        if not missing(county):
            text = " ".join(str(county).lower().split())
            if text in self.county_field:
                place.county = self.county_field[text]  # a county field naming "Baltimore" means the county
            else:
                text = self.normalise(text)
                if text not in self.counties and not text.endswith(" county") and f"{text} county" in self.counties:
                    text = f"{text} county"
                place.county = text
            names.add(place.county)
        amb = self.ambiguous_city
        for name in ("area", "city", "district", "neighborhood", "neighbourhood"):
            value = profile.get(name)
            if missing(value):
                continue
            raw = " ".join(str(value).lower().split()).strip(" ,")
            if amb and raw in amb.get("mailing_forms", ()):
                # A mailing city of "Baltimore" covers much of Baltimore County too.
                place.ambiguous_city = True
                names.add(amb["name"])
                continue
            text = self.normalise(raw)
            names.add(text)
            county_of = self.county_of(text)
            if place.county is None and county_of is not None:
                place.county = county_of
                names.add(county_of)
            if place.state is None and text in self.states:
                place.state = text
        place.names = frozenset(names)
        return place


@dataclass
class Place:
    zip: str | None = None
    state: str | None = None
    county: str | None = None          # a county-level area of the home state
    ambiguous_city: bool = False       # the gazetteer's ambiguous city given as a city
    names: frozenset = frozenset()     # every normalised place name the profile gives


@functools.lru_cache(maxsize=None)
def gazetteer(name: str = DEFAULT_GAZETTEER) -> Gazetteer:
    """Load (once; gazetteers are immutable) the gazetteer data file ``gazetteers/<name>.json``."""
    if not re.fullmatch(r"[a-z0-9_-]+", str(name)):
        raise ValueError(f"gazetteer: {name!r} is not a gazetteer name")
    path = GAZETTEER_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in GAZETTEER_DIR.glob("*.json")))
        raise ValueError(f"gazetteer: no data file for {name!r} (known: {known})")
    data = json.loads(path.read_text(encoding="utf-8"))
    area = data["area_regex"].replace("{county_names}", data["county_names_regex"])
    area_list = (rf"(?:{data['city_and_county_regex']}|{area}(?:\s*(?:,|and/or|\band\b|\bor\b|&)\s*(?:the\s+)?"
                 rf"{area})*)")
    return Gazetteer(
        name=data["name"], home_state=data["home_state"], counties=frozenset(data["counties"]),
        states=frozenset(data["states"]), aliases=dict(data["aliases"]),
        zip3={k: tuple(tuple(r) for r in v) for k, v in data["zip3"].items()},
        ambiguous_city=dict(data.get("ambiguous_city") or {}), county_field=dict(data.get("county_field") or {}),
        neighbourhoods={k.lower(): v for k, v in (data.get("neighbourhoods") or {}).items()},
        area_re=re.compile(area), residency=residency_patterns(area, area_list),
        city_and_county_re=re.compile(data["city_and_county_regex"]),
        city_and_county=tuple(data.get("city_and_county") or ()))
