from recommender.taxonomy import Taxonomy


def test_implicit_hierarchy_from_codes():
    tax = Taxonomy()
    tax.add_codes(["food/pantry", "housing/shelter/family"])
    assert tax.ancestors("housing/shelter/family") == ["housing/shelter/family", "housing/shelter", "housing"]
    assert tax.is_within("food/pantry", "food")
    assert not tax.is_within("food", "food/pantry")  # a generic service does not answer a specific need


def test_explicit_table_overrides_code_shape_and_names_paths():
    tax = Taxonomy.from_rows([("101", "Emergency", ""), ("101-02", "Emergency Cash", "101"),
                              ("101-02-01", "Help Pay for Food", "101-02")])
    assert tax.ancestors("101-02-01") == ["101-02-01", "101-02", "101"]
    assert tax.path("101-02-01") == "Emergency > Emergency Cash > Help Pay for Food"


def test_cycles_in_imported_tables_terminate():
    tax = Taxonomy.from_rows([("a", "A", "b"), ("b", "B", "a")])
    assert tax.ancestors("a") == ["a", "b"]
