"""Fitting the image inversion test-time augmentation (:mod:`facerig.models.image_inversion.tta`) for a weights
file: the modality blend and an output calibration fitted on readings taken with the chosen views.

The network is read in every view (mirror on, as ``facerig invert-image`` reads) on the ``SPLITS["calib"]``
renders of :mod:`facerig.train.image_inversion` (training families, identities and warp seeds no training split
used; the renders :mod:`facerig.train.image_inversion_calibration` fits on), in each modality; the view readings
are averaged, the per-shape blend of the RGB-only, normals-only and both readings is fitted for frames given both
modalities (:func:`fit_blend`), then a monotone map per shape and modality
(:func:`facerig.models.image_inversion.calibration.fit_calibration`) on the averaged (blended) readings. No
held-out or other authors' head is read. The views were chosen by ``benchmarks/image_inversion_tta.py``.

``python -m facerig.train.image_inversion_tta --init WEIGHTS.npz --export OUT.npz``: the weights and mirror-only
calibration of ``--init`` unchanged plus ``tta/*`` (and ``meta["tta"]``).
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

log = logging.getLogger("facerig")

#: The shipped views (dx, dy, zoom, gain) per name; chosen on the calib split (benchmarks/image_inversion_tta.py).
VIEW_SETS = {
    "mirror": [[0, 0, 1, 1]],
    "shift2": [[0, 0, 1, 1], [2, 0, 1, 1], [-2, 0, 1, 1], [0, 2, 1, 1], [0, -2, 1, 1]],
    "shift2_x": [[0, 0, 1, 1], [2, 0, 1, 1], [-2, 0, 1, 1]],
    "shift4": [[0, 0, 1, 1], [4, 0, 1, 1], [-4, 0, 1, 1], [0, 4, 1, 1], [0, -4, 1, 1]],
    "shift4_y": [[0, 0, 1, 1], [0, 4, 1, 1], [0, -4, 1, 1]],
}


def fit_blend(read: dict, target: np.ndarray, step: float = 0.1, names=None) -> np.ndarray:
    """Per-shape convex weights of the modality readings minimising the L1 error.

    Args:
        read: {"rgb", "normals", "both": (N, 52) readings of the same N frames}; target: (N, 52) true weights.
        step: the simplex grid searched; names: the 52 shape names (Left / Right partners share one blend).

    Returns:
        (52, 3) non-negative weights summing to 1 (RGB only, normals only, both); a shape no blend improves keeps
        (0, 0, 1).
    """
    from facerig.arkit import mirror_permutation
    from facerig.models.image_inversion.tta import READINGS

    k = int(round(1 / step))
    combos = np.array([(a, b, k - a - b) for a in range(k + 1) for b in range(k + 1 - a)], np.float64) / k
    R = np.stack([np.asarray(read[m], np.float64) for m in READINGS], -1)  # (N, 52, 3)
    t = np.asarray(target, np.float64)
    err = np.stack([np.abs(R @ c - t).sum(0) for c in combos])  # (C, 52)
    perm = mirror_permutation() if names is None else mirror_permutation(names)
    err = err + err[:, perm]
    best = combos[err.argmin(0)]
    base = int(np.argmin(np.abs(combos - [0, 0, 1]).sum(1)))
    best[np.isclose(err.min(0), err[base])] = combos[base]
    return best


def tta_readings(model, d: dict, views, *, batch: int = 128) -> dict[str, np.ndarray]:
    """View-averaged, uncalibrated readings of every head image of dataset ``d``.

    Args:
        model: the network; d: a rendered split (:func:`facerig.train.image_inversion.make_dataset`); views: (V, 4).

    Returns:
        {"rgb", "normals", "both": (M, 52) readings of the M head images, "target": (M, 52), "head": (M,)}; the
        images are prepared as :func:`facerig.eval.image_inversion.predict` prepares them (same seeds).
    """
    from facerig.eval.image_inversion import _inputs
    from facerig.models.image_inversion.mirror import normals_foreground
    from facerig.models.image_inversion.tta import READINGS, read_views

    M = len(d["weights"])
    out: dict[str, list] = {r: [] for r in READINGS}
    for s in range(0, M, batch):
        idx = np.arange(s, min(M, s + batch))
        rgb, nrm, _, _ = _inputs(d, idx, s)
        x, n = (t.numpy().transpose(0, 2, 3, 1) for t in (rgb, nrm))
        W, _ = read_views(model, x, n, views, foreground=normals_foreground(n))
        for r in READINGS:
            out[r].append(W[r].mean(0))
    heads = np.flatnonzero(d["is_head"])
    res = {r: np.concatenate(v)[heads] for r, v in out.items()}
    res["target"] = np.asarray(d["weights"][heads], np.float64)
    res["head"] = np.asarray(d["head"][heads])
    return res


def fit_tta(r: dict, views, *, blend: bool = True, prior: float = 1e-2, rows: np.ndarray | None = None):
    """The :class:`~facerig.models.image_inversion.tta.TestTimeAugmentation` of ``views`` fitted on readings ``r``
    (:func:`tta_readings`; restricted to ``rows`` when given): blend (or the both reading alone), then the
    piecewise-linear calibration with ``prior`` on the three modalities' (blended) readings."""
    from facerig.models.image_inversion.calibration import fit_calibration
    from facerig.models.image_inversion.tta import READINGS, TestTimeAugmentation, combine

    sel = slice(None) if rows is None else rows
    rd = {m: r[m][sel] for m in READINGS}
    t = r["target"][sel]
    aug = TestTimeAugmentation.plain(t.shape[1])
    b = fit_blend(rd, t) if blend else aug.blend
    rd["both"] = combine(rd, np.ones((len(t), 2)), b)
    flags = {"rgb": (1.0, 0.0), "normals": (0.0, 1.0), "both": (1.0, 1.0)}
    read = np.concatenate([rd[m] for m in READINGS])
    use = np.concatenate([np.repeat(np.array(flags[m])[None], len(t), 0) for m in READINGS])
    cal = fit_calibration(read, np.tile(t, (3, 1)), use, prior=prior)
    return TestTimeAugmentation(np.asarray(views, np.float64), b, cal)


