"""A scenario's story parameters (vocabularies, rates, places) live in ``data/<name>.json``."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@cache
def _read(name: str) -> str:
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def load_story(name: str) -> dict:
    return json.loads(_read(name))
