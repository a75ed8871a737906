"""Write a scenario's tables as a data directory in the contract format (README "Data contract")."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from training.tables import write_table


def write_city(out, *, services: pd.DataFrame, residents: pd.DataFrame, interactions: pd.DataFrame,
               story: dict, taxonomy: pd.DataFrame | None = None) -> dict:
    """services.csv, residents.csv, interactions.csv (time order), taxonomy.csv if given, and
    ``scenario.json`` (the story's parameters and counts, for whoever reads the benchmark)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    interactions = interactions.sort_values(["timestamp", "resident_id", "service_id"], kind="stable")
    write_table(services, out / "services.csv")
    write_table(residents, out / "residents.csv")
    write_table(interactions[["resident_id", "service_id", "event", "timestamp"]], out / "interactions.csv")
    if taxonomy is not None:
        write_table(taxonomy, out / "taxonomy.csv")
    counts = {"services": len(services), "residents": len(residents), "interactions": len(interactions),
              "events": {k: int(v) for k, v in interactions["event"].value_counts().sort_index().items()}}
    (out / "scenario.json").write_text(json.dumps({**story, "counts": counts}, indent=1, default=str) + "\n")
    return counts


def join(items) -> str:
    """A ``;``-separated cell."""
    return ";".join(str(i) for i in items)


def interaction_frame(rows: list[tuple], residents: pd.DataFrame, services: pd.DataFrame, end: int) -> pd.DataFrame:
    """(resident row, service row, event, timestamp) tuples as an interactions table, cut at ``end``."""
    df = pd.DataFrame(rows, columns=["r", "s", "event", "timestamp"])
    df = df[df["timestamp"] < end]
    return pd.DataFrame({"resident_id": residents["resident_id"].to_numpy()[df["r"]],
                         "service_id": services["service_id"].to_numpy()[df["s"]],
                         "event": df["event"].to_numpy(), "timestamp": df["timestamp"].to_numpy()})