def main(argv: list[str] | None = None) -> int:
    """Command line: fit the test-time augmentation of ``--init`` and write ``--export``."""
    import datetime
    import time

    from facerig.models.image_inversion.weights import model_from_weights, save_weights, weights_path
    from facerig.train.image_inversion import make_dataset

    ap = argparse.ArgumentParser(prog="python -m facerig.train.image_inversion_tta", description=__doc__)
    ap.add_argument("--init", default=None, help="weights (default the shipped ones); their calibration is kept")
    ap.add_argument("--export", required=True, help="output weights file (.npz)")
    ap.add_argument("--views", default="shift4", choices=sorted(VIEW_SETS), help="view set (default shift4)")
    ap.add_argument(
        "--blend", action="store_true", help="fit the modality blend (default: frames with both, the both reading)"
    )
    ap.add_argument("--prior", type=float, default=1e-2, help="calibration pull toward the identity (fit_monotone)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(a.threads)
    t0 = time.time()
    model = model_from_weights(a.init)
    d = dict(np.load(make_dataset("calib", 1.0, size=model.config.size)))
    views = np.array(VIEW_SETS[a.views], np.float64)
    r = tta_readings(model, d, views)
    aug = fit_tta(r, views, blend=a.blend, prior=a.prior)
    meta = dict(model.meta)
    meta["tta"] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "split": "calib",
        "images": int(d["is_head"].sum()),
        "views": a.views,
        "blend": a.blend,
        "prior": a.prior,
        "mirror_tta": True,
        "seconds": round(time.time() - t0, 1),
    }
    save_weights(a.export, model, meta, calibration=model.calibration, tta=aug)
    log.info(
        f"test-time augmentation of {a.init or weights_path().name} written to {a.export} ({time.time() - t0:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
