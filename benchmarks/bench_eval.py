"""Accuracy of the baselines (zero rig, deformation transfer) on the validation set.

    .venv/bin/python benchmarks/bench_eval.py [SET_DIR] [--methods zero,dt] [--groups g1,g2]
        [--limit N] [--no-interp] [--dt-mode copy] [--weights RAF_WEIGHTS --tag NAME]
        [--raf-option KEY=VALUE ...]

``SET_DIR`` defaults to ``./evalset`` (write it with ``facerig data make-eval --out evalset``).
For each method, runs :func:`facerig.eval.harness.evaluate` and writes
``benchmarks/results/eval_<method>.json`` (``eval_dt_copy.json`` for ``--dt-mode copy``,
``eval_raf_<tag>.json`` for other raf weights or options, e.g. an ablation's checkpoint or
``--raf-option weld=0`` to rig without stitching open seams), then
prints the group table and the worst shapes as markdown (errors in mm; see
:mod:`facerig.eval.report` for the columns). Seconds and MB per head are measured in-process
(see :mod:`facerig.eval.harness`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from facerig.config import repo_root
from facerig.eval.harness import evaluate, write_json
from facerig.eval.report import markdown_shapes, markdown_table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling _meta, also when a test loads this file by path
from _meta import run_meta  # noqa: E402


def weights_identity(path: str | None) -> dict:
    """Which raf weights a result measured: path, training step, note and the file's SHA-256
    (first 12 hex digits); ``path`` None = the shipped file."""
    import hashlib

    from facerig.models.raf.weights import read_weights, weights_path

    p = Path(path) if path else weights_path()
    meta = read_weights(p)[2]
    return {
        "path": str(p.resolve()),
        "step": meta.get("step"),
        "note": meta.get("note"),
        "sha256": hashlib.sha256(p.read_bytes()).hexdigest()[:12],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("set_dir", nargs="?", default="evalset", help="eval set folder (default ./evalset)")
    p.add_argument("--methods", default="zero,dt", help="comma-separated methods (default zero,dt)")
    p.add_argument("--groups", default=None, help="comma-separated groups (default all)")
    p.add_argument("--limit", type=int, default=None, help="at most N heads per group")
    p.add_argument("--no-interp", action="store_true", help="skip interpenetration ratios")
    p.add_argument("--dt-mode", choices=["deformation", "copy"], default=None, help="dt variant")
    p.add_argument(
        "--weights", default=None, help="raf weights (.npz or training checkpoint .pt) instead of the shipped ones"
    )
    p.add_argument("--tag", default=None, help="suffix of the output name (eval_<method>_<tag>.json)")
    p.add_argument("--out-dir", default=str(repo_root() / "benchmarks" / "results"), help="where eval_<method>.json go")
    p.add_argument(
        "--raf-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option of the raf method (number or string), e.g. weld=0 or proxy_vertices=8000",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    from facerig import parallel

    parallel.configure(fork=True, keep_freed_memory=True)  # as the CLI: speed figures comparable
    raf_options = {}
    for item in args.raf_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--raf-option wants KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        try:
            raf_options[key] = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            raf_options[key] = value
    if not (Path(args.set_dir) / "index.json").is_file():
        print(
            f"{args.set_dir}/index.json not found: run `facerig data make-eval --out {args.set_dir}` first",
            file=sys.stderr,
        )
        return 2
    groups = [g for g in args.groups.split(",") if g] if args.groups else None
    for method in [m for m in args.methods.split(",") if m]:
        options = {"dt_mode": args.dt_mode} if (args.dt_mode and method == "dt") else {}
        if args.weights and method == "raf":
            options["weights"] = str(Path(args.weights).resolve())
        if method == "raf":
            options.update(raf_options)
        t0 = time.perf_counter()
        r = evaluate(
            args.set_dir,
            method,
            groups=groups,
            limit=args.limit,
            interp=not args.no_interp,
            options=options,
            progress=not args.quiet,
        )
        r.update(run_meta(threads=os.environ.get("OMP_NUM_THREADS", "default")))
        if method == "raf":
            r["weights"] = weights_identity(args.weights)
        suffix = f"_{args.dt_mode}" if options.get("dt_mode") == "copy" else ""
        if args.tag:
            suffix += f"_{args.tag}"
        out = Path(args.out_dir) / f"eval_{method}{suffix}.json"
        write_json(out, r)
        print(
            f"\n### {method}{suffix} on {args.set_dir} ({r['overall']['heads']} heads, "
            f"{r['overall']['skipped']} skipped, {time.perf_counter() - t0:.0f} s)\n"
        )
        print(markdown_table(r))
        print("\nworst shapes:\n")
        print(markdown_shapes(r, top=10))
        if r.get("missing"):
            print(f"\nmissing (excluded): {', '.join(r['missing'])}")
        for s in r.get("skipped", []):
            print(f"- skipped {s['group']}/{s['id']}: {s['reason']}")
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
