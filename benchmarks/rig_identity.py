"""Are two checkouts' rigs the same? ``facerig rig`` of each head with this checkout and another
(benchmark, not a test).

Each head is rigged in a fresh process by both checkouts (``python -m facerig.cli rig HEAD -o
OUT.npz --allow-degenerate --no-head-check --allow-unreferenced``, operator cache off; ``--head-check``: without
``--no-head-check``, a head both refuse counting as the same when the messages agree), and the NPZs are compared: the largest
absolute delta difference (and relative to the largest delta), whether every array is the same
bit for bit (``deltas``, ``neutral``, ``faces``, ``parts``, ``names``), and which ``meta`` entries
differ (the timings and seconds, the fold step's too, left out). Heads: the bundled example head, the ICT neutral
remeshed to ~60k vertices (as ``bench_rig_speed.py`` makes it; needs the ICT data) and public
heads of ``FACERIG_DATA/heads``.

Run: ``.venv/bin/python benchmarks/rig_identity.py --other-src OLD/src [--heads weboji_tiger ...]
[--evalset /work/evalset] [--no-defaults] [--out benchmarks/results/rig_identity.json]``
(``--heads`` takes names in ``FACERIG_DATA/heads`` or mesh paths; ``--evalset`` adds every mesh of
that validation set's ``index.json``; ``--no-defaults`` leaves out the example and 60k heads) (e.g. ``git archive COMMIT src | tar -x -C
/tmp/old`` then ``--other-src /tmp/old/src``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ("weboji_tiger", "nefertiti_bust", "rocketbox_male_adult_08")


def _rig(head: Path, out: Path, src: str, head_check: bool = False) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()), FACERIG_CACHE=tempfile.mkdtemp(prefix="facerig_id_"))
    flags = ["--allow-degenerate", "--allow-unreferenced"] + ([] if head_check else ["--no-head-check"])
    cmd = [sys.executable, "-m", "facerig.cli", "rig", str(head), "-o", str(out), "-q", *flags]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"rig of {head} with {src} failed: {proc.stderr.strip()[-400:]}")


def _meta(z) -> dict:
    m = json.loads(str(z["meta"]))
    m.pop("seconds", None)
    for key in ("raf", "orientation", "untangled"):
        if isinstance(m.get(key), dict):
            m[key].pop("timings", None)
            m[key].pop("seconds", None)
    return m


def compare(a: Path, b: Path) -> dict:
    """The differences between two rig NPZs (see module doc)."""
    za, zb = np.load(a, allow_pickle=True), np.load(b, allow_pickle=True)
    da, db = za["deltas"], zb["deltas"]
    diff = float(np.abs(da.astype(np.float64) - db).max()) if da.shape == db.shape else float("inf")
    largest = float(np.abs(da).max())
    arrays = {
        k: bool(za[k].tobytes() == zb[k].tobytes() and za[k].shape == zb[k].shape) for k in za.files if k != "meta"
    }
    ma, mb = _meta(za), _meta(zb)
    meta_diff = sorted(k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k))
    return {
        "max_abs_delta_diff": diff,
        "relative_to_largest_delta": diff / max(largest, 1e-30),
        "largest_delta": largest,
        "bit_identical_arrays": arrays,
        "meta_entries_differing": meta_diff,
        "identical": diff == 0 and all(arrays.values()) and not meta_diff,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other-src", required=True, help="the other checkout's src/ folder")
    ap.add_argument("--heads", nargs="*", default=list(PUBLIC), help="public heads (names in FACERIG_DATA/heads)")
    ap.add_argument("--evalset", default=None, help="also every mesh of this validation set (index.json)")
    ap.add_argument("--no-defaults", action="store_true", help="leave out the example head and the 60k head")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rig_identity.json"))
    ap.add_argument("--head-check", action="store_true", help="rig with the head check on (as `facerig rig` does)")
    args = ap.parse_args()
    from facerig.config import data_root

    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        heads = [] if args.no_defaults else [("example head", ROOT / "examples" / "ict_head" / "head.obj")]
        try:
            if args.no_defaults:
                raise RuntimeError("--no-defaults")
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from bench_rig_speed import _heads

            heads.append(_heads(tmp)[1])  # the ICT neutral remeshed to ~60k vertices
        except Exception as e:  # noqa: BLE001 - no ICT data: the other heads still count
            print(f"no 60k head ({e})", flush=True)
        for name in args.heads:
            path = Path(name)
            heads.append((path.stem, path) if path.suffix else (name, data_root() / "heads" / f"{name}.obj"))
        if args.evalset:
            for item in json.loads((Path(args.evalset) / "index.json").read_text())["heads"]:
                heads.append((item["id"], Path(args.evalset) / item["mesh"]))
        for name, head in heads:
            a, b = tmp / "this.npz", tmp / "other.npz"
            errors = []
            for out, src in ((a, str(ROOT / "src")), (b, args.other_src)):
                try:
                    _rig(head, out, src, args.head_check)
                    errors.append(None)
                except RuntimeError as e:  # with --head-check: a head the check refuses
                    errors.append(str(e).split(" failed: ", 1)[-1])
            if any(errors):
                if not all(errors):
                    raise RuntimeError(f"{name}: only one checkout rigged it: {errors}")
                same = errors[0] == errors[1]
                rows.append({"head": name, "refused_by_both": errors[1][-300:], "identical": same})
                print(
                    f"{name:26s} refused by both ({'the same message' if same else 'DIFFERENT messages'})", flush=True
                )
                continue
            row = {"head": name, **compare(a, b)}
            rows.append(row)
            print(
                f"{name:26s} max |diff| {row['max_abs_delta_diff']:.3g} (largest delta {row['largest_delta']:.4g}) "
                f"{'bit-identical' if row['identical'] else 'DIFFERENT: ' + str(row)}",
                flush=True,
            )
    meta = run_meta(other_src=args.other_src)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
