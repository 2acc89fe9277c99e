"""Evaluation of image-based rig inversion (``facerig eval --task invert-image``).

- Held-out set (:func:`facerig.train.image_inversion.make_dataset` ``"eval"``): ICT and MakeHuman
  identities the training never saw (the generator's eval split, with its warps and remeshes),
  and the Rocketbox male avatar and warps of it (a head by other authors; training saw only the
  female one), posed with frames of the real take, random cameras / lights / backgrounds.
  Scores per group and modality (RGB only, normals only, both): weight MAE, per region (brows,
  eyelids, gaze, mouth, jaw, other), and the rebuilt-mesh error through the head's own rig: RMS
  vertex distance of ``sum_k (w - w*)_k d_k`` over the face's vertices, in mm.
- Goal images (:func:`goal_images`): a near-frontal neutral, jawOpen, both blinks and both smiles
  (weight 1) of held-out heads and heads by other authors (Rocketbox, Weboji): the neutral should
  read every weight <= 0.3, each expression >= 0.5.
- Head-free images: the share flagged low confidence (and heads wrongly flagged).
- Mesh-based inversion (``facerig.invert.invert_meshes``, the head rigged by facerig) on the same
  frames of the unwarped Rocketbox male, when asked.
"""

from __future__ import annotations

import time

import numpy as np

from facerig.arkit import ARKIT52

REGIONS: dict[str, tuple[str, ...]] = {
    "brows": ("brow",),
    "eyelids": ("eyeBlink", "eyeSquint", "eyeWide"),
    "gaze": ("eyeLook",),
    "jaw": ("jaw",),
    "mouth": ("mouth",),
    "other": ("cheek", "nose", "tongue"),
}
MODALITIES = {"rgb": (1.0, 0.0), "normals": (0.0, 1.0), "both": (1.0, 1.0)}
GOALS = {
    "neutral": (),
    "jawOpen": ("jawOpen",),
    "blinks": ("eyeBlinkLeft", "eyeBlinkRight"),
    "smiles": ("mouthSmileLeft", "mouthSmileRight"),
}


def region_index() -> dict[str, np.ndarray]:
    """Region name -> indices into :data:`ARKIT52`."""
    return {r: np.array([i for i, n in enumerate(ARKIT52) if n.startswith(p)]) for r, p in REGIONS.items()}


def _inputs(d: dict, idx: np.ndarray, seed: int):
    """Deterministic test-time inputs: the training augmentation with a fixed seed, no mirroring."""
    from facerig.train.image_inversion import augment_batch

    rng = np.random.default_rng(seed)
    return augment_batch(
        d["rgb"][idx],
        d["normals"][idx],
        d["mask"][idx],
        d["weights"][idx],
        rng,
        p_mirror=0.0,
        p_rgb_only=0.0,
        p_normals_only=0.0,
    )


