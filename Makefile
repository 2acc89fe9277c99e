# facerig: two commands do everything on a fresh machine.
#   make demo   install, then rig the bundled example head (GLB + OBJ set + NPZ in out/demo/)
#   make test   install, then run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip

.PHONY: install install-dev devtools demo test test-all lint format bench clean

# What rigging needs (NumPy, SciPy, trimesh, ...; no torch): all `make demo` installs.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

# Tests, lint and training on top: torch pinned, 2.13.0 is the local CPU build (an unpinned
# torch pulls gigabytes of CUDA packages).
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev,train]"
	touch $@

demo: install
	$(BIN)/facerig rig examples/ict_head/head.obj -o out/demo/head.glb -o out/demo/head.npz -o out/demo/obj/
	@echo "next: $(BIN)/facerig view out/demo/head.npz    (interactive viewer on 127.0.0.1)"
	@echo "      $(BIN)/facerig animate out/demo/head.npz -w tests/data_files/livelink_5frames.csv -o out/demo/take.glb"

# Test-only tools: the Khronos glTF validator (npm) and a headless Chromium for the viewer's
# end-to-end test. Each is skipped with a message when it cannot be installed here.
devtools: install-dev node_modules/.package-lock.json .chromium-checked

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: glTF validator tests will be skipped"; fi

.chromium-checked:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$FACERIG_CHROMIUM" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "could not install chromium: the viewer's browser test will be skipped"; \
	else echo "chromium not found: the viewer's browser test will be skipped"; fi
	@touch $@

test: devtools lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

test-all: devtools
	$(BIN)/python -m pytest -q

bench: install-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
