# ModelDesk — the usual entry points. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# ldconfig lives in /sbin, which is not on a normal user's PATH on Debian.
LDCONFIG := $(firstword $(wildcard /sbin/ldconfig /usr/sbin/ldconfig) ldconfig)
# Libraries Qt's xcb platform plugin loads that a Debian desktop may lack: soname=package.
XCB_LIBS := libxcb-cursor.so.0=libxcb-cursor0 libxcb-icccm.so.4=libxcb-icccm4 \
            libxcb-keysyms.so.1=libxcb-keysyms1

.PHONY: help venv run test lint bench docker-up docker-down dist bundle install-desktop

help:
	@echo "make run          create .venv if needed and open the ModelDesk window"
	@echo "make test         run the test suite offscreen (PYTEST_ARGS='-k foo' to narrow)"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make bench        run every benchmark in benchmarks/"
	@echo "make docker-up    start a private Docker daemon (prints the DOCKER_HOST to export)"
	@echo "make docker-down  stop it"
	@echo "make dist         wheel and sdist in dist/ (python -m build)"
	@echo "make bundle       desktop bundle in dist/modeldesk/ and a .tar.gz (PyInstaller)"
	@echo "make install-desktop  add ModelDesk to your application menu (MODELDESK_EXEC=path)"

venv: $(STAMP)

# Redone only when pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

run: venv
	@if [[ "$$(uname -s)" == Linux && ( -z "$${QT_QPA_PLATFORM:-}" || "$${QT_QPA_PLATFORM}" == xcb ) ]]; then \
		missing=""; \
		for pair in $(XCB_LIBS); do \
			$(LDCONFIG) -p | grep -q "$${pair%%=*}" || missing="$$missing $${pair#*=}"; \
		done; \
		if [[ -n "$$missing" ]]; then \
			echo "Qt's xcb platform plugin needs libraries that are not installed."; \
			echo "Install them with:  sudo apt-get install$$missing"; \
			exit 1; \
		fi; \
	fi
	$(VENV)/bin/modeldesk $(ARGS)

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Each benchmark is a module with a __main__ block (run with -m so `benchmarks.data`
# imports work); helpers without one, like data.py, are skipped.
bench: venv
	@set -e; for f in benchmarks/*.py; do \
		grep -q '__name__ == "__main__"' "$$f" || continue; \
		mod="benchmarks.$$(basename "$$f" .py)"; \
		echo "== $$mod"; \
		$(PY) -m "$$mod" $(BENCH_ARGS); \
	done

docker-up:
	@ci/docker-daemon.sh start

docker-down:
	@ci/docker-daemon.sh stop

# -- shipping ModelDesk (packaging/) ------------------------------------------------------

dist: venv
	$(PY) -m pip install --disable-pip-version-check -q build
	$(PY) packaging/build.py dist

bundle: venv
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev,bundle]'
	$(PY) packaging/build.py bundle

# The menu entry starts MODELDESK_EXEC: this clone's .venv by default; for the bundle run its
# own linux/install-desktop.sh, or `make install-desktop MODELDESK_EXEC=dist/modeldesk/modeldesk`.
MODELDESK_EXEC ?= $(VENV)/bin/modeldesk
install-desktop:
	@if [[ "$(MODELDESK_EXEC)" == "$(VENV)/bin/modeldesk" ]]; then $(MAKE) --no-print-directory venv; fi
	sh packaging/linux/install-desktop.sh --exec "$(MODELDESK_EXEC)"
