"""Training of the image-based rig inversion network (torch, CPU).

- :func:`dataset_heads`: the identities of a split (ICT and MakeHuman from the generator with its
  stylised warps and remeshes; the Rocketbox female avatar and warps of it for training, the
  Rocketbox male avatar held out as a head by other authors).
- :func:`make_dataset`: pre-render a split once into ``cache_dir("image_inversion")`` (NPZ).
- :func:`augment_batch`: background compositing, colour jitter, noise, grayscale, mirroring
  (weights permuted Left <-> Right), modality dropout.
- :func:`train`: weight-space + mesh-space loss (``e^T G e`` with the head's rig Gram matrix, i.e.
  the mean squared vertex error of ``sum_k e_k d_k``) + head-presence loss; checkpoints. The weight
  loss can reward large weights (``|e| * (1 + large_weight * w*)``) and balance the shapes
  (:func:`shape_balance`), and expressive images can be drawn more often (``expressive``), so the
  many near-zero weights of a real take do not teach the network to answer 0.
- :func:`finetune_on_rig`: the per-character setting: renders of one rig's own head, a few minutes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from facerig.arkit import mirror_permutation

log = logging.getLogger("facerig")

#: Identities per split: (family, number of identities, images per identity[, first index]). A family is
#: "ict" / "makehuman" (the generator's identities from its split, with stylised warps and remeshes), the
#: stem of an author-rigged head in ``DATA/heads`` (index 0 the head itself, others warps of it), or
#: "rig:STEM" (an unrigged public head in ``DATA/heads`` rigged by facerig's own ``rig_mesh``, then warped).
#: "more" enlarges "train" (disjoint generator indices and warp seeds, other authors' creatures, facerig's
#: own rigs); no head of "eval" or of the goal images (Rocketbox male, Weboji boy and human) is in it. Not
#: used: lps_leeperrysmith (a scan with closed eyes: its neutral would teach "closed eyes = no blink") and
#: robot_expressive_head (a box with ball eyes: no face for a rig's smile or blink to label).
SPLITS: dict[str, list[tuple]] = {
    "train": [("ict", 45, 80), ("makehuman", 30, 80), ("rocketbox_female_adult_01", 9, 80)],
    "eval": [("ict", 6, 40), ("makehuman", 4, 40), ("rocketbox_male_adult_08", 3, 100)],
    "more": [
        ("ict", 40, 60, 130),
        ("makehuman", 30, 60, 90),
        ("rocketbox_female_adult_01", 12, 60, 100),
        ("weboji_kangaroo", 6, 60),
        ("weboji_lama", 6, 60),
        ("weboji_tiger", 6, 60),
        ("weboji_triceratops", 6, 60),
        ("rig:nefertiti_bust", 6, 60),
        ("rig:mediapipe_canonical_face", 6, 60),
    ],
    # the output calibration's renders (:mod:`facerig.train.image_inversion_calibration`): the training
    # families, identities and warp seeds no training split used (after "more")
    "calib": [
        ("ict", 30, 40, 400),
        ("makehuman", 24, 40, 400),
        ("rocketbox_female_adult_01", 10, 40, 300),
    ],
}
NEGATIVES = {"train": 400, "eval": 60, "more": 200, "calib": 20}
#: :func:`facerig.data.renders.sample_weights` options per split ("more": more isolated shapes at up to 1).
WEIGHT_OPTIONS: dict[str, dict] = {"more": {"p_isolated": 0.3}}


def _facerig_rig_head(stem: str):
    """A public head of ``DATA/heads`` rigged by :func:`facerig.models.registry.rig_mesh` -> RenderHead
    (``mm_per_unit`` set so the face box is 120 mm)."""
    from facerig.config import data_root
    from facerig.data import renders
    from facerig.io import read_mesh
    from facerig.models.registry import rig_mesh

    rig = rig_mesh(read_mesh(data_root() / "heads" / f"{stem}.obj"))
    head = renders.head_from_rig(rig, stem, family="facerig_rig")
    head.mm_per_unit = 120.0 / max(head.face_box()[1], 1e-9)
    return head


def dataset_heads(split: str = "train", scale: float = 1.0) -> list[tuple[object, int]]:
    """[(callable -> RenderHead, images)] for ``split``; ``scale`` multiplies the identity counts."""
    from facerig.data import renders
    from facerig.data.generator import SampleConfig, generate_sample

    cfg = SampleConfig(
        split="eval" if split == "eval" else "train", p_units=0.0, p_remove_parts=0.25, remesh_vertices=(1500, 12000)
    )
    out = []
    cache: dict = {}
    for fam, n, per, *first in SPLITS[split]:
        n = max(1, int(round(n * scale)))
        start = first[0] if first else 0
        for i in range(start, start + n):
            if fam.startswith(("rig:", "rocketbox", "weboji")):

                def make(i=i, fam=fam):
                    if fam not in cache:  # one rig / read per family, warps of it after
                        cache[fam] = (
                            _facerig_rig_head(fam[4:])
                            if fam.startswith("rig:")
                            else renders.author_heads(fam, names=(fam,))[0]
                        )
                    head = cache[fam]
                    return head if i == 0 else renders.warped_head(head, 1000 * (split == "eval") + i)
            else:

                def make(i=i, fam=fam):
                    from facerig.data.families import get_family

                    s = generate_sample(get_family(fam), i, cfg)
                    s.info["family"] = fam
                    return renders.head_from_sample(s, f"{fam}_{split}_{i}")

            out.append((make, per))
    return out


def make_dataset(
    split: str = "train",
    scale: float = 1.0,
    path: str | Path | None = None,
    seed: int | None = None,
    size: int | None = None,
) -> Path:
    """Render ``split`` once (cached; see :func:`dataset_heads`) and return the NPZ path."""
    from facerig.config import cache_dir
    from facerig.data import renders
    from facerig.io.atomic import atomic_path

    size = size or renders.RENDER_SIZE
    path = Path(path) if path else cache_dir("image_inversion") / f"{split}_s{scale:g}_{size}px.npz"
    if path.exists():
        return path
    frames = renders.take_frames()
    heads = dataset_heads(split, scale)
    seed = seed if seed is not None else {"train": 0, "eval": 1, "calib": 3}.get(split, 2)
    rng_seed = np.random.SeedSequence([seed, len(heads)])
    parts = []
    cfg = renders.RenderConfig(size=size)
    # heads with different image counts: render per count group, then merge
    groups: dict[int, list] = {}
    for make, per in heads:
        groups.setdefault(per, []).append(make)
    for g, (per, makes) in enumerate(groups.items()):
        parts.append(
            renders.build_dataset(
                makes,
                per,
                int(rng_seed.spawn(len(groups))[g].generate_state(1)[0]),
                frames,
                config=cfg,
                log=log.info,
                weights_options=WEIGHT_OPTIONS.get(split),
            )
        )
    neg = renders.build_dataset([], 0, seed + 7, frames, negatives=int(NEGATIVES[split] * max(scale, 0.05)), config=cfg)
    data = _merge(parts + [neg])
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)
    return path


def _merge(parts: list[dict]) -> dict[str, np.ndarray]:
    out: dict[str, list] = {}
    offset = 0
    for p in parts:
        head = np.where(p["head"] >= 0, p["head"] + offset, -1)
        offset += len(p["gram"])
        for k, v in p.items():
            out.setdefault(k, []).append(head.astype(np.int32) if k == "head" else v)
    return {k: np.concatenate(v) for k, v in out.items()}


# --------------------------------------------------------------------------- augmentation


def augment_batch(
    rgb,
    normals,
    mask,
    weights,
    rng: np.random.Generator,
    *,
    p_mirror: float = 0.5,
    p_rgb_only: float = 0.2,
    p_normals_only: float = 0.2,
):
    """Training-time augmentation of uint8 batches (torch tensors out).

    Args:
        rgb, normals: (B, S, S, 3) uint8 on black; mask: (B, S, S) uint8 soft mask; weights (B, 52).

    Returns:
        (rgb (B, 3, S, S) float, normals (B, 3, S, S) float, use (B, 2) float modality flags,
        weights (B, 52) float32 numpy (mirrored rows permuted)).
    """
    import torch

    B, S = rgb.shape[0], rgb.shape[1]
    x = rgb.astype(np.float32) / 255.0
    n = normals.astype(np.float32) / 255.0
    m = mask.astype(np.float32)[..., None] / 255.0
    w = weights.astype(np.float32).copy()
    # backgrounds: flat colour, vertical gradient or smooth noise
    bg = np.empty_like(x)
    kind = rng.integers(0, 3, B)
    for i in range(B):
        if kind[i] == 0:
            bg[i] = rng.uniform(0, 1, 3)
        elif kind[i] == 1:
            a, b = rng.uniform(0, 1, (2, 3))
            t = np.linspace(0, 1, S)[:, None, None]
            bg[i] = a * (1 - t) + b * t
        else:
            k = int(rng.integers(2, 9)) if rng.random() < 0.7 else S
            g = rng.uniform(0, 1, (k, k, 3))
            rep = -(-S // k)
            bg[i] = np.kron(g, np.ones((rep, rep, 1)))[:S, :S]
    x = x + (1 - m) * bg
    # colour jitter, gamma, noise, grayscale
    x = x * rng.uniform(0.6, 1.4, (B, 1, 1, 1)) * rng.uniform(0.85, 1.15, (B, 1, 1, 3)) + rng.uniform(
        -0.1, 0.1, (B, 1, 1, 1)
    )
    x = np.clip(x, 0, 1) ** rng.uniform(0.7, 1.4, (B, 1, 1, 1))
    gray = rng.random(B) < 0.1
    x[gray] = x[gray].mean(-1, keepdims=True)
    x = x + rng.normal(0, 1, (B, 1, 1, 1)).clip(0, None) * 0.02 * rng.normal(0, 1, x.shape)
    # normal maps: background black, sometimes flat, small noise
    nb = rng.random(B) < 0.2
    n[nb] = n[nb] + (1 - m[nb]) * rng.uniform(0, 1, (int(nb.sum()), 1, 1, 3))
    n = n + 0.01 * rng.normal(0, 1, n.shape)
    # mirror: flip columns, camera-space normal x flips (R -> 1 - R on the head), Left <-> Right
    flip = rng.random(B) < p_mirror
    if flip.any():
        x[flip] = x[flip, :, ::-1]
        mf = m[flip, :, ::-1]
        nf = n[flip, :, ::-1].copy()
        nf[..., 0] = mf[..., 0] * (1 - nf[..., 0]) + (1 - mf[..., 0]) * nf[..., 0]
        n[flip] = nf
        w[flip] = w[flip][:, mirror_permutation()]
    use = np.ones((B, 2), np.float32)
    r = rng.random(B)
    use[r < p_rgb_only, 1] = 0
    use[(r >= p_rgb_only) & (r < p_rgb_only + p_normals_only), 0] = 0
    xt = torch.from_numpy(np.ascontiguousarray(np.clip(x, 0, 1).transpose(0, 3, 1, 2), dtype=np.float32))
    nt = torch.from_numpy(np.ascontiguousarray(np.clip(n, 0, 1).transpose(0, 3, 1, 2), dtype=np.float32))
    return xt, nt, torch.from_numpy(use), w


# --------------------------------------------------------------------------- training


@dataclass
class TrainOptions:
    """Optimiser and loss settings."""

    minutes: float = 30.0
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    mesh_weight: float = 0.01  # per mm^2 of mean squared vertex error
    head_weight: float = 0.2
    p_blank: float = 0.04  # share of each batch made head-free on the fly (background only)
    threads: int | None = None  # torch threads for the run (restored after); None: torch's setting
    seed: int = 0
    log_every: int = 50
    warmup: int = 300  # steps of linear learning-rate warm-up
    large_weight: float = 2.0  # weight loss |e| * (1 + large_weight * target): large targets count more
    balance: float = 0.5  # per-shape weight (spread + 0.05) ** -balance (normalised): rare shapes count more
    expressive: float = 1.0  # draw image i with probability ~ 1 + expressive * (its largest non-gaze weight)
    save_every: float = 300.0  # seconds between checkpoints
    holdout: float = 0.0  # share of the ICT / MakeHuman identities kept out of training to pick the checkpoint
    select_every: float = 240.0  # seconds between scores on the held-out identities (when holdout > 0)


def shape_balance(weights: np.ndarray, power: float) -> np.ndarray:
    """(52,) per-shape loss weights from the training targets ``weights`` (M, 52): ``(s_k + 0.05) ** -power``
    with ``s_k`` the mean absolute deviation of shape k from its median, normalised to mean 1 over the shapes
    that vary (1 everywhere for ``power`` 0)."""
    w = np.asarray(weights, np.float64)
    s = np.abs(w - np.median(w, axis=0)).mean(axis=0)
    b = (s + 0.05) ** -float(power)
    return (b / b.mean()).astype(np.float32)


def sampling_probabilities(weights: np.ndarray, is_head: np.ndarray, expressive: float) -> np.ndarray:
    """(M,) probabilities of drawing each image: ``1 + expressive * max non-gaze weight`` (head-free: 1), normalised."""
    from facerig.arkit import ARKIT52

    keep = np.array([not n.startswith("eyeLook") for n in ARKIT52])
    p = 1.0 + float(expressive) * np.asarray(weights, np.float64)[:, keep].max(axis=1) * np.asarray(is_head, bool)
    return p / p.sum()


def _losses(model, rgb, nrm, use, w, gram, is_head, shape_w=None, large_weight: float = 0.0):
    """(weight loss, mesh loss (mm^2), head-presence loss). The weight loss is the plain L1 mean unless
    ``shape_w`` (52,) or ``large_weight`` weigh it: ``mean(|e| * shape_w * (1 + large_weight * w))``."""
    import torch

    pred_w, head_logit = model(rgb, nrm, use)
    e = (pred_w - w) * is_head[:, None]
    a = e.abs()
    if large_weight:
        a = a * (1.0 + large_weight * w)
    if shape_w is not None:
        a = a * shape_w
    l_w = a.mean()
    l_mesh = (torch.einsum("bj,bjk,bk->b", e, gram, e)).mean()
    l_head = torch.nn.functional.binary_cross_entropy_with_logits(head_logit, is_head)
    return l_w, l_mesh, l_head


def holdout_heads(head_names, share: float, seed: int = 0) -> np.ndarray:
    """Indices of ``share`` of the generator's ICT / MakeHuman identities (names ``ict_*`` / ``makehuman_*``)
    among ``head_names`` (H,), drawn with ``seed``: training identities kept out to pick a checkpoint."""
    names = [str(n) for n in head_names]
    pool = np.array([i for i, n in enumerate(names) if n.startswith(("ict_", "makehuman_"))], np.int64)
    k = int(round(share * len(pool)))
    if k == 0:
        return np.zeros(0, np.int64)
    return np.sort(np.random.default_rng(seed).choice(pool, k, replace=False))


def holdout_score(model, d: dict, rows: np.ndarray, seed: int = 0, batch: int = 128) -> float:
    """Mean weight MAE of ``model`` on dataset rows ``rows`` over the three modalities (RGB only, normals only,
    both), fixed-seed augmentation without mirroring; the model is left in eval mode."""
    import torch

    model.eval()
    errs = []
    with torch.no_grad():
        for s in range(0, len(rows), batch):
            idx = rows[s : s + batch]
            rng = np.random.default_rng(seed + s)
            rgb, nrm, _, w = augment_batch(
                d["rgb"][idx], d["normals"][idx], d["mask"][idx], d["weights"][idx], rng,
                p_mirror=0.0, p_rgb_only=0.0, p_normals_only=0.0,
            )  # fmt: skip
            for flags in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
                pred, _ = model(rgb, nrm, torch.tensor(flags).expand(len(idx), 2))
                errs.append(np.abs(pred.numpy() - w).mean(axis=1))
    return float(np.concatenate(errs).mean())


def load_datasets(paths) -> dict[str, np.ndarray]:
    """One pre-rendered NPZ, or several merged (head indices offset): ``paths`` a path or a list of paths."""
    if isinstance(paths, (str, Path)):
        return dict(np.load(paths))
    return _merge([dict(np.load(p)) for p in paths])


def train(
    data_path: str | Path | list,
    out: str | Path,
    options: TrainOptions | None = None,
    *,
    model=None,
    config=None,
    eval_path: str | Path | None = None,
) -> dict:
    """Train (or continue ``model``) on a pre-rendered NPZ (or a list of them, merged) for ``options.minutes``; save a
    checkpoint (``.pt``: state_dict, config, options, history) to ``out`` every few minutes."""
    import torch

    from facerig.models.image_inversion.config import ImageInversionConfig
    from facerig.models.image_inversion.network import ImageInversionNet

    opt = options or TrainOptions()
    torch.manual_seed(opt.seed)
    rng = np.random.default_rng(opt.seed)
    d = load_datasets(data_path)
    M = len(d["weights"])
    gram_all = torch.from_numpy(np.concatenate([d["gram"], np.zeros((1, 52, 52), np.float32)]))
    if model is None:
        model = ImageInversionNet(config or ImageInversionConfig(size=int(d["rgb"].shape[1])))
    head_rows = d["is_head"].astype(bool)
    kept_out = holdout_heads(d["head_names"], opt.holdout, opt.seed) if opt.holdout > 0 else np.zeros(0, np.int64)
    sel_rows = np.flatnonzero(np.isin(d["head"], kept_out) & head_rows)
    if len(sel_rows) > 600:  # a fixed subset keeps each score to a few seconds
        sel_rows = np.sort(np.random.default_rng(opt.seed).choice(sel_rows, 600, replace=False))
    shape_w = torch.from_numpy(shape_balance(d["weights"][head_rows], opt.balance)) if opt.balance else None
    probs = sampling_probabilities(d["weights"], head_rows, opt.expressive) if opt.expressive else None
    if len(kept_out):
        probs = np.where(np.isin(d["head"], kept_out), 0.0, probs if probs is not None else 1.0)
        probs = probs / probs.sum()
    best = None  # (score, step, state_dict) of the best checkpoint on the held-out identities
    last_select = 0.0
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=opt.lr, weight_decay=opt.weight_decay)
    total = opt.minutes * 60.0
    t0 = time.time()
    last_save = t0
    history = []
    step = 0
    prev = torch.get_num_threads()
    if opt.threads:
        torch.set_num_threads(opt.threads)

    def select() -> None:
        nonlocal best
        sc = holdout_score(model, d, sel_rows, seed=opt.seed)
        history.append({"step": step, "sec": round(time.time() - t0, 1), "holdout_mae": sc})
        log.info(f"step={step} holdout_mae={sc:.5f}")
        if best is None or sc < best[0]:
            best = (sc, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
        model.train()

    try:
        if len(sel_rows):
            select()
            last_select = time.time()
        model.train()
        while True:
            el = time.time() - t0
            if el > total:
                break
            if len(sel_rows) and time.time() - last_select > opt.select_every:
                select()
                last_select = time.time()
            for g in optim.param_groups:  # warm-up then cosine over the time budget
                g["lr"] = (
                    opt.lr
                    * min(1.0, (step + 1) / max(opt.warmup, 1))
                    * 0.5
                    * (1 + np.cos(np.pi * min(el / total, 1.0)))
                )
            idx = rng.choice(M, opt.batch, p=probs) if probs is not None else rng.integers(0, M, opt.batch)
            rgb_u8, nrm_u8, mask_u8 = d["rgb"][idx], d["normals"][idx], d["mask"][idx]
            heads = d["is_head"][idx].copy()
            w_u = d["weights"][idx].copy()
            blank = rng.random(opt.batch) < opt.p_blank  # head-free: the background alone
            if blank.any():
                rgb_u8, nrm_u8, mask_u8 = rgb_u8.copy(), nrm_u8.copy(), mask_u8.copy()
                rgb_u8[blank], nrm_u8[blank], mask_u8[blank], heads[blank], w_u[blank] = 0, 0, 0, False, 0.0
            rgb, nrm, use, w = augment_batch(rgb_u8, nrm_u8, mask_u8, w_u, rng)
            is_head = torch.from_numpy(heads.astype(np.float32))
            gram = gram_all[torch.from_numpy(np.where(heads, d["head"][idx], -1)).long()]
            l_w, l_mesh, l_head = _losses(
                model, rgb, nrm, use, torch.from_numpy(w), gram, is_head, shape_w, opt.large_weight
            )
            loss = l_w + opt.mesh_weight * l_mesh + opt.head_weight * l_head
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            optim.step()
            step += 1
            if step % opt.log_every == 0:
                rec = {
                    "step": step,
                    "sec": round(time.time() - t0, 1),
                    "w_loss": l_w.item(),
                    "mesh": l_mesh.item(),
                    "head": l_head.item(),
                }
                history.append(rec)
                log.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
            if time.time() - last_save > opt.save_every:
                _save(out, model, opt, history)
                last_save = time.time()
        if len(sel_rows):
            select()
            model.load_state_dict(best[2])
            history.append({"selected_step": best[1], "holdout_mae": best[0], "holdout_heads": kept_out.tolist()})
            log.info(f"kept the checkpoint of step {best[1]} (held-out training identities MAE {best[0]:.5f})")
    finally:
        torch.set_num_threads(prev)
    model.eval()
    _save(out, model, opt, history)
    return {"steps": step, "seconds": time.time() - t0, "history": history, "selected_step": best and best[1]}


def _save(out, model, opt, history) -> None:
    import torch

    from facerig.io.atomic import atomic_path

    with atomic_path(out) as tmp:
        torch.save(
            {
                "state_dict": model.state_dict(),
                "config": asdict(model.config),
                "options": asdict(opt),
                "history": history,
            },
            tmp,
        )


def finetune_on_rig(model, rig, *, minutes: float = 5.0, images: int = 600, seed: int = 0, threads: int | None = None):
    """The per-character setting: render ``images`` of ``rig``'s own head (and warps-free poses,
    lights, cameras) and fine-tune ``model`` on them for ``minutes``. Returns the model, its output calibration
    and test-time augmentation (fitted for the weights before) dropped: ``model.calibration = model.tta = None``."""
    import tempfile

    from facerig.data import renders

    head = renders.head_from_rig(rig)
    frames = renders.take_frames()
    data = renders.build_dataset(
        [head],
        images,
        seed,
        frames,
        negatives=max(images // 20, 4),
        config=renders.RenderConfig(size=model.config.size),
    )
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "rig.npz"
        np.savez(p, **data)
        opt = TrainOptions(minutes=minutes, lr=3e-4, threads=threads, seed=seed, log_every=25)
        train(p, Path(tmp) / "ft.pt", opt, model=model)
    model.calibration = None
    model.tta = None
    return model


def export_checkpoint(ckpt: str | Path, out: str | Path, meta: dict | None = None) -> None:
    """A training checkpoint (.pt) -> the weights file (.npz) with ``meta`` (date, options, last losses added)."""
    import datetime

    import torch

    from facerig.models.image_inversion.config import ImageInversionConfig
    from facerig.models.image_inversion.network import ImageInversionNet
    from facerig.models.image_inversion.weights import save_weights

    state = torch.load(ckpt, weights_only=False)
    model = ImageInversionNet(ImageInversionConfig.from_dict(state["config"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    hist = state.get("history") or []
    full = {
        "trained": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "options": state.get("options"),
        "last": hist[-1] if hist else {},
        **(meta or {}),
    }
    save_weights(out, model, full)


#: The :class:`TrainOptions` fields the command line sets (besides ``seed``, ``minutes``, ``threads``).
_TUNED = ("lr", "mesh_weight", "large_weight", "balance", "expressive", "batch", "warmup", "p_blank", "holdout")


def main(argv: list[str] | None = None) -> int:
    """``python -m facerig.train.image_inversion [--minutes M] [--scale S] [--export PATH]``: render the
    training set (cached), train, export the weights (default: the shipped file)."""
    import argparse
    import platform

    import torch

    from facerig.models.image_inversion.weights import weights_path

    ap = argparse.ArgumentParser(prog="python -m facerig.train.image_inversion")
    ap.add_argument("--minutes", type=float, default=35.0)
    ap.add_argument("--scale", type=float, default=1.4, help="identity count multiplier of SPLITS['train']")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", default=None, help="checkpoint .pt (default in the cache)")
    ap.add_argument("--export", default=None, help="weights .npz (default the shipped file)")
    ap.add_argument("--head", default="ln_leaky", help="branch feature layer: ln_leaky or relu (the first weights)")
    ap.add_argument("--init", default=None, help="fine-tune from this weights .npz (e.g. the shipped file)")
    ap.add_argument(
        "--more-scale", type=float, default=0.0, help="also train on SPLITS['more'] rendered at this scale (0: not)"
    )
    d = TrainOptions()
    for name in (*_TUNED, "seed"):
        ap.add_argument("--" + name.replace("_", "-"), type=type(getattr(d, name)), default=getattr(d, name))
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from facerig.config import cache_dir

    torch.set_num_threads(a.threads)
    data = [make_dataset("train", a.scale)]
    if a.more_scale > 0:
        data.append(make_dataset("more", a.more_scale))
    ckpt = Path(a.checkpoint) if a.checkpoint else cache_dir("image_inversion") / "checkpoint.pt"
    from facerig.models.image_inversion.config import ImageInversionConfig

    size = int(np.load(data[0], mmap_mode="r")["rgb"].shape[1])
    opts = TrainOptions(
        minutes=a.minutes,
        threads=a.threads,
        **{k: getattr(a, k) for k in _TUNED},
        seed=a.seed,
    )
    init = None
    if a.init:
        from facerig.models.image_inversion.weights import model_from_weights

        init = model_from_weights(a.init)
    res = train(data, ckpt, opts, model=init, config=ImageInversionConfig(size=size, head=a.head))

    meta = {
        "machine": f"{platform.machine()} {platform.processor() or ''} {a.threads} threads".strip(),
        "steps": res["steps"],
        "minutes": round(res["seconds"] / 60, 1),
        "dataset": " + ".join(Path(p).name for p in data),
        "images": int(sum(len(np.load(p)["weights"]) for p in data)),
        "init": Path(a.init).name if a.init else None,
    }
    if a.holdout > 0:
        meta["selected_step"] = res["selected_step"]
        meta["holdout"] = a.holdout
    export_checkpoint(ckpt, a.export or weights_path(), meta)
    log.info(f"exported {a.export or weights_path()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
