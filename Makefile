# Two commands for a newcomer: `make demo` and `make test`. Both run `make setup`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DF := $(BIN)/demoforge
APT_PACKAGES := chromium fonts-liberation postgresql
export DEMOFORGE_HOME ?= $(CURDIR)/.demoforge

.PHONY: setup system-deps demo test clean

# Debian packages, only when something is missing (needs root or sudo).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-liberation"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned to the CPU build that pip finds locally; then the project.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: system-deps $(VENV)/.installed

demo: setup
	$(BIN)/python -m demoforge.demo

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .demoforge
