"""Regenerate the bundled example head ``examples/ict_head/`` deterministically.

    .venv/bin/python examples/make_example.py [--out examples/ict_head]

Writes ``head.obj`` (a held-out ICT FaceKit identity: the ``"example"`` identity stream, seed 0,
never used for training or the eval set; full head with all 56 parts, original quads and UVs,
centimetres, +Y up, face toward +Z, vertices rounded to 1e-4 cm) and ``head.landmarks.json``
(the 68 Multi-PIE landmarks as [ICT template vertex, head vertex] pairs; the head keeps the ICT
vertex order, so the pairs are identical). Needs ICT FaceKit (``facerig data info``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facerig.data.evalset import landmarks_json
from facerig.data.families import ICTFamily, split_rng
from facerig.data.generator import SampleConfig, identity_sample
from facerig.io.atomic import write_text_atomic
from facerig.io.obj import write_obj

SEED = 0
HEADER = """facerig example head: a random identity of the ICT FaceKit morphable model
(neutral + sum_i w_i identity_mode_i, w_i ~ N(0, 1), seed 0 of facerig's "example" stream).
Derived from ICT FaceKit, Copyright (c) 2020 USC Institute for Creative Technologies, MIT licence
(see ATTRIBUTION.md). Units: centimetres. +Y up, face toward +Z."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "ict_head"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fam = ICTFamily()
    cfg = SampleConfig(split="example", p_exaggerate=0.0)
    s = identity_sample(fam, split_rng(SEED, "example"), cfg)
    v = np.round(s.vertices, 4)
    write_obj(out / "head.obj", v, s.polygons, uv=s.uv, uv_faces=s.uv_faces, header=HEADER)
    lm = landmarks_json(s, fam.landmarks68)
    write_text_atomic(out / "head.landmarks.json", json.dumps(lm) + "\n")
    print(f"wrote {out / 'head.obj'} ({v.shape[0]} vertices, {(out / 'head.obj').stat().st_size / 1e6:.1f} MB) "
          f"and {out / 'head.landmarks.json'} ({len(lm['pairs'])} landmarks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
