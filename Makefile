# Two commands: `make run` (set up, then run the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make test-lowest` (not part of `make test`): the suite on Python 3.11 with
# the lowest versions pyproject.toml declares, pinned in constraints/lowest.txt.
PYTHON_LOWEST ?= python3.11
LOWEST := .venv-lowest
CONSTRAINTS_LOWEST := constraints/lowest.txt

.PHONY: run test lint install check-floors test-lowest test-sklearn-full

# The main job (README, "Set up and run"): four tuners on digits, scored by
# 3-fold cross-validation, at Hyperband's epoch budget, over three seeds.
run: $(VENV)/.installed
	$(BIN)/kt-ext compare --dataset digits --cv 3 --max-epochs 4 --seeds 3 \
		--tuners hyperband,random,coarse_to_fine,rank_pruning

# Two processes: one alone leaves a core idle (the suite waits on subprocesses
# and files); a test module's tests stay in one process (--dist loadscope).
PYTEST_PARALLEL := -n 2 --dist loadscope

test: $(VENV)/.installed lint
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# scikit-learn's full estimator checks of SearchCVClassifier and
# SearchCVRegressor (marked sklearn_full, left out of `make test`): one module
# each, so the two processes share them.
test-sklearn-full: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m sklearn_full \
		tests/model_selection/test_checks_classifier_full.py \
		tests/model_selection/test_checks_regressor_full.py

lint: $(VENV)/.installed check-floors
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

test-lowest: check-floors $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest $(PYTEST_PARALLEL)

$(LOWEST)/.installed: pyproject.toml $(CONSTRAINTS_LOWEST)
	rm -rf $(LOWEST)
	$(PYTHON_LOWEST) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet -c $(CONSTRAINTS_LOWEST) -e ".[dev]"
	touch $@

# Every package pinned in constraints/lowest.txt has that version as its `>=`
# floor in pyproject.toml, and every core and `analysis` dependency is pinned.
define CHECK_FLOORS
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
def name(spec):
    return re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower().replace("_", "-")
def floor(spec):
    found = re.search(r">=\s*([^,;\s]+)", spec)
    return found and found.group(1)
declared = {name(s): floor(s) for group in [project["dependencies"], *extras.values()] for s in group}
must_pin = {name(s) for s in project["dependencies"] + extras["analysis"]}
pins = {}
for line in open("$(CONSTRAINTS_LOWEST)"):
    line = line.split("#")[0].strip()
    if line:
        package, _, version = line.partition("==")
        pins[name(package)] = version.strip()
errors = [f"{p}: not pinned in $(CONSTRAINTS_LOWEST)" for p in sorted(must_pin - set(pins))]
errors += [f"{p}: pinned =={v}, pyproject.toml's floor is {declared.get(p)}" for p, v in pins.items() if declared.get(p) != v]
if errors:
    sys.exit("\n".join(errors))
endef
export CHECK_FLOORS

check-floors:
	@$(PYTHON) -c "$$CHECK_FLOORS"
