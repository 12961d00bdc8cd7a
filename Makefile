# Commands: `make run` (set up, then run the main job), `make test` (lint and
# the suite) and `make ci` (what .ci/run calls: `make test`, then the floors).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make test-lowest` (not part of `make test`): the suite on Python 3.11 with
# the lowest versions pyproject.toml declares, pinned in constraints/lowest.txt.
# Python 3.11 where it is installed under that name, else $(PYTHON) (the
# floors are pinned for 3.11; a newer Python may not install them).
PYTHON_LOWEST ?= $(shell command -v python3.11 || echo $(PYTHON))
LOWEST := .venv-lowest
CONSTRAINTS_LOWEST := constraints/lowest.txt

.PHONY: run test lint typecheck docs wheel-check install check-floors test-lowest test-floors test-sklearn-full test-jax test-torch ci

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
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) --doctest-modules kt_ext

# scikit-learn's full estimator checks of SearchCVClassifier and
# SearchCVRegressor (marked sklearn_full, left out of `make test`): one module
# each, so the two processes share them.
test-sklearn-full: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m sklearn_full \
		tests/model_selection/test_checks_classifier_full.py \
		tests/model_selection/test_checks_regressor_full.py

lint: $(VENV)/.installed check-floors typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy at its default strictness ([tool.mypy] in pyproject.toml): about 25 s
# cold on a busy 2-core machine, 2 s with its cache.
typecheck: $(VENV)/.installed
	$(BIN)/mypy

# The docs site (docs/, mkdocs.yml) into site/; a warning fails it.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Build the sdist and wheel, install the wheel in a fresh venv outside the tree
# (TensorFlow from PyPI: minutes), import kt_ext, `kt-ext --help`, one trial.
wheel-check: $(VENV)/.installed
	BUILD_PYTHON=$(BIN)/python VENV_PYTHON=$(PYTHON) bash .ci/wheel_check.sh

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

test-lowest: check-floors $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest $(PYTEST_PARALLEL)

# The tests marked `floors` (the seam, lean trials, the decision record and
# saved folders, SearchCV's basics, cross-validation) at the floors; CI runs
# them after `make test`, as the whole suite at the floors takes too long.
test-floors: check-floors $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest $(PYTEST_PARALLEL) -m floors

# The tests marked `backends` (docs/backends.md: both tuners, cv=, SearchCV,
# resume, the analysis and report, callbacks, the CLI) under another Keras 3
# backend, each in a venv of its own beside .venv (which stays what `make test`
# tests: TensorFlow alone), with the backend at its floor (constraints/).
# `make test-jax` is part of `make ci`; `make test-torch` is not (PyPI's Linux
# torch wheel brings the CUDA stack, several GB).
JAX := .venv-jax
TORCH := .venv-torch

test-jax: check-floors $(JAX)/.installed
	KERAS_BACKEND=jax $(JAX)/bin/python -m pytest $(PYTEST_PARALLEL) -m backends

test-torch: check-floors $(TORCH)/.installed
	KERAS_BACKEND=torch $(TORCH)/bin/python -m pytest $(PYTEST_PARALLEL) -m backends

$(JAX)/.installed $(TORCH)/.installed: .venv-%/.installed: pyproject.toml constraints/%.txt
	rm -rf .venv-$*
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-$*/bin/python -m pip install --quiet -c constraints/$*.txt -e ".[dev,$*]"
	touch $@

# CI (.ci/run): each step under its own time limit (seconds), its time printed.
CI_TEST_LIMIT ?= 2400
CI_FLOORS_LIMIT ?= 900
CI_JAX_LIMIT ?= 1200
define timed
	@start=$$(date +%s); status=0; \
	timeout --kill-after=30 $(2) $(MAKE) --no-print-directory $(1) || status=$$?; \
	echo "== make $(1): $$(( $$(date +%s) - start )) s (limit $(2) s), exit $$status"; \
	exit $$status
endef

ci:
	$(call timed,test,$(CI_TEST_LIMIT))
	$(call timed,test-sklearn-full,900)
	$(call timed,test-floors,$(CI_FLOORS_LIMIT))
	$(call timed,test-jax,$(CI_JAX_LIMIT))
	$(call timed,docs,600)
	$(call timed,wheel-check,1200)

$(LOWEST)/.installed: pyproject.toml $(CONSTRAINTS_LOWEST)
	rm -rf $(LOWEST)
	$(PYTHON_LOWEST) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet -c $(CONSTRAINTS_LOWEST) -e ".[dev]"
	touch $@

# Every package pinned in constraints/lowest.txt, jax.txt and torch.txt has that
# version as its `>=` floor in pyproject.toml, every core and `analysis`
# dependency is pinned in lowest.txt, and each backend extra in its own file.
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
def read_pins(path):
    pins = {}
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            package, _, version = line.partition("==")
            pins[name(package)] = version.strip()
    return pins
pins = read_pins("$(CONSTRAINTS_LOWEST)")
errors = [f"{p}: not pinned in $(CONSTRAINTS_LOWEST)" for p in sorted(must_pin - set(pins))]
for backend in ("jax", "torch"):
    path = f"constraints/{backend}.txt"
    backend_pins = read_pins(path)
    errors += [f"{p}: not pinned in {path}" for p in sorted({name(s) for s in extras[backend]} - set(backend_pins))]
    pins.update({f"{p} ({path})": v for p, v in backend_pins.items()})
errors += [f"{p}: pinned =={v}, pyproject.toml's floor is {declared.get(p.split()[0])}" for p, v in pins.items() if declared.get(p.split()[0]) != v]
if errors:
    sys.exit("\n".join(errors))
endef
export CHECK_FLOORS

check-floors:
	@$(PYTHON) -c "$$CHECK_FLOORS"
