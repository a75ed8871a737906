# servicematch: the commands a user runs. `make demo` on a fresh machine sets everything up.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
DATA    ?= data/city
MODELS  ?= models
PORT    ?= 8000
DEMO_RESIDENTS ?= 20000
DEMO_SERVICES  ?= 500

.PHONY: install demo demo-data demo-train demo-recommend serve test bench clean

$(BIN)/servicematch: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/servicematch

demo-data: install
	$(BIN)/servicematch generate --out $(DATA) --residents $(DEMO_RESIDENTS) --services $(DEMO_SERVICES) --seed 7

demo-train: demo-data
	$(BIN)/servicematch train --data $(DATA) --models $(MODELS)

demo-recommend: install
	$(BIN)/servicematch recommend --models $(MODELS) --resident-id R000123 -k 5
	$(BIN)/servicematch recommend --models $(MODELS) -k 5 \
	  --profile '{"age": 67, "district": "D04", "languages": ["en"], "needs": ["eldercare", "food"]}'

# Generate a sample city, train, show metrics and suggestions, then serve the API on 127.0.0.1:$(PORT)
# with the embedded state store (a demo key is printed).
demo: demo-train demo-recommend
	@test -f keys.toml || $(BIN)/servicematch keys add --role caseworker --label demo --keys keys.toml
	$(BIN)/servicematch serve --models $(MODELS) --keys keys.toml --host 127.0.0.1 --port $(PORT)

serve: install
	$(BIN)/servicematch serve --models $(MODELS) --keys keys.toml --host 127.0.0.1 --port $(PORT)

# The whole test suite; .ci/run calls exactly this.
test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
