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
# What `make bench` compares against (bench/cli_speed.py: torchviz's make_dot(...).render();
# bench/layout_vs_dot.py: dot's layout): torchviz and the graphviz package it imports, in
# the venv, and Graphviz's `dot` from Debian. Only the benchmarks need them, not `make test`.
BENCH_PIP := "torchviz==0.0.3" "graphviz>=0.20"
BENCH_PACKAGES := graphviz

.PHONY: run test check bench bench-deps mutate setup system-deps clean docs

run: $(STAMP)
	$(PY) main.py

test: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Seconds: pyflakes' rules and syntax errors (ruff), and the import rules (lint-imports);
# both read pyproject.toml. .ci/run makes this before the suite.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP) bench-deps
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

# Installs torchviz into the venv and Graphviz's `dot` (Debian: graphviz, as root with
# apt-get) when they are missing; where one cannot be installed, bench/cli_speed.py says
# "not measured here" for torchviz instead of failing. A second run installs nothing.
bench-deps: $(STAMP)
	@$(PY) -c "import torchviz, graphviz" 2>/dev/null || \
		$(PY) -m pip install --quiet --disable-pip-version-check $(BENCH_PIP) || \
		echo "note: could not install torchviz; the torchviz comparison will not be measured"
	@if command -v dot >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Graphviz (dot) for the benchmarks against torchviz and dot"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(BENCH_PACKAGES) >/dev/null) || echo "note: could not install $(BENCH_PACKAGES); the torchviz comparison will not be measured"; \
	else \
		echo "note: Graphviz's dot is missing and cannot be installed here; the torchviz comparison will not be measured"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
