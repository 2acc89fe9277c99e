#!/usr/bin/env bash
# Before / after figures of a change to the rig, on one machine in one run (BENCHMARKS.md, "Eyelids").
#
#   benchmarks/eyelids_before_after.sh BASE_SRC TAG [before|after|both]
#
# BASE_SRC: the src/ folder of the code to compare with (e.g. `git archive b12ebe0 src | tar -x -C /tmp/base`);
# "after" is this tree. Each side: out_of_family.py (author rigs: blink completion, relative, si),
# `facerig rig` + check_calibration.py heads on the 12 public heads, and `facerig eval` on $EVALSET
# (default /work/evalset), and each rig's step timings (its meta). Writes
# benchmarks/results/eyelids_ab/{before,after}_{TAG}_*.json.
# Needs FACERIG_DATA; PYTHON defaults to python.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE_SRC="$(cd "$1" && pwd)"; TAG="$2"; WHICH="${3:-both}"
PY="${PYTHON:-python}"; EVALSET="${EVALSET:-/work/evalset}"
OUT="$ROOT/benchmarks/results/eyelids_ab"; mkdir -p "$OUT"
side() {  # side NAME SRC
  local name="$1" src="$2" tmp; tmp="$(mktemp -d)"
  echo "== $name ($src) $(date -u +%FT%TZ)"
  mkdir -p "$tmp/benchmarks/results" "$tmp/rigs"  # this tree's scripts, each side's library
  cp "$ROOT"/benchmarks/out_of_family.py "$ROOT"/benchmarks/check_calibration.py "$tmp/benchmarks/"
  PYTHONPATH="$src" "$PY" "$tmp/benchmarks/out_of_family.py" --tag "$name"
  cp "$tmp/benchmarks/results/out_of_family_$name.json" "$OUT/${name}_${TAG}_out_of_family.json"
  for h in "$FACERIG_DATA"/heads/*.obj; do
    PYTHONPATH="$src" "$PY" -m facerig.cli rig "$h" -o "$tmp/rigs/$(basename "$h" .obj).npz" > /dev/null
  done
  PYTHONPATH="$src" "$PY" - "$tmp/rigs" "$OUT/${name}_${TAG}_rig_timings.json" <<'PYEOF'
import json, sys
from pathlib import Path
import numpy as np
out = {}
for p in sorted(Path(sys.argv[1]).glob("*.npz")):
    with np.load(p, allow_pickle=True) as z:
        meta = json.loads(str(z["meta"]))
    out[p.stem] = {"seconds": meta.get("seconds"), **meta.get("raf", {}).get("timings", {})}
Path(sys.argv[2]).write_text(json.dumps(out, indent=1))
PYEOF
  PYTHONPATH="$src" "$PY" "$tmp/benchmarks/check_calibration.py" heads --rigs "$tmp/rigs" --out "$OUT/${name}_${TAG}_check_heads.json"
  PYTHONPATH="$src" "$PY" -m facerig.cli eval --method raf --set "$EVALSET" --quiet --json "$OUT/${name}_${TAG}_eval.json" > /dev/null
  rm -rf "$tmp"
}
[[ "$WHICH" == after ]] || side before "$BASE_SRC"
[[ "$WHICH" == before ]] || side after "$ROOT/src"
echo "done $(date -u +%FT%TZ)"
