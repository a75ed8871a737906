"""Synthetic cities with independent generative stories, for the robustness benchmark (bench/quality.py).

Each scenario writes a data directory in the contract format (README "Data contract") and is
deterministic per seed:

* ``life_events``: needs arise over a year from life events; history is mostly views;
* ``deep_funnel``: fixed needs, deep casework funnels, strict eligibility and capacity;
* ``long_tail``: ~50,000 small programmes described by tags, most used once or twice, many new late;
* ``aside``: a small multilingual town where language and distance decide; kept aside for final checks.

    python -m training.scenarios NAME --out DIR [--residents N] [--services M] [--seed S]
"""
from __future__ import annotations

from importlib import import_module

#: name -> (default residents, default services); ``aside`` is run only when asked for by name
SCENARIOS = {
    "life_events": (40_000, 900),
    "deep_funnel": (24_000, 650),
    "long_tail": (20_000, 50_000),
    "aside": (6_000, 90),
}
ASIDE = ("aside",)


def generate(name: str, out, *, residents: int | None = None, services: int | None = None, seed: int = 0) -> dict:
    """Write scenario ``name`` to ``out``; returns its counts."""
    if name not in SCENARIOS:
        raise ValueError(f"scenario: unknown {name!r}; choose from {', '.join(SCENARIOS)}")
    n_res, n_svc = SCENARIOS[name]
    module = import_module(f"{__name__}.{name}")
    return module.generate(out, residents=residents or n_res, services=services or n_svc, seed=seed)
