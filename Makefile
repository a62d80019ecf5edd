# ecomkit: every entry point in one place. `make help` lists the targets.
# Everything a fresh machine needs beyond Rust and Python 3 is installed into .venv here.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup setup-static develop demo test test-rust test-python test-evidently test-wheel \
	test-airflow \
	lint format \
	bench bench-rust wheel sdist clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The Python extension loads LightGBM at run time from LightGBM's own wheel (cargo feature
# `lightgbm-dynamic`): building it needs no CMake and no libclang. Only the Rust crate's
# compiled-in LightGBM (feature `lightgbm`, linted and tested by `make test`) is built from
# source: CMake >= 3.28 comes from requirements-dev.txt (pip's `cmake<4`; Debian's is too
# old), libclang (for bindgen) from Debian's packages when the machine has none
# (libclang-cpp alone is not enough).
$(VENV)/.libclang: | $(BIN)/.installed
	@if ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
	    /usr/lib/*-linux-gnu/libclang.so* /usr/lib/*-linux-gnu/libclang-[0-9]*.so* \
	    2>/dev/null | grep -q .; then \
	  echo "installing libclang-dev (needed to build LightGBM's bindings)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libclang-dev; \
	fi
	touch $@

setup: $(BIN)/.installed ## create .venv with the Python tools

# The database tests start a throw-away PostgreSQL cluster: Debian's server package.
$(VENV)/.postgresql: | $(BIN)/.installed
	@if ! ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | grep -q .; then \
	  echo "installing postgresql (the database tests start a local server)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql; \
	fi
	touch $@

setup-static: setup $(VENV)/.libclang ## also libclang, for the crate's compiled-in LightGBM

develop: setup ## build the Rust extension (release) into .venv
	$(BIN)/maturin develop --release

wheel: setup ## build the abi3 manylinux wheel into dist/
	rm -f dist/ecomkit-*.whl
	$(BIN)/maturin build --release --out dist
	@ls -1 dist/ecomkit-*.whl

sdist: setup ## build the source distribution into dist/
	rm -f dist/ecomkit-*.tar.gz
	$(BIN)/maturin sdist --out dist
	@ls -1 dist/ecomkit-*.tar.gz

# Apache Airflow in a virtualenv of its own, with the wheel and the database drivers (as an
# Airflow worker would have them); the DAG test runs there against a local PostgreSQL.
AIRFLOW_VENV := .venv-airflow
$(AIRFLOW_VENV)/.installed:
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet "apache-airflow==2.11.*" \
	  adbc-driver-postgresql adbc-driver-sqlite
	touch $@

test-airflow: wheel $(AIRFLOW_VENV)/.installed $(VENV)/.postgresql ## run the Airflow DAG on PostgreSQL
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet dist/ecomkit-*.whl
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps dist/ecomkit-*.whl
	ECOMKIT_AIRFLOW_VENV=$(CURDIR)/$(AIRFLOW_VENV) $(BIN)/python -m pytest -q python-tests/test_airflow.py

# Evidently 0.7 needs pandas < 3 (the main .venv has pandas 3), so drift statistics are
# compared with Evidently's own stattests in a virtualenv of its own, against the wheel.
# pandera (pandas backend) is there too: `make bench` times validate() against it.
EVIDENTLY_VENV := .venv-evidently
$(EVIDENTLY_VENV)/.installed:
	$(PYTHON) -m venv $(EVIDENTLY_VENV)
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet "evidently>=0.7.23,<0.8" "pandas<3" \
	  polars pytest "pandera>=0.35,<0.36"
	touch $@

test-evidently: wheel $(EVIDENTLY_VENV)/.installed ## drift statistics against Evidently itself
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet dist/ecomkit-*.whl
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps dist/ecomkit-*.whl
	cd python-tests && ECOMKIT_MONITOR_CASES=400 ../$(EVIDENTLY_VENV)/bin/python -m pytest -q -p no:cacheprovider \
	  -o addopts="" --rootdir=. test_monitor.py

test-wheel: wheel sdist ## install the wheel (no Rust) and the sdist in fresh venvs, smoke-test both
	bash .ci/smoke-wheel dist/ecomkit-*.whl
	bash .ci/smoke-wheel --from-source dist/ecomkit-*.tar.gz

demo: develop ## run the main job on built-in data; artefacts in ./ecomkit-demo/
	$(BIN)/ecomkit demo --out ecomkit-demo
	@echo "artefacts:"; ls -1 ecomkit-demo

test: develop lint test-rust test-python test-evidently test-wheel test-airflow ## lint, every test, the wheel, the DAG

# LightGBM's Rust tests run twice: against the LightGBM compiled in (feature `lightgbm`) and
# against the lib_lightgbm of LightGBM's wheel in .venv (feature `lightgbm-dynamic`).
test-rust: setup-static ## cargo test: unit, rust-tests/ and doc tests (LightGBM ones in release)
	cargo test --quiet
	cargo test --quiet --release --features lightgbm --test rust_tests lightgbm
	ECOMKIT_LIGHTGBM_LIB=$$($(BIN)/python -c 'import lightgbm.libpath as l; print(l._find_lib_path()[0])') \
	  cargo test --quiet --release --features lightgbm-dynamic --test rust_tests lightgbm

test-python: develop $(VENV)/.postgresql ## pytest: python-tests/, docstring examples, README and docs/
	$(BIN)/python -m pytest -q python-tests python/ecomkit README.md docs

lint: setup-static develop ## cargo fmt --check, clippy -D warnings, cargo doc, ruff, stubtest
	cargo fmt --check
	cargo clippy --quiet --release --all-targets --all-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps
	$(BIN)/ruff check python python-tests benches .ci examples
	$(BIN)/ruff format --check python python-tests benches .ci examples
	$(BIN)/python -m mypy.stubtest ecomkit._ecomkit --allowlist .ci/stubtest-allowlist.txt

format: setup ## apply cargo fmt and ruff format
	cargo fmt
	$(BIN)/ruff format python python-tests benches .ci examples
	$(BIN)/ruff check --fix python python-tests benches .ci examples

# drift and validate are timed in the Evidently venv (Evidently and pandera need pandas < 3),
# with the extension just built by `develop` (PYTHONPATH=python).
bench: develop $(EVIDENTLY_VENV)/.installed ## time ecomkit against pandas / polars / Evidently / pandera
	$(BIN)/python benches/compare.py --skip drift --skip validate
	PYTHONPATH=python $(EVIDENTLY_VENV)/bin/python benches/compare.py --case drift --case validate

bench-rust: ## criterion benchmarks of the Rust kernels
	cargo bench --bench kernels

clean: ## remove build outputs, .venv and demo artefacts
	cargo clean
	rm -rf $(VENV) $(AIRFLOW_VENV) ecomkit-demo dist python/ecomkit/*.so
