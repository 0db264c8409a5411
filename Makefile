# The README's two commands: `make run` and `make test`. Both set everything up on
# first use (a .venv with torch installed first from TORCH_SPEC, then the project and
# its test extras); a second run installs nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The tested release; on this machine it is a local CPU wheel. Pin another with
# `make test TORCH_SPEC='torch==2.14.1'` (an unpinned torch pulls a multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed-$(subst =,_,$(subst <,_,$(subst >,_,$(TORCH_SPEC))))
# Debian packages for the real-window (Xvfb) end-to-end tests.
XVFB_PACKAGES := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-cursor0 libegl1 libgl1 \
	libfontconfig1 libdbus-1-3 fonts-dejavu-core

.PHONY: run test check bench mutate setup system-deps clean docs

run: $(STAMP)
	$(PY) main.py

test: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Seconds: pyflakes' rules and syntax errors (ruff), and the import rules (lint-imports);
# both read pyproject.toml. .ci/run makes this before the suite.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	@for script in bench/*.py; do \
		case "$$(basename $$script)" in _*|cases.py|layout_metrics.py|mutate.py) continue;; esac; \
		echo "== $$script"; $(PY) $$script $(BENCH_ARGS) || exit 1; \
	done

# Hand-chosen mutants (bench/mutants.toml) of the engine, the sandbox and the training
# loop, each against its focused tests: prints killed/survived and the kill rate. Minutes,
# so not part of `make test`; MUTATE_ARGS='--only NAME...' runs a few.
mutate: $(STAMP)
	$(PY) bench/mutate.py $(MUTATE_ARGS)

setup: $(STAMP)

# The guide's pictures (docs/images) and its shortcut table, drawn by the app's own export.
docs: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_images.py

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

# Installs the Xvfb test packages when they are missing and this user can (root with
# apt-get); otherwise the real-window tests skip and say why.
system-deps:
	@if command -v Xvfb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing the Debian packages for the real-window tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(XVFB_PACKAGES) >/dev/null) || echo "note: could not install $(XVFB_PACKAGES); Xvfb tests will skip"; \
	else \
		echo "note: Xvfb is missing and cannot be installed here; the real-window tests will skip"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
