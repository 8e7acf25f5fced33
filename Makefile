# Resonanz: `make demo` serves the demo, `make test` runs the whole test suite.
# Both create .venv with the machine's python3 when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# the suite runs in three processes (pytest-xdist) on the two cores: much of it waits for a
# browser, a server it started or PostgreSQL, and a third process fills those waits
# (2026-11-29, fresh clone at load 3-5: 313 s with two, 280 s with three; again after the
# headless shell and ONE_ENGINE, CPU counted whole: two 715 s of CPU and 14.7 min wall at a
# median load of 8, three 736 s and 11.3 min at 9); TEST_WORKERS=0 runs it in this one
TEST_WORKERS ?= 3
# The three processes end together: at load 10-12 within 3 s of each other (1132-1136 s), and
# a replay of xdist's LoadScheduling over that run's 1139 measured durations gave 1082 s
# against 1080 s for a perfect split; --maxschedchunk 1 (1084 s) or the browser tests longest
# first (1081 s, with chunks of 2 1147 s) gained nothing (2026-11-29). The suite is bound by
# its CPU: the wall time on 2 cores is at least half of it.
# --maxschedchunk 2: each process is handed two tests at a time, in the suite's order (long
# files first, browser tests last). By default the first hand-out is a block of a quarter of
# each process's share, some 86 tests in a row: the first process got the two schema fuzz
# parts, the workers and crash tests and some 80 more behind them, none of which another
# process could take over when it ran out of work
SCHEDULE := --maxschedchunk 2
# The suite's CPU (`/usr/bin/time -v make test`, user+sys of make and every process it waits
# for; PostgreSQL's own not counted), 2026-11-29 on the shared 2-core machine at load 8-23,
# three workers: 663 s, then 604 s after the schema fuzz's coverage phase moved to -m slow
# (fuzz 68 -> 36 s), the demo database kept the coordinator's overview (a server's first
# view 3.6 -> 0.6 s) and screenshots were kept only with RESONANZ_TEST_ARTIFACTS. Wall at
# that load 19.5 and 18.1 min (not comparable with a quiet machine).
# `/usr/bin/time` misses most of Chromium's CPU (its renderers are not reaped by a process it
# waits for). Counted whole (make test under a child subreaper that reaps every process of
# the tree; PostgreSQL's server from its postmaster's /proc counters, a cluster of its own;
# docs/testing.md), three workers, 2026-11-29: 800 s of the tree (Chromium 260 s of it) and
# 75 s of PostgreSQL, 875 s, wall 16.5 min at load 7-17; then 689 s and 47 s, 736 s, wall
# 11.3 min at load 8-13, after the browser tests moved to Chromium's headless shell
# (Chromium 260 -> 135 s) and the tests that prove nothing about SQL or storage to SQLite
# only (ONE_ENGINE; PostgreSQL's server 75 -> 47 s). What is left of the 736 s: the test
# processes' own ~390 s, what they start besides Chromium (the CLI, the schema fuzz's `st`,
# the crash tests' and the browser tests' servers) ~165 s, Chromium 135 s, PostgreSQL 47 s.
# `bench/suite_cpu.py make test` prints the tree's figure.

# The plotly.js partial bundle the dashboards serve (traces bar, pie, scatter), pinned by
# version and by the SHA-256 of the npm tarball; `make plotly` fetches it again and writes its
# brotli file (quality 11 takes seconds, too long for a server's first request) and its gzip
# file made by zopfli (only here: 6 s for the bundle): 379,308 bytes instead of 395,403 from
# gzip -9, so plotly.js, dashboard.js and plotly-template.js stay within issue 17's 400 kB
# gzipped (401,179 bytes with gzip -9).
ZOPFLI_VERSION := 0.4.3
PLOTLY_VERSION := 4.1.1
PLOTLY_TGZ_SHA256 := ea907f854b6cec4f6a2fa71540ec019a21ed2c61e6a109ddd5c072103a96eed0
VENDOR := frontend/static/vendor

