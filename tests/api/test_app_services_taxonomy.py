"""Issue 7: ``GET /v1/services?category=X`` filters through the taxonomy, as recommendations do, on an
imported 211-style taxonomy (``101-02-01`` is a child of ``101-02`` by the table, not by its spelling)."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from api.app import create_app


def _to_211(city, out):
    """The generated city with every category code renamed to a 211-style code."""
    shutil.copytree(city, out)
    tax = pd.read_csv(out / "taxonomy.csv", dtype=str, keep_default_na=False)
    codes: dict[str, str] = {}
    counters: dict[str, int] = {}

    def code_of(c: str) -> str:
        if c in codes:
            return codes[c]
        parent = tax.loc[tax["code"] == c, "parent"]
        p = parent.iloc[0] if len(parent) else ""
        base = code_of(p) if p else ""
        counters[base] = counters.get(base, 0) + 1
        codes[c] = f"{base}-{counters[base]:02d}" if base else f"{100 + counters[base]}"
        return codes[c]

    for c in tax["code"]:
        code_of(c)
    tax["code"] = tax["code"].map(codes)
    tax["parent"] = tax["parent"].map(lambda p: codes.get(p, ""))
    tax.to_csv(out / "taxonomy.csv", index=False)
    for table, col in (("services", "categories"), ("residents", "needs")):
        df = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        df[col] = df[col].map(lambda cell: ";".join(codes.get(c, c) for c in cell.split(";") if c))
        df.to_csv(out / f"{table}.csv", index=False)
    return codes


@pytest.fixture(scope="module")
def models_211(city, tmp_path_factory):
    from training.pipeline import train

    root = tmp_path_factory.mktemp("m211")
    codes = _to_211(city, root / "city")
    train(root / "city", root / "models", epochs=1, quiet=True, seed=0, eval_residents=100)
    return root / "models", codes


def test_service_listing_and_recommendations_agree_on_a_211_taxonomy(models_211, api_keys, serve_app):
    models, codes = models_211
    rec_codes = {v for k, v in codes.items() if "-" in v}  # second-level terms, e.g. 101-02
    server = serve_app(create_app(models, keys_file=api_keys["file"]))
    checked = 0
    with server.client(api_keys["caseworker"]) as cw:
        for code in sorted(rec_codes)[:6]:
            listed = cw.get("/v1/services", params={"category": code, "limit": 1000}).json()
            listed_ids = {s["service_id"] for s in listed["items"]}
            recommended = cw.post("/v1/recommendations", json={
                "profile": {"age": 40}, "categories": [code], "k": 50}).json()["items"]
            rec_ids = {i["service_id"] for i in recommended}
            assert rec_ids <= listed_ids, code
            assert listed["total"] == len(listed_ids)
            if rec_ids:
                checked += 1
            # every listed service has the term or a descendant of it among its categories
            for s in listed["items"]:
                assert any(c == code or c.startswith(code + "-") for c in s["categories"]), (code, s["categories"])
    assert checked >= 3
