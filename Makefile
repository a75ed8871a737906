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

# Generate a sample city, train, show metrics and suggestions, then serve the API and the console on
# 127.0.0.1:$(PORT) with the embedded state store. The demo key (role admin: every view of the console)
# is kept in .demo-key (mode 0600, git-ignored) and printed last, once the server answers.
DEMO_KEY ?= .demo-key
demo: demo-train demo-recommend
	@test -s $(DEMO_KEY) && test -f keys.toml || { umask 077; $(BIN)/servicematch keys add --role admin --label demo \
	  --keys keys.toml | tail -n 1 > $(DEMO_KEY); }
	@$(BIN)/python -c "import socket; socket.socket().bind(('127.0.0.1', $(PORT)))" 2>/dev/null || \
	  { echo "port $(PORT) is in use: run make demo PORT=<another port>"; exit 1; }
	@$(BIN)/servicematch serve --models $(MODELS) --keys keys.toml --host 127.0.0.1 --port $(PORT) \
	  --no-access-log & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid' INT TERM; \
	  for i in $$(seq 1 150); do $(BIN)/python -c "import urllib.request as u; \
	    u.urlopen('http://127.0.0.1:$(PORT)/readyz', timeout=1)" 2>/dev/null && break; sleep 0.2; done; \
	  kill -0 $$pid 2>/dev/null || { echo "the server did not start (is port $(PORT) in use?)"; exit 1; }; \
	  echo; echo "  demo API key: $$(cat $(DEMO_KEY))"; echo "  its role:     admin"; \
	  echo "  console:      http://127.0.0.1:$(PORT)/console   (docs: http://127.0.0.1:$(PORT)/docs)"; \
	  echo "  Ctrl+C stops the server."; wait $$pid

serve: install
	$(BIN)/servicematch serve --models $(MODELS) --keys keys.toml --host 127.0.0.1 --port $(PORT)

# The whole test suite; .ci/run calls exactly this.
test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
