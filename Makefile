# Everything a newcomer needs: `make demo` and `make test` create the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The days `make test-dates` runs the suite on: a leap day, a summer years ahead, and the
# autumn day the clocks go back.
TEST_DAYS ?= 2028-02-29 2031-07-15 2025-10-26
# Test processes: one per core. Two per core finished sooner on a shared machine, but
# starved the event loops of the tests that check Telegram's pace (flood and stop tests).
# A process that runs out of tests takes some of another's (worksteal): the slow tests
# no longer gather at one process's end.
JOBS ?= $(shell nproc)
PYTEST := $(BIN)/python -m pytest -q -n $(JOBS) --dist worksteal

.PHONY: install demo test test-deep test-dates lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/trustscan demo

# Lint, types and the whole suite with the bounded Hypothesis profile ("fast"). The types
# are checked beside the suite (mypy takes some 15 s from a fresh clone, while the tests
# leave a core idle whenever they wait for a browser or a bot); its verdict is printed
# after the tests', and either failing fails `make test`.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p build
	@$(BIN)/mypy > build/mypy.out 2>&1 & types=$$!; \
	$(PYTEST); tests=$$?; \
	wait $$types; checked=$$?; \
	echo "$(BIN)/mypy"; cat build/mypy.out; \
	exit $$(( tests || checked ))

# The suite with every property at its full number of examples (several minutes).
test-deep: install
	$(PYTEST) --hypothesis-profile=deep

# The suite with the machine's wall clock moved to each of TEST_DAYS (only the wall clock:
# tests/support/shiftclock.c), as CI does: no test may depend on today's date.
test-dates: install build/shiftclock.so
	@for day in $(TEST_DAYS); do \
	  shift=$$(( $$(date -u -d "$$day 11:00" +%s) - $$(date -u +%s) )); \
	  echo "== the suite on $$day (wall clock moved by $$shift s) =="; \
	  TRUSTSCAN_SHIFT_SECONDS=$$shift LD_PRELOAD=$(CURDIR)/build/shiftclock.so \
	    $(PYTEST) -p no:cacheprovider || exit 1; \
	done

build/shiftclock.so: tests/support/shiftclock.c
	mkdir -p build
	cc -shared -fPIC -O2 -o $@ $< -ldl

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/bot_bench.py
	$(BIN)/python benchmarks/analysis_bench.py --png
	$(BIN)/python benchmarks/report_bench.py
	$(BIN)/python benchmarks/load_bench.py
	$(BIN)/python benchmarks/taps_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info trustscan-demo build
