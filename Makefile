# Two commands do all the set-up on a fresh machine:
#   make run    # installs (first time) and runs the default scenario end to end
#   make test   # installs (first time) and runs lint, config/doc sync and the tests
#                 (the dashboard's browser tests need Debian's chromium: apt-get install chromium; .ci/run does it)
PY := .venv/bin/python
ARGS ?=

.PHONY: setup run test bench baseline docs lint dashboard

.venv/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

ASSETS := .assets/solara-cdn/.complete
$(ASSETS): scripts/fetch_assets.sh
	bash scripts/fetch_assets.sh

setup: .venv/.installed $(ASSETS)

run: setup
	.venv/bin/sim-run $(ARGS)

test: setup
	$(PY) -m ruff check sim analysis tests benchmarks scripts
	$(PY) scripts/gen_param_docs.py --check
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_step.py $(ARGS)

baseline: setup  # make baseline REASON="why results change" (recorded in CHANGELOG.md)
	REASON="$(REASON)" $(PY) scripts/update_baseline.py

dashboard: setup
	.venv/bin/sim-dashboard

docs: setup
	$(PY) scripts/gen_param_docs.py
