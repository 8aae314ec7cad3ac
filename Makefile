# avledger — set-up and the two everyday commands.
#   make demo   venv + install, a simulated recorder docked and ingested, a summary shown
#   make test   venv + dev deps (+ Debian packages when root), then the whole test suite
#   make docs   docs/reference.md regenerated from the CLI, then the site built into site/
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/demo-home
PYTEST_ARGS ?=
# Debian packages the tests and the dock use (real udev, loop devices, FAT/exFAT, FUSE).
# Archive discs: xorriso writes and reads the ISO images; rsvg-convert renders the labels to
# PDF, with a CJK font for their Chinese text. Copy packages are checked as a court would,
# with sha256sum (coreutils) and the system python3. Reports: headless chromium prints them
# to PDF (Noto CJK for the Chinese edition); poppler-utils lets the tests read the PDF back.
# The PostgreSQL catalog tests start a throw-away server from postgresql on 127.0.0.1.
# The real-installation tests run staff logins through sudo with the shipped sudoers rule
# (packaging/sudoers.d) and make test accounts with useradd (passwd).
# Redaction renders with ffmpeg (and checks with ffprobe) from the ffmpeg package.
APT_PACKAGES := udev util-linux dosfstools mtools fusefat exfat-fuse exfatprogs fuse3 \
                e2fsprogs b3sum xorriso sqlite3 systemd librsvg2-bin fonts-wqy-zenhei \
                python3 coreutils chromium fonts-noto-cjk poppler-utils \
                postgresql sudo passwd ffmpeg

.PHONY: demo test sysdeps install dev bench bench-all crash lint clean

$(BIN)/avledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

install: $(BIN)/avledger

$(VENV)/.dev: $(BIN)/avledger
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

dev: $(VENV)/.dev

sysdeps:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "sysdeps: not root, skipping Debian packages ($(APT_PACKAGES)); root-only tests will skip"; \
	else \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "sysdeps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	fi

demo: $(BIN)/avledger
	AVLEDGER_HOME=$(DEMO_HOME) BIN=$(BIN) bash scripts/demo.sh

test: sysdeps $(VENV)/.dev
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

# The speed table (issue 17: ingest, start-up, S3 against their peers) in one run of a few
# minutes; bench-all runs every bench/*_bench.py (long: the report and retention benches
# generate a million clips each).
bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py speed s3

bench-all: $(VENV)/.dev
	$(BIN)/python bench/run_all.py

# The ingest crash tests at full size: 100 SIGKILLs during big clips, 100 during 2,000 tiny
# clips (the suite runs 20 of the latter).
crash: $(VENV)/.dev
	CRASH_KILLS=100 CRASH_TINY_KILLS=100 CRASH_TINY_CLIPS=2000 \
	    $(BIN)/pytest -q -p no:cacheprovider tests/test_ingest_crash.py

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

# The command reference is generated from the Typer app by Typer's own generator;
# tests/test_docs.py runs 'make reference' into a temporary file and compares.
.PHONY: docs reference
REFERENCE ?= docs/reference.md

reference:
	$(BIN)/typer avledger.cli.main utils docs --name avledger --title "Command reference" \
	    --output $(REFERENCE)

docs: $(VENV)/.dev
	$(MAKE) --no-print-directory reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(DEMO_HOME) build dist site src/*.egg-info .pytest_cache
