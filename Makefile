# Two commands: `make run` and `make test`. Both set up everything they need and are quick the
# second time (each step is skipped when its stamp file is newer than what it depends on).
PY_SYS ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
DEBS   := chromium chromium-driver fonts-noto-cjk poppler-utils redis-server

.PHONY: run test lint setup debs demo bench clean

# `make run` is the one-command demo: it asks for the demo explicitly (`serve` alone never builds one).
run: setup
	$(PY) app.py demo --if-missing
	$(PY) app.py serve

# The browser tests (tests/browser: one headless Chromium at a time) and the rest of the suite run side
# by side, as two pytest processes: the one is mostly Chromium, the other mostly Python and DuckDB, and
# together they fill two cores in about half the time of one run after the other (docs/testing.md).
# The browser run's output follows the other's; the exit status fails if either failed.
test: setup
	$(PY) -m ruff check .
	@mkdir -p var; log=var/test-browser.log; \
	$(PY) -m pytest tests/browser > $$log 2>&1 & browser=$$!; \
	$(PY) -m pytest --ignore=tests/browser; rest=$$?; \
	wait $$browser; status=$$?; \
	echo; echo "=== tests/browser (in parallel with the rest; also in $$log) ==="; cat $$log; \
	test $$rest -eq 0 -a $$status -eq 0

lint: setup
	$(PY) -m ruff check .

setup: debs $(VENV)/.installed

# Debian packages for headless Chromium (browser tests, PDF/figure export) and CJK fonts.
# Installed only when running as root and only when one is missing.
debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: missing Debian packages:$$missing (run as root or install them)"; fi; \
	fi

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PY_SYS) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
