"""Run every benchmark in this folder in turn (``make bench``).

Each script prints a markdown table and writes ``benchmarks/results/<name>.json``; copy the
tables into BENCHMARKS.md with the date and machine they print. Data-dependent benchmarks need
../shared/data (or FACERIG_DATA) and, for accuracy, an eval set (`facerig data make-eval --out evalset`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_operators.py",
    "bench_export.py",
    "bench_rig_speed.py",
    "network_cost.py",
    "bench_eval.py",
    "bench_raf_accuracy.py",
    "proxy_floor.py",
    "frame_scale.py",
    "seams.py",
]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n## {name}\n", flush=True)
        rc = subprocess.call([sys.executable, str(path), *sys.argv[1:]])
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
