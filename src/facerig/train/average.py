"""Average the weights of several checkpoints of one architecture ("model soup").

Runs branched from one set of weights (same model, other seeds or data order) usually stay in
one basin of the loss, where the mean of their weights predicts at least as well as each run
and often better. The result is an ordinary checkpoint: ``facerig train export`` and
``facerig rig --weights`` read it like any other.

    facerig train average runs/a/best.pt runs/b/best.pt -o runs/soup.pt
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from facerig.errors import FacerigError


def _load(path) -> dict:
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise FacerigError(f"{path}: no such file") from None
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same one-line error
        raise FacerigError(f"{path}: not a training checkpoint ({e.__class__.__name__})") from None
    if not isinstance(ck, dict) or "config" not in ck or "state_dict" not in ck:
        raise FacerigError(f"{path}: not a training checkpoint (no config / state_dict)")
    return ck


def average_checkpoints(
    paths: list[str | os.PathLike], output: str | os.PathLike, weights: list[float] | None = None
) -> Path:
    """Mean of the inference weights (:func:`facerig.models.raf.weights.checkpoint_weights`) of
    ``paths`` -> checkpoint at ``output``; ``weights`` (one per path, default equal) are
    normalised to sum to 1. All checkpoints must share the model config and parameter shapes.
    The output keeps the first checkpoint's training config and records its sources."""
    from facerig.models.raf.weights import checkpoint_weights

    if len(paths) < 2:
        raise FacerigError("averaging needs at least two checkpoints")
    w = [1.0] * len(paths) if weights is None else [float(x) for x in weights]
    if len(w) != len(paths) or min(w) < 0 or sum(w) <= 0:
        raise FacerigError("give one non-negative weight per checkpoint")
    w = [x / sum(w) for x in w]
    cks = [_load(p) for p in paths]
    config = cks[0]["config"]
    for p, ck in zip(paths[1:], cks[1:]):
        if ck["config"] != config:
            raise FacerigError(f"{p} has another model config than {paths[0]}")
    states = [checkpoint_weights(ck) for ck in cks]
    keys = states[0].keys()
    for p, s in zip(paths[1:], states[1:]):
        if s.keys() != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise FacerigError(f"{p} has other parameters than {paths[0]}")
    avg = {k: sum(wi * s[k].double() for wi, s in zip(w, states)).to(states[0][k].dtype) for k in keys}
    first = cks[0]
    meta = dict(first.get("meta", {}))
    meta["averaged_from"] = [
        {"path": str(p), "step": int(ck.get("step", 0)), "weight": wi} for p, ck, wi in zip(paths, cks, w)
    ]
    out_ck = {
        "config": config,
        "state_dict": avg,
        "step": max(int(ck.get("step", 0)) for ck in cks),
        "wall_s": sum(float(ck.get("wall_s", 0.0)) for ck in cks),
        "train_config": first.get("train_config"),
        "meta": meta,
    }
    from facerig.io.atomic import atomic_path

    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".pt") as tmp:
        torch.save(out_ck, tmp)
    return out
