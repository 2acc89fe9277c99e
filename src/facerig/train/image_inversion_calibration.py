"""Fitting the image inversion network's output calibration (:mod:`facerig.models.image_inversion.calibration`).

The network is read (with the mirror test-time augmentation, as ``facerig invert-image`` reads) on renders of
training identities it never trained on (``SPLITS["calib"]`` of :mod:`facerig.train.image_inversion`: the
generator's training split and warps of the Rocketbox female at indices after those of every training split),
in each modality, and a monotone map per shape and modality is fitted from its readings to the true weights.
No held-out or other authors' head (the evaluation's) is read.

``python -m facerig.train.image_inversion_calibration --init WEIGHTS.npz --export OUT.npz``: the weights of
``--init`` unchanged plus the calibration (and ``meta["calibration"]``).
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

log = logging.getLogger("facerig")


def calibration_readings(
    model, d: dict, *, mirror: bool = True, seed: int = 0, batch: int = 128
) -> dict[str, np.ndarray]:
    """Uncalibrated readings of every head image of dataset ``d`` in each modality.

    Args:
        model: the network; d: a rendered split (:func:`facerig.train.image_inversion.make_dataset`).

    Returns:
        {"read": (3M, 52), "target": (3M, 52), "use": (3M, 2) modality flags, "head": (3M,) head index}: the M head
        images read RGB only, normals only and both (:data:`facerig.eval.image_inversion.MODALITIES` order).
    """
    from facerig.eval.image_inversion import MODALITIES, predict

    heads = np.flatnonzero(d["is_head"])
    out: dict[str, list] = {"read": [], "target": [], "use": [], "head": []}
    for mod, flags in MODALITIES.items():
        W, _ = predict(model, d, mod, batch=batch, seed=seed, mirror=mirror, calibrate=False)
        out["read"].append(W[heads])
        out["target"].append(np.asarray(d["weights"][heads], np.float64))
        out["use"].append(np.repeat(np.array(flags, np.float32)[None], len(heads), 0))
        out["head"].append(np.asarray(d["head"][heads]))
    return {k: np.concatenate(v) for k, v in out.items()}


def fit_from_readings(r: dict, rows: np.ndarray | None = None, **kw):
    """:func:`facerig.models.image_inversion.calibration.fit_calibration` on readings ``r``
    (:func:`calibration_readings`), restricted to ``rows`` when given; ``kw`` its options."""
    from facerig.models.image_inversion.calibration import fit_calibration

    sel = slice(None) if rows is None else rows
    return fit_calibration(r["read"][sel], r["target"][sel], r["use"][sel], **kw)


def main(argv: list[str] | None = None) -> int:
    """Command line: fit the calibration of ``--init`` and write ``--export``."""
    import datetime
    import time

    from facerig.models.image_inversion.weights import model_from_weights, save_weights, weights_path
    from facerig.train.image_inversion import make_dataset

    ap = argparse.ArgumentParser(prog="python -m facerig.train.image_inversion_calibration", description=__doc__)
    ap.add_argument("--init", default=None, help="weights to calibrate (default the shipped ones)")
    ap.add_argument("--export", required=True, help="output weights file (.npz)")
    ap.add_argument("--scale", type=float, default=1.0, help="identity count multiplier of SPLITS['calib']")
    ap.add_argument("--prior", type=float, default=1e-3, help="pull toward the identity per knot (see fit_monotone)")
    ap.add_argument("--affine", action="store_true", help="affine maps clip(a x + b, 0, 1) instead of piecewise-linear")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(a.threads)
    t0 = time.time()
    model = model_from_weights(a.init)
    path = make_dataset("calib", a.scale, size=model.config.size)
    d = dict(np.load(path))
    r = calibration_readings(model, d)
    cal = fit_from_readings(r, prior=a.prior, affine=a.affine)
    meta = dict(model.meta)
    meta["calibration"] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "split": "calib",
        "scale": a.scale,
        "images": int(d["is_head"].sum()),
        "kind": "affine" if a.affine else "piecewise-linear",
        "prior": a.prior,
        "mirror_tta": True,
        "seconds": round(time.time() - t0, 1),
    }
    save_weights(a.export, model, meta, calibration=cal)
    log.info(f"calibration of {a.init or weights_path().name} written to {a.export} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
