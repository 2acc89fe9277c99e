"""Refit the head-presence output of a trained image inversion network on frozen features (issue 26).

The network's last layer maps the MLP's hidden features (256) to the 52 weights and one head-presence logit.
:func:`refit_head_presence` refits that one logit row (257 numbers) by logistic regression on the hidden features
of training images with and without a head (the training augmentation: backgrounds, colour, mirroring, modality
dropout, blanked images), L2-tied to the old row. The 52 weight rows are untouched, so every weight the network
reads is unchanged; only ``head_probability`` (and so ``low_confidence``) moves.

Run: ``FACERIG_DATA=... python -m facerig.train.image_inversion_head --export OUT.npz [--init W.npz]``
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("facerig")


def hidden_features(model, rgb, normals, use):
    """(B, hidden) MLP features before the output layer of ``model`` (eval mode) for torch inputs as its forward."""
    import torch

    with torch.no_grad():
        u = use.to(rgb.dtype)
        f_rgb = model.rgb(rgb) * u[:, :1] + model.missing[0] * (1 - u[:, :1])
        f_nrm = model.normals(normals) * u[:, 1:] + model.missing[1] * (1 - u[:, 1:])
        return model.mlp[:-1](torch.cat([f_rgb, f_nrm, u], dim=1))


def refit_head_presence(
    model,
    data: dict,
    *,
    heads: int = 3000,
    passes: int = 2,
    p_blank: float = 0.1,
    negative_weight: float = 0.3,
    tie: float = 1e-3,
    seed: int = 0,
) -> dict:
    """Refit ``model``'s head-presence row in place (eval mode); returns a summary.

    Args:
        data: a training set as :func:`facerig.train.image_inversion.make_dataset` writes it (``rgb``, ``normals``,
            ``mask`` (M, S, S[, 3]) uint8, ``weights`` (M, 52), ``is_head`` (M,)).
        heads: head images drawn (all head-free images are used); ``passes`` augmented readings of each.
        p_blank: share of images blanked to their background (head-free, as in training).
        negative_weight: head-free images weigh ``negative_weight`` x (heads / head-free) each (1: balanced).
        tie: L2 weight pulling the row toward the old one.
    """
    import torch

    from facerig.train.image_inversion import augment_batch

    model.eval()
    rng = np.random.default_rng(seed)
    is_head = np.asarray(data["is_head"], bool)
    pos = np.sort(rng.choice(np.flatnonzero(is_head), min(heads, int(is_head.sum())), replace=False))
    rows = np.concatenate([pos, np.flatnonzero(~is_head)])
    H, Y = [], []
    for _ in range(passes):
        for s in range(0, len(rows), 128):
            idx = rows[s : s + 128]
            r8, n8, m8 = data["rgb"][idx].copy(), data["normals"][idx].copy(), data["mask"][idx].copy()
            y = is_head[idx].astype(np.float32)
            blank = rng.random(len(idx)) < p_blank
            r8[blank], n8[blank], m8[blank], y[blank] = 0, 0, 0, 0.0
            x, n, use, _ = augment_batch(
                r8, n8, m8, data["weights"][idx], rng, p_mirror=0.5, p_rgb_only=1 / 3, p_normals_only=1 / 3
            )
            H.append(hidden_features(model, x, n, use))
            Y.append(y)
    Hf, Yt = torch.cat(H), torch.from_numpy(np.concatenate(Y))
    last = model.mlp[-1]
    k = last.weight.shape[0] - 1
    w0, b0 = last.weight[k].detach().clone(), last.bias[k].detach().clone()
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    neg_w = float(negative_weight) * float((Yt == 1).sum()) / max(float((Yt == 0).sum()), 1.0)
    sample_w = torch.where(Yt == 0, torch.tensor(neg_w), torch.tensor(1.0))
    opt = torch.optim.LBFGS([w, b], max_iter=200)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Hf @ w + b, Yt, weight=sample_w)
        loss = loss + tie * ((w - w0) ** 2).sum()
        loss.backward()
        return loss

    torch.manual_seed(seed)
    opt.step(closure)
    with torch.no_grad():
        before, after = Hf @ w0 + b0, Hf @ w + b
        last.weight[k] = w
        last.bias[k] = b
    neg, posm = Yt == 0, Yt == 1
    return {
        "images": int(len(Yt)),
        "head_free": int(neg.sum()),
        "head_free_unflagged_before": float((before[neg] > 0).float().mean()),
        "head_free_unflagged_after": float((after[neg] > 0).float().mean()),
        "heads_flagged_before": float((before[posm] < 0).float().mean()),
        "heads_flagged_after": float((after[posm] < 0).float().mean()),
        "options": {
            "heads": heads,
            "passes": passes,
            "p_blank": p_blank,
            "negative_weight": negative_weight,
            "tie": tie,
            "seed": seed,
        },  # fmt: skip
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m facerig.train.image_inversion_head --export OUT.npz [--init W.npz] [--scale 2.8]``."""
    import argparse
    import datetime

    import torch

    from facerig.models.image_inversion.weights import model_from_weights, save_weights, weights_path
    from facerig.train.image_inversion import make_dataset

    ap = argparse.ArgumentParser(prog="python -m facerig.train.image_inversion_head")
    ap.add_argument("--init", default=None, help="weights .npz to refit (default the shipped file)")
    ap.add_argument("--export", required=True, help="output weights .npz")
    ap.add_argument("--scale", type=float, default=2.8, help="training set SPLITS['train'] scale (default 2.8)")
    ap.add_argument("--negative-weight", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = model_from_weights(a.init)
        path = make_dataset("train", a.scale, size=model.config.size)
        with np.load(path) as z:
            data = {k: z[k] for k in ("rgb", "normals", "mask", "weights", "is_head")}
        summary = refit_head_presence(model, data, negative_weight=a.negative_weight, seed=a.seed)
    finally:
        torch.set_num_threads(prev)
    log.info(str(summary))
    meta = dict(getattr(model, "meta", {}))
    meta["head_refit"] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "init": Path(a.init or weights_path()).name,
        "dataset": Path(path).name,
        **summary,
    }
    save_weights(a.export, model, meta)
    log.info(f"wrote {a.export}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
