"""Property-based fuzzing over the app's own OpenAPI schema (schemathesis), against real uvicorn.

Every operation gets valid and invalid requests (bounded: ~30 examples each, no deadline) with an
admin key. Asserted: no 5xx, every status code documented, responses conform to their schema (body,
content type, headers), invalid data rejected with a 4xx, auth not ignored.

Not asserted: ``positive_data_acceptance`` (schema-valid data must get a 2xx). Some rules are not
expressible in JSON Schema and are checked against the live catalogue -- an event naming an
unknown service, a latitude without its longitude -- and those answer 422 by design.
"""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import Config, GenerationMode

from api.app import create_app
from api.auth import INLINE_PROFILE, PERMISSIONS

from .conftest import LiveServer, make_models_dir

MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzz_server(trained, api_keys, tmp_path_factory):
    models = make_models_dir(trained, tmp_path_factory.mktemp("fuzz") / "models")
    app = create_app(models, keys_file=api_keys["file"], refresh_interval=60)
    with LiveServer(app) as server:
        yield server


#: Every operation of the API (the test below checks the schema has exactly these).
OPERATIONS = sorted({tuple(a.split(" ", 1)) for a in PERMISSIONS if a != INLINE_PROFILE}
                    | {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")})


@pytest.fixture(scope="module")
def api_schema(fuzz_server, api_keys):
    config = Config.from_dict({
        "base-url": fuzz_server.url,
        "headers": {"Authorization": f"Bearer {api_keys['admin']}"},
        "generation": {"with-security-parameters": False},
        "checks": {"positive_data_acceptance": {"enabled": False}},
        "request-timeout": 30,
    })
    return schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json", config=config)


def test_the_schema_lists_every_operation(api_schema):
    listed = sorted((op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations())
    assert listed == OPERATIONS


# schemathesis' own pytest integration (``from_fixture``) does not run under pytest 9, so the
# operations are parametrised here and each one is driven through Hypothesis directly.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_schema_conformant_answers(api_schema, method, path, mode):
    operation = api_schema[path][method]
    if mode is GenerationMode.NEGATIVE and not (operation.body or operation.path_parameters
                                                or operation.query):
        pytest.skip("nothing to make invalid: no body and no parameters")

    @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate()

    run()


def test_every_body_has_an_example(fuzz_server):
    import httpx

    doc = httpx.get(fuzz_server.url + "/openapi.json").json()
    components = doc["components"]["schemas"]

    def has_example(content: dict) -> bool:
        if "example" in content or "examples" in content:
            return True
        ref = content.get("schema", {}).get("$ref")
        return bool(ref) and "examples" in components[ref.rsplit("/", 1)[1]]

    missing = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for media in op.get("requestBody", {}).get("content", {}).values():
                if not has_example(media):
                    missing.append(f"{method.upper()} {path} request")
            for status, resp in op["responses"].items():
                for media in resp.get("content", {}).values():
                    if not has_example(media):
                        missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
