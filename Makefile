# Two commands do all the set-up on a fresh machine:
#   make run    # installs (first time) and runs the default scenario end to end
#   make test   # installs (first time) and runs lint, config/doc sync and the tests
#                 (installs Debian's chromium for the dashboard's browser tests when missing: apt-get as root)
PY := .venv/bin/python
ARGS ?=

.PHONY: setup run test bench baseline docs lint dashboard chromium

.venv/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

ASSETS := .assets/solara-cdn/.complete
$(ASSETS): scripts/fetch_assets.sh
	bash scripts/fetch_assets.sh

setup: .venv/.installed $(ASSETS)

chromium:
	bash scripts/ensure_chromium.sh

run: setup
	.venv/bin/sim-run $(ARGS)

test: setup chromium
	$(PY) -m ruff check sim analysis tests benchmarks scripts
	$(PY) scripts/gen_param_docs.py --check
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_step.py $(ARGS)

baseline: setup  # make baseline REASON="why results change" (recorded in CHANGELOG.md)
	REASON="$(REASON)" $(PY) scripts/update_baseline.py

dashboard: setup chromium
	.venv/bin/sim-dashboard

docs: setup
	$(PY) scripts/gen_param_docs.py
