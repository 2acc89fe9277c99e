"""Training the expression encoder (:mod:`facerig.models.encoder`) on the generator's heads.

Data: the training pool of :mod:`facerig.train.dataset` (``facerig train pool``; the encoder's is
built at ~2k proxy vertices and 64 eigenpairs in ``cache_dir("encoder_pool")``): per head its
proxy, operators and per-shape deltas on the proxy. A pose is ``xyz + sum_k w_k d_k``, shown to
the network in its own head frame (:func:`facerig.models.encoder.runtime.posed_frame`), so any
number of poses comes from one head without recomputing operators: the poses of a step share
the head's operators (those of its neutral; measured against posed operators in
``facerig eval --task invert``).

Weights ``w`` (:func:`sample_expressions`) have a face's co-activation: whole frames of the real
Live Link Face take (``takes/livelink_rom_a.csv``, the first ``1 - take_holdout`` of it; the rest
is kept for evaluation), jittered, mixed and thinned, plus some one-hot and neutral poses.

Loss (``weight_loss``): binary cross-entropy of the weights on the network's logits over the
shapes the head has (its gradient on a logit is ``w - w*`` even where the sigmoid saturates;
the shipped run's), or their L1 (which learns faster on the toy pool of the tests, see
``src/facerig/weights/ENCODER.md``), plus the mesh term ``mean_v |sum_k (w_k - w*_k) d_k|`` on
the proxy (head widths, times ``mesh_weight``). The L1 of the weights is logged.

Outputs in ``out_dir``: ``last.pt`` (resume), ``best.pt`` (best validation weight MAE on
held-out heads: pool items ``eval_*.npz``), ``train_log.jsonl``; :func:`export_encoder` writes
the shipped ``.npz``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from facerig.models.encoder.config import EncoderConfig
from facerig.models.encoder.network import ExpressionEncoder


def default_pool_dir() -> Path:
    from facerig.config import cache_dir

    return cache_dir("encoder_pool")


@dataclass
class EncoderTrainConfig:
    """Everything a run depends on (saved in checkpoints)."""

    pool_dir: str = ""
    out_dir: str = "runs/encoder"
    time_limit_min: float = 40.0
    steps: int = 0  # > 0: stop after this many steps (and anneal over them) instead of the time limit
    lr: float = 1e-3
    warmup: int = 100
    poses: int = 8  # poses per head and step
    mesh_weight: float = 20.0
    weight_loss: str = "bce"  # "bce" (cross-entropy on the logits) or "l1" (of the sigmoid's output)
    disp_weight: float = 0.0  # > 0 (needs model disp_head): dense per-vertex displacement target, see disp_loss
    take_holdout: float = 0.2
    rotate_deg: float = 0.0  # random rotation of each pose (degrees, about each axis)
    jitter: float = 0.002  # random translation (head widths)
    seed: int = 0
    threads: int = 2
    log_every: int = 25
    eval_every_min: float = 8.0
    val_heads: int = 8  # held-out heads validated on (split evenly over the families)
    val_poses: int = 12
    model: dict = field(default_factory=lambda: EncoderConfig().to_dict())


# -- data -----------------------------------------------------------------------------------------
@dataclass
class Head:
    """One pool head: xyz (P,3) neutral proxy (normalised), ops (torch), hks (P, n_hks),
    deltas (K,P,3), mask (K,) shapes the head has, name."""

    xyz: torch.Tensor
    ops: object
    hks: torch.Tensor
    deltas: torch.Tensor
    mask: torch.Tensor
    name: str


def load_head(path: str | Path, k: int, n_hks: int) -> Head:
    """A pool item (:mod:`facerig.train.dataset`) as a :class:`Head` (first ``k`` eigenpairs)."""
    from facerig.geometry.operators import Operators, csr_tensor
    from facerig.models.raf.network import hks_features

    with np.load(path, allow_pickle=False) as z:
        P = z["xyz"].shape[0]

        def csr(name):
            return csr_tensor(z[f"{name}_indptr"], z[f"{name}_indices"], z[f"{name}_data"], (P, P), dtype=torch.float32)

        kk = min(k, z["evals"].shape[0])
        ops = Operators(
            mass=torch.from_numpy(z["mass"]),
            evals=torch.from_numpy(z["evals"][:kk].copy()),
            evecs=torch.from_numpy(np.ascontiguousarray(z["evecs"][:, :kk])),
            grad_x=csr("gx"),
            grad_y=csr("gy"),
        )
        head = Head(
            torch.from_numpy(z["xyz"]),
            ops,
            hks_features(ops, n_hks),
            torch.from_numpy(z["deltas"]),
            torch.from_numpy(z["shape_mask"]),
            Path(path).stem,
        )
    return head


def take_weights(holdout: float = 0.2, part: str = "train") -> np.ndarray:
    """The real take's frames (T', 52): its first ``1 - holdout`` (``part="train"``) or the rest
    (``"eval"``), in time order (:func:`facerig.invert.prior.split_take`, the split the weight prior
    and ``facerig eval --task invert`` share)."""
    from facerig.eval.invert import take_path
    from facerig.invert.prior import split_take
    from facerig.io.takes import read_take

    train, held_out = split_take(read_take(take_path()).weights.astype(np.float32), holdout)
    return train if part == "train" else held_out


def sample_expressions(
    rng: np.random.Generator,
    take: np.ndarray,
    n: int,
    mask: np.ndarray | None = None,
    p: tuple[float, float, float, float, float] = (0.5, 0.2, 0.12, 0.12, 0.06),
) -> np.ndarray:
    """(n, 52) float32 training weights with a face's co-activation.

    Each row is, with probabilities ``p``: a take frame jittered (each weight times
    exp(N(0, 0.25)) plus N(0, 0.03)); a mix of two take frames (convex, or the element-wise
    max); a take frame thinned (each shape kept with probability 1/2); a one-hot shape at
    U(0.2, 1); the neutral (all 0). Clipped to [0, 1]; shapes outside ``mask`` (K,) are 0.

    Args:
        take: (T, 52) take frames (:func:`take_weights`).
    """
    K = take.shape[1]
    kind = rng.choice(5, size=n, p=np.asarray(p) / np.sum(p))
    W = take[rng.integers(0, len(take), size=n)].astype(np.float64)
    jit = kind == 0
    W[jit] = W[jit] * np.exp(rng.normal(0, 0.25, (jit.sum(), K))) + rng.normal(0, 0.03, (jit.sum(), K))
    mix = np.flatnonzero(kind == 1)
    other = take[rng.integers(0, len(take), size=mix.size)]
    a = rng.uniform(0, 1, (mix.size, 1))
    conv = rng.uniform(size=mix.size) < 0.5
    W[mix] = np.where(conv[:, None], a * W[mix] + (1 - a) * other, np.maximum(W[mix], other))
    thin = kind == 2
    W[thin] *= rng.uniform(size=(thin.sum(), K)) < 0.5
    one = np.flatnonzero(kind == 3)
    avail = np.flatnonzero(mask) if mask is not None else np.arange(K)
    W[one] = 0.0
    W[one, rng.choice(avail, size=one.size)] = rng.uniform(0.2, 1.0, one.size)
    W[kind == 4] = 0.0
    W = np.clip(W, 0.0, 1.0)
    if mask is not None:
        W[:, ~np.asarray(mask, bool)] = 0.0
    return W.astype(np.float32)


def _rotations(rng: np.random.Generator, n: int, deg: float) -> np.ndarray:
    """(n,3,3) small random rotations (each Euler angle uniform in +-deg)."""
    from scipy.spatial.transform import Rotation

    if deg <= 0:
        return np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    return Rotation.from_euler("xyz", rng.uniform(-deg, deg, (n, 3)), degrees=True).as_matrix()


def pose_batch(
    head: Head,
    W: np.ndarray,
    rng: np.random.Generator | None = None,
    rotate_deg: float = 0.0,
    jitter: float = 0.0,
    with_neutral: bool = False,
):
    """Posed proxies of ``head`` at weights W (B,52), each in its own head frame (with optional
    small random rotation / translation): (B,P,3) float32. ``with_neutral``: also the neutral
    proxy moved into each pose's frame (B,P,3), so that ``xyz - neutral`` is each vertex's
    displacement as the network sees it."""
    from facerig.models.encoder.runtime import posed_frame

    posed = head.xyz[None].double() + torch.einsum("bk,kpc->bpc", torch.from_numpy(W).double(), head.deltas.double())
    X = posed.numpy()
    N = np.broadcast_to(head.xyz.double().numpy(), X.shape)
    if rng is not None and rotate_deg > 0:
        R = _rotations(rng, len(X), rotate_deg)
        X = np.einsum("bij,bpj->bpi", R, X)
        N = np.einsum("bij,bpj->bpi", R, N)
    xyz, centers, scales = posed_frame(X)
    neutral = (N - centers[:, None]) / scales[:, None, None]
    if rng is not None and jitter > 0:
        shift = rng.normal(0, jitter, (len(xyz), 1, 3))
        xyz, neutral = xyz + shift, neutral + shift
    out = torch.from_numpy(xyz.astype(np.float32))
    return (out, torch.from_numpy(neutral.astype(np.float32))) if with_neutral else out


def encoder_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    head: Head,
    mesh_weight: float,
    weight_loss: str = "bce",
    output: str = "sigmoid",
) -> tuple[torch.Tensor, dict]:
    """logits / target weights (B,52) -> (loss, parts): binary cross-entropy over the shapes the
    head has + ``mesh_weight`` x the mean vertex distance of ``sum_k (w_k - target_k) d_k`` on the
    proxy (head widths), ``w = sigmoid(logits)``; parts: ``bce``, ``l1`` (mean over those shapes),
    ``mesh``. ``weight_loss="l1"`` uses the L1 instead of the cross-entropy. ``output="linear"``
    (:class:`EncoderConfig`): ``w = logits`` unclamped (the L1 then pulls outputs that stray
    outside [0, 1] back; its gradient never vanishes), and the cross-entropy is not defined."""
    m = head.mask.to(logits.dtype)
    n = m.sum().clamp(min=1)
    if output == "linear":
        if weight_loss != "l1":
            raise ValueError("a linear output trains with weight_loss='l1'")
        bce = torch.zeros(())
        pred = logits
    else:
        bce = (torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none") * m).sum(
            1
        ).mean() / n
        pred = torch.sigmoid(logits)
    diff = (pred - target) * m
    l1 = diff.abs().sum(1).mean() / n
    err = torch.einsum("bk,kpc->bpc", diff, head.deltas)
    w = head.ops.mass / head.ops.mass.sum()
    mesh = (err.norm(dim=-1) * w).sum(1).mean()
    first = l1 if weight_loss == "l1" else bce
    return first + mesh_weight * mesh, {
        "bce": float(bce.detach()),
        "l1": float(l1.detach()),
        "mesh": float(mesh.detach()),
    }


def disp_loss(pred: torch.Tensor, target: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
    """Auxiliary dense target: mass-weighted mean over vertices of ``|pred - target|`` (the
    distance, head widths), mean over poses. pred / target (B,V,3) per-vertex displacements from
    the neutral in each pose's frame (:func:`pose_batch` ``with_neutral``); mass (V,).

    Every vertex then says how far it moved: a dense signal that teaches the DiffusionNet's
    features to tell an expression from an identity locally, which the pooled weights then read."""
    w = mass / mass.sum()
    return ((pred - target).norm(dim=-1) * w).sum(1).mean()


# -- loop -----------------------------------------------------------------------------------------
def _pick_val(paths: list[Path], n: int) -> list[Path]:
    """At most ``n`` of the held-out items, taken in turn from each family."""
    by_fam: dict[str, list[Path]] = {}
    for p in paths:
        by_fam.setdefault(p.stem.split("_")[1] if "_" in p.stem else "", []).append(p)
    out: list[Path] = []
    for i in range(max((len(v) for v in by_fam.values()), default=0)):
        out += [v[i] for v in by_fam.values() if i < len(v)]
    return sorted(out[:n])


def _val_set(paths: list[Path], take: np.ndarray, n: int, k: int, n_hks: int, seed: int = 123):
    rng = np.random.default_rng(seed)
    out = []
    for p in paths:
        h = load_head(p, k, n_hks)
        W = take[rng.integers(0, len(take), size=n)] * h.mask.numpy()
        out.append((h, W.astype(np.float32), pose_batch(h, W.astype(np.float32))))
    return out


@torch.no_grad()
def validate(model: ExpressionEncoder, val: list) -> dict[str, float]:
    """Weight MAE (over the shapes each head has) on held-out heads, per family and overall."""
    model.eval()
    per: dict[str, list[float]] = {}
    for h, W, xyz in val:
        pred = model(xyz, h.ops, h.hks).numpy()
        m = h.mask.numpy()
        fam = h.name.split("_")[1] if "_" in h.name else "all"
        per.setdefault(fam, []).append(float(np.abs(pred - W)[:, m].mean()))
    model.train()
    out = {f"mae_{f}": float(np.mean(v)) for f, v in per.items()}
    out["mae"] = float(np.mean([x for v in per.values() for x in v])) if per else float("nan")
    return out


def train_encoder(cfg: EncoderTrainConfig, log=print, take: np.ndarray | None = None) -> Path:
    """Train (resuming from ``out_dir/last.pt``); returns the best checkpoint's path.

    ``take``: (T, 52) expression frames to sample from (default: the real take, split in time by
    ``cfg.take_holdout`` into training and validation frames); given, all of them serve both."""
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pool = Path(cfg.pool_dir or default_pool_dir())
    mcfg = EncoderConfig.from_dict(cfg.model)
    train_paths = sorted(pool.glob("train_*.npz"))
    val_paths = _pick_val(sorted(pool.glob("eval_*.npz")), cfg.val_heads)
    if not train_paths:
        from facerig.errors import FacerigError

        raise FacerigError(
            f"{pool}: no training items (build them: facerig train pool --dir {pool} "
            f"--proxy-vertices {mcfg.proxy_vertices} --k {mcfg.k_eig} --families ict,makehuman)"
        )
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = ExpressionEncoder(mcfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    step, wall, best = 0, 0.0, float("inf")
    last = out / "last.pt"
    if last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        step, wall, best = int(ck["step"]), float(ck["wall_s"]), float(ck.get("best", best))
        rng = np.random.default_rng([cfg.seed, step])
        log(f"resumed from {last} at step {step} ({wall / 60:.1f} min)")
    val_take = take_weights(cfg.take_holdout, "eval") if take is None else np.asarray(take, np.float32)
    take = take_weights(cfg.take_holdout, "train") if take is None else np.asarray(take, np.float32)
    if step == 0:  # start at the take's mean weights (median for a linear output: the L1's best constant)
        with torch.no_grad():
            if mcfg.output == "linear":
                model.head[-1].bias.copy_(torch.from_numpy(np.median(take, axis=0).astype(np.float32)))
            else:
                mean = torch.from_numpy(np.clip(take.mean(0), 0.01, 0.99))
                model.head[-1].bias.copy_(torch.log(mean / (1 - mean)))
    val = _val_set(val_paths, val_take, cfg.val_poses, mcfg.k_eig, mcfg.n_hks)
    heads: dict[Path, Head] = {}
    fams = np.array([p.stem.split("_")[1] for p in train_paths])
    fam_names = sorted(set(fams))
    log(
        f"{len(train_paths)} training heads ({', '.join(f'{f}: {(fams == f).sum()}' for f in fam_names)}), "
        f"{len(val_paths)} validation heads, {len(take)} take frames; model "
        f"{sum(p.numel() for p in model.parameters())} parameters"
    )
    t_start = time.perf_counter() - wall
    t_eval = time.perf_counter()
    limit_s = cfg.time_limit_min * 60.0
    log_path = out / "train_log.jsonl"
    run = {"bce": 0.0, "l1": 0.0, "mesh": 0.0, "disp": 0.0, "n": 0}

    def save(path: Path, val_rec: dict | None = None) -> None:
        from facerig.io.atomic import atomic_path

        with atomic_path(path, suffix=".pt") as tmp:
            torch.save(
                {
                    **model.checkpoint(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "wall_s": time.perf_counter() - t_start,
                    "best": best,
                    "val": val_rec,
                    "train_config": asdict(cfg),
                },
                tmp,
            )

    while True:
        elapsed = time.perf_counter() - t_start
        frac = step / cfg.steps if cfg.steps > 0 else elapsed / max(limit_s, 1e-9)
        if frac >= 1.0:
            break
        lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup, 1)) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        fam = fam_names[step % len(fam_names)] if len(fam_names) > 1 else fam_names[0]
        path = train_paths[int(rng.choice(np.flatnonzero(fams == fam)))]
        if path not in heads:
            heads[path] = load_head(path, mcfg.k_eig, mcfg.n_hks)
        head = heads[path]
        W = sample_expressions(rng, take, cfg.poses, head.mask.numpy())
        xyz, neutral = pose_batch(head, W, rng, cfg.rotate_deg, cfg.jitter, with_neutral=True)
        raw, disp = model.encode(xyz, head.ops, head.hks)
        loss, parts = encoder_loss(raw, torch.from_numpy(W), head, cfg.mesh_weight, cfg.weight_loss, mcfg.output)
        if cfg.disp_weight > 0 and disp is not None:
            d = disp_loss(disp, xyz - neutral, head.ops.mass)
            loss = loss + cfg.disp_weight * d
            parts["disp"] = float(d.detach())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        for k_ in parts:
            run[k_] += parts[k_]
        run["n"] += 1
        if step % cfg.log_every == 0:
            rec = {
                "step": step,
                "min": round((time.perf_counter() - t_start) / 60, 2),
                "lr": lr,
                **{k_: round(run[k_] / run["n"], 5) for k_ in parts},
            }
            run = {"bce": 0.0, "l1": 0.0, "mesh": 0.0, "disp": 0.0, "n": 0}
            log(json.dumps(rec))
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if time.perf_counter() - t_eval > cfg.eval_every_min * 60:
            t_eval = time.perf_counter()
            if len(sorted(pool.glob("train_*.npz"))) > len(train_paths):  # a pool build running alongside
                train_paths = sorted(pool.glob("train_*.npz"))
                fams = np.array([p.stem.split("_")[1] for p in train_paths])
                log(f"pool refreshed: {len(train_paths)} training heads")
            v = validate(model, val)
            rec = {"step": step, "min": round((time.perf_counter() - t_start) / 60, 2), "val": v}
            log(json.dumps(rec))
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if v["mae"] < best:
                best = v["mae"]
                save(out / "best.pt", v)
            save(last, v)
    v = validate(model, val) if val else {"mae": float("nan")}
    rec = {"step": step, "min": round((time.perf_counter() - t_start) / 60, 2), "val": v, "final": True}
    log(json.dumps(rec))
    with open(log_path, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if not (v["mae"] >= best):  # better, or no validation set
        best = v["mae"] if v["mae"] == v["mae"] else best
        save(out / "best.pt", v)
    save(last, v)
    return out / "best.pt"


def export_encoder(checkpoint: str | Path, output: str | Path | None = None, note: str = "") -> Path:
    """A training checkpoint -> the shipped weights ``.npz`` (:func:`facerig.models.raf.weights.save_weights`
    format; default ``src/facerig/weights/encoder.npz``)."""
    from facerig.models.encoder.weights import WEIGHTS_PATH, _load
    from facerig.models.raf.weights import save_weights

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    meta = {
        "step": int(ck.get("step", 0)),
        "wall_s": float(ck.get("wall_s", 0.0)),
        "val": ck.get("val"),
        "train_config": ck.get("train_config"),
        "note": note,
    }
    path = save_weights(Path(output) if output else WEIGHTS_PATH, ck["config"], ck["state_dict"], meta)
    _load.cache_clear()
    return path
