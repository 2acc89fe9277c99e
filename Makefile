# facerig: two commands do everything on a fresh machine.
#   make demo   install, then rig the bundled example head (GLB + OBJ set + NPZ in out/demo/)
#   make test   install, then run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip

.PHONY: install devtools demo test test-all bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch pinned: 2.13.0 is the local CPU build (an unpinned torch pulls CUDA packages)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev,train]"
	touch $@

demo: install
	$(BIN)/facerig rig examples/ict_head/head.obj -o out/demo/head.glb -o out/demo/head.npz -o out/demo/obj/
	@echo "next: $(BIN)/facerig view out/demo/head.npz    (interactive viewer on 127.0.0.1)"
	@echo "      $(BIN)/facerig animate out/demo/head.npz -w tests/data_files/livelink_5frames.csv -o out/demo/take.glb"

# Test-only tools: the Khronos glTF validator (npm) and a headless Chromium for the viewer's
# end-to-end test. Each is skipped with a message when it cannot be installed here.
devtools: install node_modules/.package-lock.json .chromium-checked

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

test: devtools
	$(BIN)/python -m pytest -q -m "not slow"

test-all: devtools
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
