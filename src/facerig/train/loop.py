"""The training loop: Adam + linear warm-up + CosineAnnealingWarmRestarts, checkpoints, resume.

One step = one head from the pool and Q FACS queries on it (random one-hot shapes plus random
combinations); the trunk runs once, the conditional blocks on all Q queries. Besides the paper's
terms (:mod:`facerig.train.losses`) the linear basis head gets an auxiliary vertex MSE on every
supervised one-hot shape of the head (``basis_weight``), which is cheap (no conditional pass).

With ``ema`` > 0 the run also keeps an exponential moving average of the weights
(``torch.optim.swa_utils.AveragedModel``): validation, ``best.pt`` and the rigging/export
readers (:func:`facerig.models.raf.weights.checkpoint_weights`) use the average, stored as
``ema_state_dict`` beside the raw ``state_dict`` that the optimiser resumes from. One head per
step makes the raw weights noisy; the average is the smoother estimate.

With ``steps`` <= 0 the run lasts ``time_limit_min`` and its learning rate follows one cosine
over that time (after the warm-up steps) rather than over a number of steps: a run sized to a
time budget (e.g. a lent GPU's) whatever its speed turns out to be. A resumed time-scheduled run
starts a new cosine over its own time limit.

With ``p_frame`` > 0 that share of steps sees its head in a frame ``a`` times wider or narrower
(``a`` log-uniform in ``[1/frame_spread, frame_spread]``, :func:`facerig.train.augment.rescale_item`),
so the network does not take the measured head width as the size of the face.

With ``cache_items`` (default: on for a CUDA device) each pool item stays on the device after its
first use, so later steps read no file and copy nothing to the device (~7 MB per 5k-vertex
item: the 906-item pool takes ~6 GB).

With ``p_unrigged`` > 0 that share of steps takes an *unrigged* item of the pool
(``unrigged_*.npz``, :func:`facerig.train.dataset.build_pool` with ``withhold_rig``) and its
queries are ``eyeBlinkLeft``, ``eyeBlinkRight``, ``jawOpen`` and ``n_onehot`` random one-hot shapes
with their mirror images; only the terms that need no ground truth (and ``reg``) apply to it
(:mod:`facerig.train.losses_2d`). The rendered terms with ground truth (``img``, ``mask``,
``dis2d``) render the first ``n2d`` queries of a rigged step at ``image_size`` pixels.

Outputs in ``out_dir``: ``last.pt`` (model + optimiser + scheduler + RNG state, for resume),
``best.pt`` (best validation active error), ``train_log.jsonl`` (one JSON object per log line).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from facerig.models.raf.config import RAFConfig
from facerig.models.raf.network import RigAnyFace
from facerig.train.augment import rescale_item, sample_frame_factor
from facerig.train.dataset import Item, Pool, sample_queries
from facerig.train.losses import NO_GT_TERMS, RENDER_TERMS, LossBatch, LossWeights, act3d, rig_loss
from facerig.train.losses_2d import head_geometry


@dataclass
class TrainConfig:
    """Everything a run depends on (saved in checkpoints)."""

    pool_dir: str = ""
    out_dir: str = "runs/raf"
    steps: int = 20000
    lr: float = 1e-4
    warmup: int = 500
    restart_period: int = 5000
    n_onehot: int = 4
    n_combo: int = 2
    basis_weight: float = 100.0
    jitter: float = 0.005
    seed: int = 0
    log_every: int = 25
    ckpt_every: int = 250
    eval_every: int = 250
    max_val: int = 6
    threads: int = 1
    device: str = "auto"
    time_limit_min: float = 0.0  # with steps <= 0: the run's length, and the cosine's
    cache_items: bool | None = None  # keep pool items on the device (None = on for CUDA)
    ema: float = 0.0  # decay of the weights' moving average per step (0 = off; e.g. 0.999)
    frame_spread: float = 1.0  # head-frame augmentation: factor log-uniform in [1/spread, spread]
    p_frame: float = 0.0  # ... applied to this share of steps (facerig.train.augment; 0 = off)
    face_frame: bool = False  # every head in the face-measured frame `facerig rig` uses, see item_face_factor
    init_from: str = ""
    p_unrigged: float = 0.0  # share of steps on unrigged items (no ground truth; 0 = none)
    n2d: int = 2  # queries per rigged step that the rendered terms render
    image_size: int = 64  # pixels of the rendered terms' frontal images
    model: dict = field(default_factory=lambda: RAFConfig().to_dict())
    weights: dict = field(default_factory=lambda: LossWeights().to_dict())


class Scheduler:
    """Linear warm-up for ``warmup`` steps, then CosineAnnealingWarmRestarts(T_0=restart_period)."""

    def __init__(self, opt: torch.optim.Optimizer, base_lr: float, warmup: int, period: int, eta_min: float = 1e-7):
        self.opt, self.base_lr, self.warmup, self.period, self.eta_min = opt, base_lr, warmup, period, eta_min

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.base_lr * (step + 1) / self.warmup
        t = (step - self.warmup) % max(self.period, 1)
        return self.eta_min + 0.5 * (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.period))

    def lr_at_fraction(self, step: int, frac: float) -> float:
        """Warm-up by step, then one cosine over ``frac`` in [0, 1] (time-scheduled runs)."""
        if step < self.warmup:
            return self.base_lr * (step + 1) / self.warmup
        f = min(max(frac, 0.0), 1.0)
        return self.eta_min + 0.5 * (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * f))

    def set(self, step: int, frac: float | None = None) -> float:
        lr = self.lr_at(step) if frac is None else self.lr_at_fraction(step, frac)
        for g in self.opt.param_groups:
            g["lr"] = lr
        return lr


def active_error_mm(pred: torch.Tensor, gt: torch.Tensor, mm: float, thresh_mm: float = 0.5) -> torch.Tensor:
    """Per-shape mean error (mm) over vertices whose GT moves > thresh: pred/gt (K,V,3) in units
    where ``mm`` converts to millimetres -> (K,) (NaN where no vertex is active)."""
    g = gt.norm(dim=-1) * mm
    e = (pred - gt).norm(dim=-1) * mm
    act = g > thresh_mm
    return torch.where(act.any(1), (e * act).sum(1) / act.sum(1).clamp(min=1), torch.full_like(e[:, 0], float("nan")))


@torch.no_grad()
def evaluate(model: RigAnyFace, items: list[Item], device) -> dict:
    """Mean active error (mm, proxy level, all supervised one-hot shapes) and zero-rig error."""
    model.eval()
    errs, zeros = [], []
    for it in items:
        it = it.to(device)
        K = it.deltas.shape[0]
        a = torch.eye(K, device=device)
        pred = model(it.xyz, it.ops, a, it.local)
        mm = it.scale * it.mm_per_unit
        m = it.shape_mask
        e = active_error_mm(pred[m], it.deltas[m], mm)
        z = active_error_mm(torch.zeros_like(it.deltas[m]), it.deltas[m], mm)
        errs.append(torch.nanmean(e).item())
        zeros.append(torch.nanmean(z).item())
    model.train()
    return {
        "val_active_mm": float(np.mean(errs)) if errs else float("nan"),
        "val_zero_mm": float(np.mean(zeros)) if zeros else float("nan"),
    }


def unrigged_queries(rng: np.random.Generator, n_onehot: int = 2) -> np.ndarray:
    """Queries of an unrigged step (Q,K) float32: one-hot ``eyeBlinkLeft``, ``eyeBlinkRight``,
    ``jawOpen`` (the eye-closure and mouth-opening terms), then ``n_onehot`` distinct random
    one-hot shapes and the mirror image of each (the mirror term)."""
    from facerig.arkit import ARKIT52, mirror_permutation

    K = len(ARKIT52)
    perm = mirror_permutation()
    fixed = [ARKIT52.index(n) for n in ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen")]
    rand = [int(j) for j in rng.choice(K, size=min(n_onehot, K), replace=False)]
    idx = fixed + [j for r in rand for j in ((r, perm[r]) if perm[r] != r else (r,))]
    a = np.zeros((len(idx), K), np.float32)
    a[np.arange(len(idx)), idx] = 1.0
    return a


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _family(path: Path) -> str:
    """Head family of a pool file ``<split>_<family>_<seed>.npz``."""
    parts = Path(path).stem.split("_")
    return "_".join(parts[1:-1]) or "?"


def validation_indices(paths: list[Path], n: int) -> list[int]:
    """Indices of at most ``n`` validation items taken in turn from each head family (first
    seeds first), so validation watches every family the pool holds, not only the one whose
    files sort first (ICT before MakeHuman)."""
    by_family: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        by_family.setdefault(_family(p), []).append(i)
    queues = [by_family[f] for f in sorted(by_family)]
    out: list[int] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return sorted(out)


@torch.no_grad()
def item_face_factor(probe: RigAnyFace, item: Item) -> float:
    """The face-frame factor of a training item (:func:`facerig.models.raf.probe.face_frame_factor`),
    measured as ``facerig rig`` measures it, with ``probe`` (the network the run starts from,
    kept fixed: on a resumed run, the resumed network) in the item's measured head frame."""
    from facerig.models.raf.probe import face_frame_factor, face_probe_queries, landmarks_from_motion

    q = torch.from_numpy(face_probe_queries(probe.config.num_shapes)).to(item.xyz.device)
    d = probe(item.xyz, item.ops, q, item.local)
    return face_frame_factor(landmarks_from_motion(item.xyz.cpu().numpy(), d.cpu().numpy()))


