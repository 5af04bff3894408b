# portal-archive: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit bench bench-quick browser redis archive-tools clean i18n

.PHONY: setup demo test lint typecheck unit bench bench-quick browser doc-tools archive-tools clean i18n

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/portal-archive demo --db data/demo.db

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

unit: setup browser redis doc-tools archive-tools
	$(BIN)/pytest

test: lint typecheck unit

bench: setup redis
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@set -e; for b in bench/*_bench.py; do echo "== $$b"; $(PY) $$b; done

# Small sizes only (each benchmark reads BENCH_QUICK).
bench-quick: setup redis
	@set -e; for b in bench/*_bench.py; do echo "== $$b"; BENCH_QUICK=1 $(PY) $$b; done

# pywb and wacz (test tools, see pyproject's archive-tools) in an environment of their own.
TOOLS       := .venv-archive-tools
TOOLS_STAMP := $(TOOLS)/.installed

$(TOOLS_STAMP): pyproject.toml
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(PYTHON) -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['archive-tools']))" > $(TOOLS)/requirements.txt
	$(TOOLS)/bin/python -m pip install --quiet -r $(TOOLS)/requirements.txt
	touch $(TOOLS_STAMP)

archive-tools: $(TOOLS_STAMP)

# Headless Chromium + driver for the web UI tests (Debian packages; never a downloaded browser).
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  (apt-get update && apt-get install -y chromium chromium-driver)

# Redis for the fleet tests and benchmark (Debian package; the tests start their
# own redis-server on a free loopback port, without persistence).
redis:
	@test -x /usr/bin/redis-server || \
	  (apt-get update && apt-get install -y redis-server)

# The text of attached Word 97-2003 (.doc) and Excel 97-2003 (.xls) documents: antiword,
# and catdoc (catdoc, xls2csv) for the files antiword does not read (Debian packages).
# fonts-dejavu-core: the font the demo portal's PDFs are written in.
doc-tools:
	@test -x /usr/bin/antiword -a -x /usr/bin/catdoc \
	  -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || \
	  (apt-get update && apt-get install -y antiword catdoc fonts-dejavu-core)

# Re-extract the web UI's messages and merge them into the catalogues (the .po files are
# compiled in memory when the UI starts: a clean clone needs no build step).
i18n: setup
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location \
	  --omit-header -o archive/web/locale/messages.pot .
	$(BIN)/pybabel update -i archive/web/locale/messages.pot -d archive/web/locale \
	  --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) $(TOOLS) data/*.db data/*.db-* data/warc data/images .pytest_cache .mypy_cache .ruff_cache
