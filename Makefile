# facerig: two commands do everything on a fresh machine.
#   make demo   install, then rig the bundled example head (GLB + OBJ set + NPZ in out/demo/)
#   make test   install, then run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip

.PHONY: install demo test test-all bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch pinned: 2.13.0 is the local CPU build (an unpinned torch pulls CUDA packages)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"
	touch $@

demo: install
	$(BIN)/facerig rig examples/ict_head/head.obj -o out/demo/head.glb -o out/demo/head.npz -o out/demo/obj/

test: install
	$(BIN)/python -m pytest -q -m "not slow"

test-all: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