def predict(
    model,
    d: dict,
    modality: str,
    batch: int = 128,
    seed: int = 0,
    mirror: bool = True,
    calibrate: bool = True,
    tta: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(M, 52) weights and (M,) head probabilities of every image of dataset ``d`` with one modality.

    ``mirror``: the mirror test-time augmentation of ``facerig invert-image``
    (:func:`facerig.models.image_inversion.infer.network_pass`): each image and its mirror image, the
    normal maps' head read from the maps themselves as the CLI reads them. ``calibrate``: through the weights
    file's output calibration, if it has one (as ``facerig invert-image`` reads). ``tta``: the weights file's
    test-time augmentation, if it has one (:mod:`facerig.models.image_inversion.tta`; as ``facerig invert-image``).
    """
    from facerig.models.image_inversion.infer import network_pass
    from facerig.models.image_inversion.mirror import normals_foreground

    M = len(d["weights"])
    W, P = np.zeros((M, 52)), np.zeros(M)
    flags = np.array(MODALITIES[modality], np.float32)
    for s in range(0, M, batch):
        idx = np.arange(s, min(M, s + batch))
        rgb, nrm, _, _ = _inputs(d, idx, seed + s)
        x, n = (t.numpy().transpose(0, 2, 3, 1) for t in (rgb, nrm))
        fg = normals_foreground(n) if mirror else None
        w, logit = network_pass(
            model,
            x,
            n,
            np.repeat(flags[None], len(idx), 0),
            mirror=mirror,
            foreground=fg,
            calibrate=calibrate,
            tta=tta,
        )
        W[idx], P[idx] = w, 1 / (1 + np.exp(-logit))
    return W, P


def score(W: np.ndarray, d: dict, rows: np.ndarray) -> dict:
    """Weight MAE (all, per region) and rebuilt-mesh RMS error (mm) of predictions ``W`` on ``rows``."""
    e = W[rows] - d["weights"][rows]
    G = d["gram"][d["head"][rows]]
    mesh = np.sqrt(np.maximum(np.einsum("bj,bjk,bk->b", e, G, e), 0))
    out = {
        "images": int(len(rows)),
        "weight_mae": float(np.abs(e).mean()),
        "mesh_rms_mm": float(mesh.mean()),
        "mesh_rms_mm_p90": float(np.percentile(mesh, 90)),
    }
    out["regions"] = {r: float(np.abs(e[:, i]).mean()) for r, i in region_index().items()}
    return out


def _group(name: str) -> str:
    if name.startswith("rocketbox"):
        return "rocketbox_male (other authors)"
    return name.split("_")[0] + " held-out"


def goal_images(heads, seed: int = 5, size: int = 96) -> dict:
    """Near-frontal renders of GOALS for each head: {"rgb", "normals", "mask", "weights", "names", "goals"}."""
    from facerig.data import renders

    cfg = renders.RenderConfig(size=size, yaw=4.0, pitch=4.0, roll=2.0, face_fraction=(0.55, 0.8), shift=0.02)
    rng = np.random.default_rng(seed)
    parts = {"rgb": [], "normals": [], "mask": [], "weights": []}
    names, goals = [], []
    for head in heads:
        W = np.zeros((len(GOALS), 52), np.float32)
        for g, shapes in enumerate(GOALS.values()):
            for s in shapes:
                W[g, ARKIT52.index(s)] = 1.0
        W[:, ~head.present] = 0
        imgs = renders.render_head(head, W, rng, cfg)
        for k in ("rgb", "normals", "mask"):
            parts[k].append(imgs[k])
        parts["weights"].append(W)
        names += [head.name] * len(GOALS)
        goals += list(GOALS)
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["names"], out["goals"] = names, goals
    return out


def goal_report(model, heads, mirror: bool = True, calibrate: bool = True, tta: bool = True) -> list[dict]:
    """Per head, modality and goal: the weights the goal is about (max for neutral) and pass/fail
    (``mirror``, ``calibrate``, ``tta``: as ``facerig invert-image`` reads by default, see :func:`predict`)."""
    gi = goal_images(heads, size=model.config.size)
    gi["gram"] = np.zeros((1, 52, 52), np.float32)
    gi["head"] = np.zeros(len(gi["weights"]), np.int64)
    rows = []
    for mod in MODALITIES:
        W, P = predict(model, gi, mod, mirror=mirror, calibrate=calibrate, tta=tta)
        for i, (name, goal) in enumerate(zip(gi["names"], gi["goals"])):
            shapes = GOALS[goal]
            if goal == "neutral":
                val, ok = float(W[i].max()), bool(W[i].max() <= 0.3)
                what = ARKIT52[int(W[i].argmax())]
            else:
                if not all(gi["weights"][i, ARKIT52.index(s)] > 0 for s in shapes):
                    continue  # the head lacks the shape
                vals = [float(W[i, ARKIT52.index(s)]) for s in shapes]
                val, ok, what = min(vals), bool(min(vals) >= 0.5), ",".join(shapes)
            rows.append(
                {
                    "head": name,
                    "modality": mod,
                    "goal": goal,
                    "value": round(val, 3),
                    "pass": ok,
                    "read": what,
                    "head_probability": round(float(P[i]), 3),
                }
            )
    return rows


def goal_table(rows: list[dict]) -> dict[str, dict[str, str]]:
    """Goal -> modality -> ``"passed/heads"`` of :func:`goal_report` rows."""
    out: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        c = out.setdefault(r["goal"], {}).setdefault(r["modality"], [0, 0])
        c[0] += bool(r["pass"])
        c[1] += 1
    return {g: {m: f"{a}/{b}" for m, (a, b) in cells.items()} for g, cells in out.items()}


def mesh_inversion_baseline(d: dict, head_name: str = "rocketbox_male_adult_08", limit: int = 60) -> dict:
    """``facerig.invert.invert_meshes`` (the head rigged by facerig raf) on the same frames of one head."""
    from facerig.data import renders
    from facerig.invert.pipeline import invert_meshes
    from facerig.io.mesh import Mesh

    head = renders.author_heads(head_name.split("_")[0] + "_*", names=(head_name,))[0]
    h = list(d["head_names"]).index(head_name)
    rows = np.flatnonzero(d["head"] == h)[:limit]
    Wt = d["weights"][rows].astype(np.float64)
    posed = head.vertices[None] + np.einsum("tk,kvc->tvc", Wt, head.deltas.astype(np.float64))
    t0 = time.time()
    inv = invert_meshes(posed, mesh=Mesh(vertices=head.vertices, faces=head.faces), method="raf", residual=False)
    W = np.zeros((len(d["weights"]), 52))
    W[rows] = inv.weights
    out = score(W, d, rows)
    out["seconds"] = round(time.time() - t0, 1)
    out["rows"] = rows.tolist()
    return out


def evaluate_image_inversion(
    weights=None,
    *,
    scale: float = 1.0,
    mesh_baseline: bool = True,
    progress: bool = True,
    mirror: bool = True,
    calibrate: bool = True,
    tta: bool = True,
) -> dict:
    """The full evaluation (see module doc) of the shipped (or given) weights. Returns a JSON-able dict.

    ``mirror``: read every image with the mirror test-time augmentation (the default of ``facerig
    invert-image``; :func:`facerig.models.image_inversion.infer.network_pass`); False: one reading.
    ``calibrate``: through the weights file's output calibration when it has one (the default of ``facerig
    invert-image``); False: the network's raw weights. ``tta``: the weights file's test-time augmentation when
    it has one (the default of ``facerig invert-image``); False: the mirror reading alone."""
    import datetime
    import platform

    from facerig.data import renders
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample
    from facerig.models.image_inversion.infer import MIN_HEAD_PROBABILITY
    from facerig.models.image_inversion.weights import load_model, weights_path
    from facerig.train.image_inversion import make_dataset

    model = load_model(weights)
    t0 = time.time()
    d = dict(np.load(make_dataset("eval", scale, size=model.config.size)))
    names = list(d["head_names"])
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(_group(str(n)), []).append(i)
    res: dict = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "weights": str(weights or weights_path().name),
        "mirror_tta": bool(mirror),
        "calibrated": bool(calibrate and getattr(model, "calibration", None) is not None),
        "tta": bool(tta and getattr(model, "tta", None) is not None),
        "meta": getattr(model, "meta", {}),
        "held_out": {},
        "no_head": {},
    }
    heads = np.flatnonzero(d["is_head"])
    neg = np.flatnonzero(~d["is_head"])
    for mod in MODALITIES:
        W, P = predict(model, d, mod, mirror=mirror, calibrate=calibrate, tta=tta)
        res["held_out"][mod] = {"all": score(W, d, heads)}
        for g, hs in groups.items():
            rows = np.flatnonzero(np.isin(d["head"], hs))
            res["held_out"][mod][g] = score(W, d, rows)
        res["no_head"][mod] = {
            "images": int(len(neg)),
            "flagged": float((P[neg] < MIN_HEAD_PROBABILITY).mean()),
            "heads_wrongly_flagged": float((P[heads] < MIN_HEAD_PROBABILITY).mean()),
        }
        if progress:
            print(f"{mod}: weight MAE {res['held_out'][mod]['all']['weight_mae']:.3f}", flush=True)
    cfg = SampleConfig(split="eval", p_units=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0)
    goal_heads = [
        renders.head_from_sample(generate_sample(get_family("ict"), 0, cfg), "ict_eval_0"),
        renders.head_from_sample(generate_sample(get_family("makehuman"), 0, cfg), "makehuman_eval_0"),
    ]
    goal_heads += (
        renders.author_heads("rocketbox_male*")
        + renders.author_heads("weboji_boy")
        + renders.author_heads("weboji_facecustom_human")
    )
    res["goals"] = goal_report(model, goal_heads, mirror=mirror, calibrate=calibrate, tta=tta)
    if mesh_baseline:
        try:
            res["mesh_inversion"] = mesh_inversion_baseline(d)
            rows = np.array(res["mesh_inversion"].pop("rows"))
            for mod in MODALITIES:
                W, _ = predict(
                    model,
                    {
                        k: (v[rows] if k in ("rgb", "normals", "mask", "weights", "head", "is_head") else v)
                        for k, v in d.items()
                    },
                    mod,
                    mirror=mirror,
                    calibrate=calibrate,
                    tta=tta,
                )
                res["mesh_inversion"][f"image_{mod}_same_frames"] = score(
                    W, {**d, "weights": d["weights"][rows], "head": d["head"][rows]}, np.arange(len(rows))
                )
        except Exception as exc:  # noqa: BLE001 - the baseline is optional
            res["mesh_inversion"] = {"error": f"{type(exc).__name__}: {exc}"}
    res["seconds"] = round(time.time() - t0, 1)
    return res


def print_report(res: dict) -> None:
    """Tables of :func:`evaluate_image_inversion`'s result."""
    print("held-out images: weight MAE / rebuilt-mesh RMS (mm) per group and modality")
    groups = list(res["held_out"]["both"])
    print(f"{'group':34s}" + "".join(f"{m:>20s}" for m in MODALITIES))
    for g in groups:
        cells = [res["held_out"][m][g] for m in MODALITIES]
        print(f"{g:34s}" + "".join(f"{c['weight_mae']:>10.3f}{c['mesh_rms_mm']:>8.2f}mm" for c in cells))
    print(
        "per region weight MAE (both, all held-out):  "
        + "  ".join(f"{r} {v:.3f}" for r, v in res["held_out"]["both"]["all"]["regions"].items())
    )
    print(
        "no-head images flagged: "
        + "  ".join(
            f"{m} {v['flagged']:.0%} (heads flagged {v['heads_wrongly_flagged']:.1%})"
            for m, v in res["no_head"].items()
        )
    )
    ok = sum(r["pass"] for r in res["goals"])
    print(f"goal images: {ok}/{len(res['goals'])} pass")
    table = goal_table(res["goals"])
    print(f"{'heads passing':14s}" + "".join(f"{m:>10s}" for m in MODALITIES))
    for goal, cells in table.items():
        print(f"{goal:14s}" + "".join(f"{cells.get(m, '-'):>10s}" for m in MODALITIES))
    for r in res["goals"]:
        if not r["pass"]:
            print(f"  FAIL {r['head']:28s} {r['modality']:8s} {r['goal']:8s} {r['read']} = {r['value']}")
    mi = res.get("mesh_inversion")
    if mi and "error" not in mi:
        print(
            f"mesh-based inversion (facerig invert, raf rig) on {mi['images']} Rocketbox frames: weight MAE "
            f"{mi['weight_mae']:.3f}, mesh {mi['mesh_rms_mm']:.2f} mm; images (both) "
            f"{mi['image_both_same_frames']['weight_mae']:.3f}, {mi['image_both_same_frames']['mesh_rms_mm']:.2f} mm"
        )
    elif mi:
        print(f"mesh-based inversion: {mi['error']}")
