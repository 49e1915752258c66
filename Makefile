# Developer tasks. Each target is one command; CI runs `bash .ci/run` (= lint, then test).
#   make lint    ruff check + ruff format --check + mypy --strict (Python 3.10)   ~20 s, no engine
#   make unit    the unit tests only                                                ~15 s, no engine
#   make test    everything: private engines started and stopped (root, apt)        minutes
#   make fuzz    the property-based tests with a long budget
#   make record WHAT=streams [ARGS=...]   re-record one fixture folder (DOCKER_HOST = a private engine)
#   make bench   the benchmarks (need the engines; see bench/)
#   make i18n    extract the texts to analyzer/locale/layermap.pot, merge them into the French catalog,
#                compile it to the .mo the package ships (Babel; see README "Languages")
PY := .venv/bin/python

.PHONY: lint unit test fuzz record bench venv format i18n

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

# count_of(n, "layer", "layers") is a plural pair (arguments 2 and 3), like ngettext's 1 and 2.
I18N_KEYWORDS := -k _ -k N_ -k ngettext:1,2 -k count_of:2,3
LOCALE := analyzer/locale

i18n: venv
	.venv/bin/pybabel extract --no-default-keywords $(I18N_KEYWORDS) -F babel.cfg --sort-by-file \
		--project layermap --copyright-holder "layermap authors" --no-wrap -o $(LOCALE)/layermap.pot .
	.venv/bin/pybabel update -i $(LOCALE)/layermap.pot -d $(LOCALE) -D layermap -l fr --no-wrap \
		--ignore-obsolete --init-missing
	.venv/bin/pybabel compile -d $(LOCALE) -D layermap --statistics
