# Developer tasks. Each target is one command; CI runs `bash .ci/run` (= lint, then test).
#   make lint    ruff check + ruff format --check + mypy --strict (Python 3.10)   ~20 s, no engine
#   make unit    the unit tests only                                                ~15 s, no engine
#   make test    everything: private engines started and stopped (root, apt)        minutes
#   make fuzz    the property-based tests with a long budget
#   make record WHAT=streams [ARGS=...]   re-record one fixture folder (DOCKER_HOST = a private engine)
#   make bench   the benchmarks (need the engines; see bench/)
PY := .venv/bin/python

.PHONY: lint unit test fuzz record bench venv format

venv:
	@test -x $(PY) || python3 -m venv .venv
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'

lint:
	bash scripts/lint.sh

format: venv
	.venv/bin/ruff check --fix analyzer tests bench
	.venv/bin/ruff format analyzer tests bench

unit: venv
	$(PY) -m pytest tests/unit -q

test:
	bash scripts/test.sh

fuzz: venv
	LAYERMAP_FUZZ_EXAMPLES=5000 $(PY) -m pytest tests/unit -q -k fuzz

record:
	PYTHONPATH=tests $(PY) -m helpers.record $(WHAT) $(ARGS)

bench:
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
