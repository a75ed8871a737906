"""The structure issue's promises: the catalogue is data (saved rules, no mutation), one outcome
vocabulary, one yes/no vocabulary, no import cycle."""
import ast
import json
from pathlib import Path

import pandas as pd

from recommender.catalog import ServiceCatalog
from recommender.eligibility import Outcome, evaluate
from recommender.eligibility.listing import read_listing_rules
from recommender.profile import Profile
from recommender.taxonomy import Taxonomy
from training.tables import load_data_dir

ROOT = Path(__file__).resolve().parents[2]


def _catalog(read_rules=read_listing_rules):
    rows = [{"service_id": "men", "name": "Men's shelter", "categories": "housing/shelter",
             "eligibility_description": "Men ages 21 years and older"},
            {"service_id": "any", "name": "Pantry", "categories": "food"}]
    return ServiceCatalog.from_frame(pd.DataFrame(rows), Taxonomy(), read_rules=read_rules)


def test_the_catalogue_leaves_the_callers_taxonomy_alone_and_paths_are_ready():
    tax = Taxonomy.from_rows([("food", "Food", "")])
    before = dict(tax.parents)
    cat = ServiceCatalog.from_frame(pd.DataFrame([{"service_id": "a", "name": "A", "categories": "food/pantry"}]), tax)
    assert tax.parents == before
    assert "food/pantry" in cat.taxonomy.parents
    paths = dict(cat.taxonomy._paths)
    assert cat.taxonomy.path("food/pantry") == "Food > pantry"
    cat.taxonomy.path("not/a/code")
    assert cat.taxonomy._paths == paths  # serving reads, never fills


def test_a_loaded_catalogue_applies_the_rules_it_was_saved_with():
    saved = json.loads(json.dumps(_catalog().to_json()))
    boy = Profile.from_dict({"age": 16, "gender": "male"})
    assert evaluate(ServiceCatalog.from_json(saved), boy).outcome[0] == Outcome.INELIGIBLE
    # the saved rules, not the text, decide: drop the saved rules and the listing is open
    saved["listing_rules"]["rules"][0] = []
    assert evaluate(ServiceCatalog.from_json(saved), boy).outcome[0] == Outcome.ELIGIBLE
    # and a catalogue built without reading rules applies none
    assert evaluate(_catalog(read_rules=None), boy).outcome[0] == Outcome.ELIGIBLE


def test_outcomes_are_one_int_enum_with_labels():
    e = evaluate(_catalog(), Profile.from_dict({"age": 30}))
    assert e.outcome.dtype.name == "int8"
    status, reasons, questions = e.details(0)
    assert status is Outcome.UNKNOWN and status.label == "unknown"
    assert questions == ["What is the resident's gender?"]


def test_yes_no_words_mean_the_same_in_files_and_profiles(tmp_path):
    (tmp_path / "services.csv").write_text("service_id,name\ns1,A\n")
    (tmp_path / "residents.csv").write_text("resident_id,disability\nr1,y\nr2,N\nr3,t\n")
    (tmp_path / "interactions.csv").write_text("resident_id,service_id\nr1,s1\n")
    data = load_data_dir(tmp_path)
    assert data.residents["disability"].tolist() == [True, False, True]
    assert Profile.from_dict({"disability": "y"}).disability is True


def _imports(path: Path, module: str) -> set[str]:
    out = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")
            if node.level:
                base = base[:len(base) - node.level + (1 if is_pkg else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            out.add(name)
            out |= {f"{name}.{a.name}" for a in node.names}
    return out


def test_no_import_cycle_late_imports_included():
    modules = {}
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in ("recommender", "training", "api"):
            continue
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        deps = set()
        for imported in _imports(path, name):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                q = ".".join(parts[:i])
                # a package's own modules run its __init__ by being inside it, not by importing it
                if q in modules and q != name and not name.startswith(q + "."):
                    deps.add(q)
        graph[name] = deps
    state, cycle = {}, []

    def visit(v, stack):
        state[v] = 1
        for w in graph[v]:
            if state.get(w) == 1:
                cycle.append(stack[stack.index(w):] + [w])
            elif w not in state:
                visit(w, stack + [w])
        state[v] = 2

    for v in sorted(graph):
        if v not in state:
            visit(v, [v])
    assert cycle == []


def test_a_model_saved_without_its_listing_rules_is_refused_not_opened():
    import pytest

    old = _catalog().to_json()
    del old["listing_rules"]
    with pytest.raises(ValueError, match="retrain"):
        ServiceCatalog.from_json(old)
    none_read = json.loads(json.dumps(_catalog(read_rules=None).to_json()))
    assert ServiceCatalog.from_json(none_read).listing_rules is None