.PHONY: demo test bench lint typecheck format i18n clean audit plotly

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: pip would compile every module of every package it installs (plotly's thousands
# of validators, scipy's and hypothesis' tests among them): 98 s of CPU for the install instead
# of 57 s with the compile left out (2026-11-30, fresh clone, `time`). Then what the app and the
# suite import is compiled once, here (13 s of CPU): `make demo` starts as fast where
# PYTHONDONTWRITEBYTECODE is set, and the suite's four processes do not each compile the same
# modules at the same time (collecting the suite took 21.4 s of CPU a process in a fresh venv
# without it, 8.5 s with it, 6.0 s with everything compiled)
WARM_IMPORTS := survey.app, survey.cli, survey.dashboard.routes, analysis, scipy.stats, pandas, \
  statsmodels.api, pyarrow, openpyxl, hypothesis, playwright.sync_api, httpx, PIL.Image, xdist, \
  pytest, pytest_asyncio
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -c 'import $(WARM_IMPORTS)'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/resonanz demo

# The suite keeps the bytecode of what it compiles even where PYTHONDONTWRITEBYTECODE is set
# (it is on the machine the suite is measured on): there, each of the three workers rewrote
# and compiled every test module (pytest's assertion rewriting) and compiled the project's
# modules, and so did every server and CLI process the tests start. Now the first process to
# compile a module writes its __pycache__ (ignored by git) and the others read it. Collecting
# the suite took 12.5 s of CPU a process without the cache and 5.5-6.5 s with it; importing
# the app 0.3 s less in each server or CLI process (2026-11-29, load 6-10). A fresh clone's
# first run gains little: its three workers compile the same modules at the same time
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(TEST_WORKERS) $(SCHEDULE) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/respond_page.py
	$(BIN)/python bench/cycle.py
	$(BIN)/python bench/masking.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# strict mypy on analysis/ and survey/ (settings in pyproject.toml); .ci/run runs it too
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

audit: $(STAMP)
	$(BIN)/python .ci/audit.py

i18n: $(STAMP)
	$(BIN)/resonanz i18n update

plotly: $(STAMP)
	rm -f $(VENDOR)/plotly-*
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent plotly.js-basic-dist-min@$(PLOTLY_VERSION) >/dev/null \
	  && echo "$(PLOTLY_TGZ_SHA256)  plotly.js-basic-dist-min-$(PLOTLY_VERSION).tgz" | sha256sum -c --quiet - \
	  && tar xzf plotly.js-basic-dist-min-$(PLOTLY_VERSION).tgz \
	  && cp package/plotly-basic.min.js $(CURDIR)/$(VENDOR)/plotly-basic-$(PLOTLY_VERSION).min.js \
	  && cp package/LICENSE $(CURDIR)/$(VENDOR)/plotly-basic-$(PLOTLY_VERSION).LICENSE.txt \
	  && rm -rf $$tmp
	$(BIN)/python -c "import brotli, pathlib; p = pathlib.Path('$(VENDOR)/plotly-basic-$(PLOTLY_VERSION).min.js'); \
	  p.with_name(p.name + '.br').write_bytes(brotli.compress(p.read_bytes(), mode=brotli.MODE_TEXT, quality=11))"
	$(BIN)/python -m pip install --quiet 'zopfli==$(ZOPFLI_VERSION)'
	$(BIN)/python -c "import pathlib, zopfli.gzip; p = pathlib.Path('$(VENDOR)/plotly-basic-$(PLOTLY_VERSION).min.js'); \
	  p.with_name(p.name + '.gz').write_bytes(zopfli.gzip.compress(p.read_bytes()))"

clean:
	rm -rf $(VENV) resonanz.sqlite3 resonanz.sqlite3-wal resonanz.sqlite3-shm resonanz.secret
