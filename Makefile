# cnaspider: make run | make demo | make serve | make check | make test | make bench
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo serve check test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

## Crawl the live CNA site once into output/ (posts, store, feeds).
run: $(STAMP)
	$(BIN)/scrapy crawl firstnews

## Offline demo: crawl a local copy of CNA (on 127.0.0.1) into the site in build/demo/,
## then build it into build/demo/_site when jekyll is installed.
demo: $(STAMP)
	$(BIN)/python -m cnaspider.demo --output build/demo

## Serve the demo site (build/demo/_site) on 127.0.0.1 and print its URL.
PORT ?= 4000
serve: $(STAMP)
	$(BIN)/python -m cnaspider.demo --output build/demo --serve --port $(PORT)

## The fast lane, for every change: lint, type-check and the tests not marked slow
## (no crawl subprocess, Jekyll, browser or crash test).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow"

## Lint, type-check and run the whole test suite (what CI runs).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks: prints a table and writes bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf build .pytest_cache .ruff_cache