def train(cfg: TrainConfig, log=print, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    by_time = cfg.steps <= 0
    if by_time and cfg.time_limit_min <= 0:
        from facerig.errors import FacerigError

        raise FacerigError("a run without a step count needs a time limit (--time-limit MINUTES)")
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = _device(cfg.device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = RigAnyFace(RAFConfig.from_dict(cfg.model)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = Scheduler(opt, cfg.lr, cfg.warmup, cfg.restart_period)
    weights = LossWeights(**cfg.weights)
    step, best = 0, float("inf")
    last = out / "last.pt"
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        step, best = int(ck["step"]), float(ck.get("best", best))
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"].cpu())  # map_location moved it to the device
        log(f"resumed from {last} at step {step}")
    elif cfg.init_from:
        from facerig.models.raf.weights import read_weights

        _, params, meta0 = read_weights(cfg.init_from)  # checkpoint .pt or shipped .npz
        padded = model.load_compatible({k: torch.from_numpy(v) for k, v in params.items()})
        log(
            f"initialised from {cfg.init_from} (step {meta0.get('step', '?')}; resized inputs: {', '.join(padded) or 'none'})"
        )
    ema = None
    if cfg.ema:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)
        if last.exists() and ck.get("ema_state_dict"):
            ema.module.load_state_dict(ck["ema_state_dict"])
            ema.n_averaged.fill_(int(ck.get("ema_n", 1)))
        else:  # the average starts at the current weights
            ema.update_parameters(model)
    probe, face_factors = None, {}
    if cfg.face_frame:  # the frame of each head is measured once, by the network the run starts from
        import copy

        probe = copy.deepcopy(ema.module if ema is not None else model).eval()
    pool = Pool(cfg.pool_dir, "train_*.npz", k=model.config.k_eig)
    unrigged = Pool(cfg.pool_dir, "unrigged_*.npz", k=model.config.k_eig)
    needs_geometry = any(getattr(weights, t) for t in (*RENDER_TERMS, *NO_GT_TERMS))
    geometry: dict[Path, object] = {}
    if len(pool) == 0:
        from facerig.errors import DataError

        raise DataError(f"no training items in {cfg.pool_dir} (build them with `facerig train pool`)")
    val_pool = Pool(cfg.pool_dir, "eval_*.npz", k=model.config.k_eig)
    val_index = validation_indices(val_pool.paths, cfg.max_val)
    val_items = [val_pool[i] for i in val_index]
    if probe is not None:
        val_items = [rescale_item(it, item_face_factor(probe, it)) for it in val_items]
    cache_items = (device.type == "cuda") if cfg.cache_items is None else bool(cfg.cache_items)
    cache: dict[Path, Item] = {}
    val_items = [it.to(device) for it in val_items] if cache_items else val_items
    val_families = sorted({_family(val_pool.paths[i]) for i in val_index})
    log(
        (f"{len(unrigged)} unrigged items on {cfg.p_unrigged:.0%} of steps; " if cfg.p_unrigged else "")
        + f"training on {len(pool)} items ({len(val_items)} validation: {', '.join(val_families) or 'none'}), device {device}, "
        f"{sum(p.numel() for p in model.parameters())} parameters"
        + (f", {cfg.time_limit_min:g} min with the learning rate annealed over that time" if by_time else "")
        + (", items kept on the device" if cache_items else "")
    )
    logf = open(out / "train_log.jsonl", "a")
    t_start = time.time()
    run_time0 = float(ck.get("wall_s", 0.0)) if last.exists() else 0.0
    meter: dict[str, list[float]] = {}
    model.train()

    def save(path: Path, **extra):
        if ema is not None:
            extra.update(ema_state_dict=ema.module.state_dict(), ema_n=int(ema.n_averaged))
        ck = model.checkpoint(
            optimizer=opt.state_dict(),
            step=step,
            best=best,
            rng=rng.bit_generator.state,
            torch_rng=torch.get_rng_state(),
            train_config=asdict(cfg),
            wall_s=run_time0 + time.time() - t_start,
            **extra,
        )
        tmp = path.with_suffix(".tmp")
        torch.save(ck, tmp)
        tmp.replace(path)

    while by_time or step < cfg.steps:
        if step % 200 == 0:
            pool.refresh()
            unrigged.refresh()
        use_unrigged = cfg.p_unrigged > 0 and len(unrigged) > 0 and rng.random() < cfg.p_unrigged
        src = unrigged if use_unrigged else pool
        i = int(rng.integers(len(src)))
        path = src.paths[i]
        if cache_items:
            if path not in cache:
                cache[path] = src[i].to(device)
            item = cache[path]
        else:
            item = src[i].to(device)
        if needs_geometry and path not in geometry:
            geometry[path] = head_geometry(
                item.xyz.cpu().numpy(), item.faces, item.landmarks.cpu().numpy(), item.rigid
            ).to(device)
        frame = sample_frame_factor(rng, cfg.frame_spread, cfg.p_frame)
        if probe is not None:
            if path not in face_factors:
                face_factors[path] = item_face_factor(probe, item)
            frame *= face_factors[path]
        if frame != 1.0:  # the same head seen in a misjudged head frame
            item = rescale_item(item, frame)
        lr = sched.set(step, (time.time() - t_start) / (60 * cfg.time_limit_min) if by_time else None)
        mask = item.shape_mask.cpu().numpy()
        if use_unrigged:
            a = torch.from_numpy(unrigged_queries(rng, cfg.n_onehot)).to(device)
        else:
            a = torch.from_numpy(sample_queries(rng, mask, cfg.n_onehot, cfg.n_combo)).to(device)
        xyz = item.xyz + (
            torch.from_numpy(rng.normal(0, cfg.jitter, 3).astype(np.float32)).to(device) if cfg.jitter else 0
        )
        enc = model.encode(xyz, item.ops, item.local)
        pred = model.decode(enc, a, item.ops)
        target = None if use_unrigged else torch.einsum("qk,kvc->qvc", a, item.deltas)
        thresh = 0.5 / (item.scale * item.mm_per_unit)  # 0.5 mm in head-frame units
        batch = LossBatch(
            neutral=xyz,
            target=target,
            landmarks=item.landmarks,
            active_threshold=thresh,
            geometry=geometry.get(path),
            queries=a,
            n2d=cfg.n2d,
            image_size=cfg.image_size,
        )
        loss, parts = rig_loss(pred, batch, weights)
        if use_unrigged:
            parts = {f"u_{k_}": v for k_, v in parts.items()}
        elif cfg.basis_weight and enc["basis"] is not None:
            b = enc["basis"].permute(1, 0, 2)[item.shape_mask]  # (K',V,3)
            lb = ((b - item.deltas[item.shape_mask]) ** 2).sum(-1).mean()
            loss = loss + cfg.basis_weight * lb
            parts["basis"] = float(lb.detach())
            if weights.act3d:  # the metric-aligned term on every supervised one-hot shape too
                la = act3d(
                    b,
                    LossBatch(
                        neutral=xyz,
                        target=item.deltas[item.shape_mask],
                        landmarks=item.landmarks,
                        active_threshold=thresh,
                    ),
                    None,
                )
                loss = loss + weights.act3d * la
                parts["basis_act"] = float(la.detach())
            parts["total"] = float(loss.detach())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if torch.isfinite(gnorm):
            opt.step()
        else:  # a non-finite gradient would poison the weights: skip the step, count it
            parts["skipped"] = 1.0
        if ema is not None:
            ema.update_parameters(model)
        step += 1
        for k_, v in parts.items():
            meter.setdefault(k_, []).append(v)
        if step % cfg.log_every == 0:
            rec = {
                "step": step,
                "lr": lr,
                "wall_s": round(run_time0 + time.time() - t_start, 1),
                **{k_: float(np.mean(v)) for k_, v in meter.items()},
            }
            meter = {}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            if progress:
                log(" ".join(f"{k_}={v:.4g}" if isinstance(v, float) else f"{k_}={v}" for k_, v in rec.items()))
        if step % cfg.eval_every == 0 and val_items:
            ev = evaluate(model if ema is None else ema.module, val_items, device)
            rec = {"step": step, "wall_s": round(run_time0 + time.time() - t_start, 1), **ev}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            log(f"eval step {step}: {ev}")
            if ev["val_active_mm"] < best:
                best = ev["val_active_mm"]
                save(out / "best.pt", val=ev)
        if step % cfg.ckpt_every == 0:
            save(last)
        if cfg.time_limit_min and (time.time() - t_start) > 60 * cfg.time_limit_min:
            log(f"time limit reached at step {step}")
            break
    save(last)
    if not (out / "best.pt").exists():
        save(out / "best.pt")
    logf.close()
    return out / "best.pt"
