"""Where the error of RigAnyFace weights is: the face versus the small separate parts.

    .venv/bin/python benchmarks/error_by_part.py [--weights W ...] [--pool DIR] [--n 6]

On the training pool's validation items (``eval_*.npz``: held-out generator heads at proxy
resolution, the same heads the training loop validates on), for each weights file: the active-
vertex mean error (mm; GT motion > 0.5 mm; per shape, then averaged) and the same error counting
only the vertices of *large* connected parts (>= 5 % of the vertices: the skin, and on
single-part heads everything). The difference is what the small separate parts (individual
teeth, lashes, eye-occlusion and tear meshes, eyeballs) cost. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def error_split(model, item, faces: np.ndarray, big_fraction: float = 0.05) -> tuple[float, float]:
    """(active mm, active mm with small-part vertices counted as exact) for one pool item."""
    import torch

    from facerig.geometry.components import connected_components

    with torch.no_grad():
        pred = model(item.xyz, item.ops, torch.eye(item.deltas.shape[0]), item.local).numpy()
    gt = item.deltas.numpy()
    mm = item.scale * item.mm_per_unit
    lab = connected_components(len(item.xyz), faces)
    big = np.bincount(lab)[lab] >= big_fraction * len(lab)
    err = np.linalg.norm(pred - gt, axis=-1) * mm
    act = np.linalg.norm(gt, axis=-1) * mm > 0.5
    full, face = [], []
    for k in np.flatnonzero(item.shape_mask.numpy()):
        a = act[k]
        if a.any():
            full.append(err[k][a].mean())
            face.append((err[k] * big)[a].sum() / a.sum())
    return float(np.mean(full)), float(np.mean(face))


def main(argv: list[str] | None = None) -> int:
    import torch

    from facerig.models.raf.network import RigAnyFace
    from facerig.train.dataset import Pool, default_pool_dir

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", nargs="+", default=["src/facerig/weights/raf.npz"])
    p.add_argument("--pool", default=None, help="pool folder (default: cache_dir('train_pool'))")
    p.add_argument("--n", type=int, default=6, help="validation items (the training loop uses 6)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    pool = Pool(args.pool or default_pool_dir(), "eval_*.npz", k=128)
    if len(pool) == 0:
        print("no validation items in the pool (build them with `facerig train pool --split eval`)")
        return 1
    items = []  # read once, scored for every weights file
    for i in range(min(args.n, len(pool))):
        with np.load(pool.paths[i]) as z:
            items.append((pool[i], z["faces"]))
    print("| weights | active mm | active mm, small parts counted exact | share on small parts |")
    print("|---|---|---|---|")
    for w in args.weights:
        model = RigAnyFace.from_weights_file(w).eval()
        full, face = np.mean([error_split(model, item, faces) for item, faces in items], axis=0)
        print(f"| {w} | {full:.3f} | {face:.3f} | {100 * (full - face) / full:.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
