"""A first usage history for a real catalogue: ``servicematch generate --catalog DIR``.

A city that has just imported its directory (``servicematch import-hsds``) has services but no record
of who used them. This runs the generator's resident and choice model (``training.generate_usage``)
over that catalogue, so a first model can be trained and evaluated; real feedback then replaces the
synthetic history through ``servicematch train --events``.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd

from .generate_usage import generate_usage
from .tables import write_table


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def generate_for_catalog(catalog_dir, out_dir, *, residents: int = 10_000, seed: int = 7,
                         interactions_per_resident: float = 12.0, fmt: str = "csv", progress: bool = True) -> dict:
    catalog_dir, out_dir = Path(catalog_dir), Path(out_dir)
    sources = [catalog_dir / f"services.{ext}" for ext in ("csv", "parquet")]
    services_path = next((p for p in sources if p.exists()), None)
    if services_path is None:
        raise FileNotFoundError(f"{catalog_dir}: no services.csv or services.parquet (import one with "
                                f"servicematch import-hsds)")
    if out_dir.resolve() == catalog_dir.resolve():
        raise ValueError("--out: must differ from --catalog (the catalogue is not modified)")
    t0 = time.perf_counter()
    services = _read(services_path)
    taxonomy_path = catalog_dir / "taxonomy.csv"
    taxonomy = pd.read_csv(taxonomy_path, dtype=str, keep_default_na=False) if taxonomy_path.exists() else None
    people, interactions = generate_usage(services, residents=residents, seed=seed, taxonomy=taxonomy,
                                          interactions_per_resident=interactions_per_resident, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(services_path, out_dir / services_path.name)
    if taxonomy_path.exists():
        shutil.copyfile(taxonomy_path, out_dir / "taxonomy.csv")
    write_table(people, out_dir / f"residents.{fmt}")
    write_table(interactions, out_dir / f"interactions.{fmt}")
    return {"services": int(len(services)), "residents": int(len(people)), "interactions": int(len(interactions)),
            "seconds": round(time.perf_counter() - t0, 2), "out": str(out_dir)}
