# Two commands do all the set-up on a fresh machine:
#   make run    # installs (first time) and runs the default scenario end to end
#   make test   # installs (first time) and runs lint, config/doc sync and the tests
PY := .venv/bin/python
ARGS ?=

.PHONY: setup run test bench baseline docs lint

.venv/.installed: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

setup: .venv/.installed

run: setup
	.venv/bin/sim-run $(ARGS)

test: setup
	$(PY) -m ruff check sim analysis tests benchmarks scripts
	$(PY) scripts/gen_param_docs.py --check
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_step.py $(ARGS)

baseline: setup
	$(PY) scripts/update_baseline.py

docs: setup
	$(PY) scripts/gen_param_docs.py
