"""Rig identity: do heads rig the same from two source trees?

Each head goes through ``facerig rig HEAD -o rig.npz`` (no flags, as a user runs it) once with the
``--before`` source tree and once with this tree's ``src/``; recorded per head: the largest absolute
difference of the deltas (in the head's units, and relative to the largest delta), whether the
neutral, names and vertex count match, and the meta keys that one run has and the other lacks.

    nice python benchmarks/rig_identity.py --before /tmp/src_before [--heads public,evalset|PATHS] [--tag T]

``public`` = ``$FACERIG_DATA/heads/*.obj`` and ``examples/ict_head/head.obj``; ``evalset`` = every
mesh of ``/work/evalset/index.json`` (``--evalset``); ``evalset1`` = the first head of each group.
Writes ``benchmarks/results/rig_identity[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _rig(src: Path, head: Path, out: Path, env: dict) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "facerig.cli", "rig", str(head), "-o", str(out)],
        capture_output=True,
        text=True,
        env=dict(env, PYTHONPATH=str(src)),
    )
    rec = {"rc": p.returncode, "seconds": round(time.perf_counter() - t0, 2)}
    if p.returncode:
        rec["message"] = (p.stderr.strip().splitlines() or [""])[-1][:300]
    return rec


def compare(a: Path, b: Path) -> dict:
    """Differences between two rig NPZ files (deltas (K, V, 3), neutral (V, 3), names, meta keys)."""
    za, zb = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
    out: dict = {"same_shape": za["deltas"].shape == zb["deltas"].shape}
    out["same_names"] = [str(n) for n in za["names"]] == [str(n) for n in zb["names"]]
    out["same_neutral"] = bool(
        za["neutral"].shape == zb["neutral"].shape and np.array_equal(za["neutral"], zb["neutral"])
    )
    if out["same_shape"]:
        d = np.abs(za["deltas"].astype(np.float64) - zb["deltas"].astype(np.float64))
        scale = float(np.abs(za["deltas"]).max()) or 1.0
        out["max_abs_diff"] = float(d.max())
        out["max_rel_diff"] = float(d.max() / scale)
        out["identical"] = bool(d.max() == 0.0)
    ma = set(json.loads(str(za["meta"]))) if "meta" in za else set()
    mb = set(json.loads(str(zb["meta"]))) if "meta" in zb else set()
    out["meta_only_before"], out["meta_only_after"] = sorted(ma - mb), sorted(mb - ma)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the source tree to compare with (a copy of src/)")
    ap.add_argument("--heads", default="public", help="public, evalset, evalset1 or comma-separated mesh paths")
    ap.add_argument("--evalset", default="/work/evalset")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.config import data_root

    heads: list[Path] = []
    for h in args.heads.split(","):
        if h == "public":
            heads += [ROOT / "examples" / "ict_head" / "head.obj", *sorted((data_root() / "heads").glob("*.obj"))]
        elif h.startswith("evalset"):
            index = json.loads((Path(args.evalset) / "index.json").read_text())["heads"]
            seen: set[str] = set()
            for e in index:
                if h == "evalset1" and e["group"] in seen:
                    continue
                seen.add(e["group"])
                heads.append(Path(args.evalset) / e["mesh"])
        else:
            heads.append(Path(h))
    env = dict(os.environ)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="facerig_identity_"))
    t_all = time.perf_counter()
    for head in heads:
        a, b = tmp / "before.npz", tmp / "after.npz"
        for p in (a, b):
            p.unlink(missing_ok=True)
        row = {
            "head": str(head),
            "before": _rig(Path(args.before), head, a, env),
            "after": _rig(ROOT / "src", head, b, env),
        }
        if row["before"]["rc"] == 0 and row["after"]["rc"] == 0:
            row.update(compare(a, b))
        else:
            row["identical"] = row["before"]["rc"] == row["after"]["rc"]
        rows.append(row)
        print(f"{head.name:36s} identical={row.get('identical')} max_abs_diff={row.get('max_abs_diff')}", flush=True)
    out = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "command": " ".join(sys.argv),
        "before": str(Path(args.before).resolve()),
        "seconds": round(time.perf_counter() - t_all, 1),
        "heads": len(rows),
        "identical": sum(bool(r.get("identical")) for r in rows),
        "rows": rows,
    }
    dest = ROOT / "benchmarks" / "results" / f"rig_identity{'_' + args.tag if args.tag else ''}.json"
    dest.write_text(json.dumps(out, indent=1))
    print(f"{out['identical']} of {out['heads']} heads rig identically; wrote {dest}")


if __name__ == "__main__":
    main()
