"""``facerig eval --task invert``: how well posed meshes invert to ARKit-52 weights.

NFR's inverse-rigging protocol (Neural Face Rigging, Table 1: mean / 90th-percentile vertex error of
the rebuilt mesh in mm; ICT rig 0.378 / 0.860 mm) on facerig's pipeline: the neutral is rigged by
facerig (``raf``), every frame is solved through that rig (:mod:`facerig.invert`), and the answer is
compared with the truth. Expressions are realistic combinations: whole frames of the real Live Link
Face take ``takes/livelink_rom_a.csv`` resampled (so shapes co-activate as a face does), never
independent uniform weights.

Cases (each a row; ``family`` says in-family (ICT, MakeHuman: the families the network was trained
on) or out-of-family (other authors' rigs)). Every row's frames come from the take's held-out last
fifth (:func:`facerig.invert.prior.split_take`): the co-activation prior
(:mod:`facerig.invert.prior`) and the expression encoder are fitted on the first four fifths. Each
neutral-based row is solved without and with the prior (``*_prior`` keys; ``prior_sweep``: several
strengths).

- ``ict``: held-out ICT identities (eval split), frames from ICT's own 51 shapes.
- ``ict_remesh10k``: the same identities retriangulated to ~10k vertices within parts
  (:func:`facerig.geometry.remesh.remesh`), posed frames carried to the new mesh by barycentric
  interpolation, the rig being facerig's rig of the remeshed neutral.
- ``makehuman``: held-out MakeHuman identities with their 52 ARKit targets.
- ``external/*``, ``rocketbox/*``: other authors' rigs posed with their own shapes.
- ``roundtrip/*``: the whole take drives facerig's rig of a head, the frames are inverted through
  the same rig: weight MAE and per-shape correlation with the take; exact, and with 0.2 mm RMS
  Gaussian noise per vertex (``+noise0.2mm``, a scanner's).

Without a neutral (rows ``<case> (no neutral)``, ``"neutral": false``, when the expression
encoder's weights are installed): the same heads posed with frames of the take's held-out last
fifth (the encoder trained on the first four fifths, :mod:`facerig.train.encoder`), weights from
the posed meshes alone (:func:`facerig.models.encoder.runtime.encode_frames`, the frames read as
one sequence sharing the first frame's proxy and operators); beside them, the neutral-based
solver on the same frames (``*_with_neutral``), on a few frames the encoder with each
frame's own operators (``per_frame_ops``), and the frames read as one sequence through an
estimated neutral (``*_estimated``, :mod:`facerig.invert.neutral_estimate`, what ``facerig invert``
does for a sequence without a neutral).

Metrics per case: ``weight_mae`` (over the shapes the truth has), ``vertex_mean_mm`` /
``vertex_p90_mm`` of the rebuilt mesh (facerig's rig at the solved weights) against the posed
frame over all vertices and over moving vertices (those a frame moves > 0.1 mm), and
``truth_rig_*`` the same with the solved weights driving the true rig (NFR's "ICT rig" row).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import DataError

#: goals from issue 25
GOALS = {"in_family_weight_mae": 0.03, "out_of_family_weight_mae": 0.10, "out_of_family_moving_mm": 1.0}
MOVING_MM = 0.1
#: an adult head's breadth (mm), to give a unitless scan millimetres
HEAD_BREADTH_MM = 155.0

SIZES = {
    "quick": {
        "frames": 40,
        "ict": 1,
        "remesh": 1,
        "makehuman": 1,
        "rocketbox": 1,
        "external": 1,
        "roundtrip_stride": 8,
        "roundtrip_heads": 1,
        "per_frame": 2,
    },
    "full": {
        "frames": 200,
        "ict": 3,
        "remesh": 2,
        "makehuman": 2,
        "rocketbox": 2,
        "external": 2,
        "roundtrip_stride": 1,
        "roundtrip_heads": 2,
        "per_frame": 4,
    },
}


def take_path() -> Path:
    from facerig.config import data_root

    p = data_root() / "takes" / "livelink_rom_a.csv"
    if not p.exists():
        raise DataError(f"{p}: the real take is missing (needed for realistic expression combinations)")
    return p


def sample_combinations(take_weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 52) realistic weight vectors: whole frames of a real take drawn with replacement.

    Args:
        take_weights: (T, 52) a take's weights (ARKit order).
    """
    return take_weights[rng.integers(0, len(take_weights), size=n)].copy()


def _truth_weights(W52: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[int]]:
    """(T, 52) -> ((T, K) in ``names`` order, ARKit columns used)."""
    cols = [ARKIT52.index(canonical_name(n)) for n in names]
    return W52[:, cols], cols


def _errors(rebuilt: np.ndarray, frames: np.ndarray, neutral: np.ndarray, mm: float) -> dict[str, float]:
    """Per-vertex distances (T, V) -> mean / p90 over all and over moving vertices, in mm."""
    d = np.linalg.norm(rebuilt - frames, axis=2) * mm
    moving = np.linalg.norm(frames - neutral[None], axis=2) * mm > MOVING_MM
    dm = d[moving] if moving.any() else np.zeros(1)
    return {
        "mean_mm": float(d.mean()),
        "p90_mm": float(np.percentile(d, 90)),
        "moving_mean_mm": float(dm.mean()),
        "moving_p90_mm": float(np.percentile(dm, 90)),
        "moving_share": float(moving.mean()),
    }


def evaluate_case(
    name: str,
    family: str,
    neutral: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    mm_per_unit: float,
    W52: np.ndarray,
    *,
    rig=None,
    rig_options: dict | None = None,
    prior=None,
    prior_strengths: tuple[float, ...] = (),
    prior_tolerances: tuple[float | None, ...] = (None,),
) -> tuple[dict[str, Any], Any]:
    """Pose a head's true rig with ``W52``, invert through facerig's rig of its neutral, score.

    Args:
        neutral: (V, 3), faces: (F, 3), names: (K,) ARKit names of ``deltas`` (K, V, 3) (the truth).
        W52: (T, 52) weights (ARKit order) to pose with (columns the truth lacks are unused).
        rig: facerig's rig of the neutral when already made (else ``rig_mesh(..., "raf")``).
        prior: a co-activation prior (:func:`facerig.invert.solver.solve`): the frames are also
            solved with it at each of ``prior_strengths`` (``rec["prior"][str(strength)]``; the
            first strength's figures also as ``<key>_prior``); each strength at each of
            ``prior_tolerances`` (None: the solver's default; others are keyed ``"<strength>/<tolerance>"``).

    Returns:
        ``(record, rig)``.
    """
    from facerig.invert.solver import prepare, rig_weights_to_arkit, solve
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh

    Wt, cols = _truth_weights(W52, names)
    D = np.asarray(deltas, np.float64).reshape(len(names), -1)
    frames = (neutral.reshape(1, -1) + Wt @ D).reshape(len(Wt), -1, 3)
    t0 = time.perf_counter()
    if rig is None:
        rig = rig_mesh(Mesh(vertices=neutral, faces=faces), method="raf", **(rig_options or {}))
    t1 = time.perf_counter()
    prep = prepare(rig, neutral)
    Wk = solve(prep, frames)
    t2 = time.perf_counter()

    def score(Wk):
        W_hat = rig_weights_to_arkit(prep.names, Wk)
        rebuilt = (prep.neutral[None] + Wk @ prep.basis).reshape(frames.shape)
        via_truth = (neutral.reshape(1, -1) + W_hat[:, cols] @ D).reshape(frames.shape)
        return W_hat, _errors(rebuilt, frames, neutral, mm_per_unit), _errors(via_truth, frames, neutral, mm_per_unit)

    W_hat, fit, tr = score(Wk)

    def worst(W_hat, n=3):
        e = np.abs(W_hat[:, cols] - Wt).mean(0)
        return {names[k]: round(float(e[k]), 4) for k in np.argsort(-e)[:n]}

    rec = {
        "case": name,
        "family": family,
        "vertices": int(neutral.shape[0]),
        "frames": len(Wt),
        "shapes": len(names),
        "weight_mae": float(np.abs(W_hat[:, cols] - Wt).mean()),
        "vertex_mean_mm": fit["mean_mm"],
        "vertex_p90_mm": fit["p90_mm"],
        "moving_mean_mm": fit["moving_mean_mm"],
        "moving_p90_mm": fit["moving_p90_mm"],
        "moving_share": fit["moving_share"],
        "truth_rig_mean_mm": tr["mean_mm"],
        "truth_rig_p90_mm": tr["p90_mm"],
        "truth_rig_moving_mean_mm": tr["moving_mean_mm"],
        "rig_seconds": round(t1 - t0, 3),
        "solve_seconds": round(t2 - t1, 4),
        "worst_shapes": worst(W_hat),
    }
    if prior is not None and prior_strengths:
        from facerig.invert.solver import motion_energy, projections

        C, energy = projections(prep, frames), motion_energy(prep, frames)
        rec["prior"] = {}
        for strength, tolerance in ((s, t) for s in prior_strengths for t in prior_tolerances):
            t3 = time.perf_counter()
            Wp = solve(
                prep, projected=C, energy=energy, prior=prior, prior_strength=strength, prior_tolerance=tolerance
            )
            dt = time.perf_counter() - t3
            Wp_hat, fit_p, tr_p = score(Wp)
            key = str(strength) if tolerance is None else f"{strength}/{tolerance:g}"
            rec["prior"][key] = {
                "weight_mae": float(np.abs(Wp_hat[:, cols] - Wt).mean()),
                "vertex_mean_mm": fit_p["mean_mm"],
                "moving_mean_mm": fit_p["moving_mean_mm"],
                "moving_p90_mm": fit_p["moving_p90_mm"],
                "truth_rig_mean_mm": tr_p["mean_mm"],
                "truth_rig_moving_mean_mm": tr_p["moving_mean_mm"],
                "solve_seconds": round(dt, 4),
                "worst_shapes": worst(Wp_hat),
            }
        first = rec["prior"][next(iter(rec["prior"]))]
        rec["prior_strength"] = prior_strengths[0]
        rec.update({f"{k}_prior": v for k, v in first.items() if k != "solve_seconds"})
    return rec, rig


def encoder_case(
    name: str,
    family: str,
    neutral: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    mm_per_unit: float,
    W52: np.ndarray,
    *,
    rig=None,
    per_frame: int = 0,
    model=None,
    constant: np.ndarray | None = None,
    estimate: bool = False,
) -> dict[str, Any]:
    """Pose a head's true rig with ``W52`` and read the weights off the posed meshes with the
    expression encoder (no neutral); score as :func:`evaluate_case` does.

    With ``estimate`` the same frames, read as one sequence, are also inverted through an estimated
    neutral (:func:`facerig.invert.neutral_estimate.invert_with_estimated_neutral`; keys
    ``*_estimated``: weight MAE, the estimated rig's fit to the frames (``vertex_*``), the true rig at
    the weights (``truth_rig_*``), the neutral's error, seconds and ms per frame).

    Args:
        rig: facerig's rig of the true neutral: the encoder's weights also drive it
            (``vertex_*``), and the neutral-based solver runs through it on the same frames
            (``weight_mae_with_neutral``, ``truth_rig_*_with_neutral``).
        per_frame: also encode this many frames each with its own proxy and operators.
        model: the encoder (default: the installed weights).
        constant: (52,) a constant guess (e.g. the training frames' per-shape median): its weight
            MAE is recorded as ``constant_weight_mae``, the floor a blind guess reaches.

    Returns:
        record (``"neutral": False``).
    """
    from facerig.models.encoder.runtime import encode_frames

    Wt, cols = _truth_weights(W52, names)
    D = np.asarray(deltas, np.float64).reshape(len(names), -1)
    frames = (neutral.reshape(1, -1) + Wt @ D).reshape(len(Wt), -1, 3)
    tm: dict = {}
    t0 = time.perf_counter()
    W_enc = encode_frames(frames, faces, model=model, timings=tm).astype(np.float64)
    dt = time.perf_counter() - t0
    via_truth = (neutral.reshape(1, -1) + W_enc[:, cols] @ D).reshape(frames.shape)
    tr = _errors(via_truth, frames, neutral, mm_per_unit)
    rec = {
        "case": f"{name} (no neutral)",
        "family": family,
        "neutral": False,
        "vertices": int(neutral.shape[0]),
        "frames": len(Wt),
        "shapes": len(names),
        "weight_mae": float(np.abs(W_enc[:, cols] - Wt).mean()),
        "truth_rig_mean_mm": tr["mean_mm"],
        "truth_rig_p90_mm": tr["p90_mm"],
        "truth_rig_moving_mean_mm": tr["moving_mean_mm"],
        "encode_seconds": round(dt, 3),
        "prepare_seconds": round(tm["prepare"], 3),
        "network_seconds": round(tm["network"], 3),
    }
    if rig is not None:
        from facerig.invert.solver import arkit_to_rig_weights, prepare, rig_weights_to_arkit, solve

        prep = prepare(rig, neutral)
        rebuilt = (prep.neutral[None] + arkit_to_rig_weights(prep.names, W_enc) @ prep.basis).reshape(frames.shape)
        fit = _errors(rebuilt, frames, neutral, mm_per_unit)
        rec.update(
            vertex_mean_mm=fit["mean_mm"],
            vertex_p90_mm=fit["p90_mm"],
            moving_mean_mm=fit["moving_mean_mm"],
            moving_p90_mm=fit["moving_p90_mm"],
        )
        W_sol = rig_weights_to_arkit(prep.names, solve(prep, frames))
        tr_sol = _errors(
            (neutral.reshape(1, -1) + W_sol[:, cols] @ D).reshape(frames.shape), frames, neutral, mm_per_unit
        )
        rec.update(
            weight_mae_with_neutral=float(np.abs(W_sol[:, cols] - Wt).mean()),
            truth_rig_mean_mm_with_neutral=tr_sol["mean_mm"],
            truth_rig_p90_mm_with_neutral=tr_sol["p90_mm"],
        )
    rec["encode_ms_per_frame"] = round(1e3 * dt / len(Wt), 2)
    if estimate:
        from facerig.invert.neutral_estimate import invert_with_estimated_neutral

        t0 = time.perf_counter()
        est = invert_with_estimated_neutral(frames, faces, model=model, residual=False)
        dt_est = time.perf_counter() - t0
        rebuilt_e = est.rig.neutral[None] + np.einsum("tk,kvc->tvc", est.rig_weights, est.rig.deltas)
        fit_e = _errors(rebuilt_e, frames, neutral, mm_per_unit)
        tr_e = _errors(
            (neutral.reshape(1, -1) + est.weights[:, cols] @ D).reshape(frames.shape), frames, neutral, mm_per_unit
        )
        rec.update(
            weight_mae_estimated=float(np.abs(est.weights[:, cols] - Wt).mean()),
            vertex_mean_mm_estimated=fit_e["mean_mm"],
            vertex_p90_mm_estimated=fit_e["p90_mm"],
            moving_mean_mm_estimated=fit_e["moving_mean_mm"],
            truth_rig_mean_mm_estimated=tr_e["mean_mm"],
            truth_rig_p90_mm_estimated=tr_e["p90_mm"],
            neutral_error_mean_mm_estimated=float(np.linalg.norm(est.neutral - neutral, axis=1).mean() * mm_per_unit),
            start_frame_activity_estimated=float(Wt[est.start_frame].sum()),
            least_activity_estimated=float(Wt.sum(1).min()),
            estimate_seconds=round(dt_est, 3),
            estimate_ms_per_frame=round(1e3 * dt_est / len(Wt), 2),
            estimate_seconds_parts={k: round(v, 3) for k, v in est.seconds.items()},
        )
    if constant is not None:
        rec["constant_weight_mae"] = float(np.abs(np.asarray(constant)[cols][None] - Wt).mean())
    if per_frame > 0:
        n = min(per_frame, len(Wt))
        tm2: dict = {}
        W_pf = encode_frames(frames[:n], faces, model=model, per_frame_operators=True, timings=tm2)
        rec["per_frame_ops"] = {
            "frames": n,
            "weight_mae": float(np.abs(W_pf[:, cols] - Wt[:n]).mean()),
            "shared_ops_weight_mae": float(np.abs(W_enc[:n, cols] - Wt[:n]).mean()),
            "seconds_per_frame": round((tm2["prepare"] + tm2["network"]) / n, 3),
        }
    return rec


def roundtrip_case(
    name: str,
    rig,
    take_weights: np.ndarray,
    mm_per_unit: float,
    noise_mm: float = 0.0,
    seed: int = 0,
    error_frames: int = 400,
    chunk: int = 256,
    prior=None,
    prior_strength: float | None = None,
) -> dict[str, Any]:
    """The take drives ``rig``; the frames (plus Gaussian noise of ``noise_mm`` RMS per vertex, a
    scanner's) are inverted through the same rig.

    Frames are never all expanded (a 4,000-frame take on a 27k head would be 2.6 GB): the clean
    frames are the rig's low-rank animation, the noise is projected chunk by chunk, and the mesh
    error (against the noise-free frames) is measured on ``error_frames`` evenly spaced frames.

    With ``prior`` the frames are also solved with the co-activation prior (``*_prior`` keys; the
    prior's own frames are the take's first four fifths, so this row is not held out).

    Returns:
        record with ``weight_mae`` (over the 52 shapes the take has), ``shape_corr`` (mean Pearson
        correlation over shapes that move in the take), per-shape ``corr``.
    """
    from facerig.invert.frames import Frames
    from facerig.invert.solver import (
        arkit_to_rig_weights,
        motion_energy,
        prepare,
        projections,
        rig_weights_to_arkit,
        solve,
    )

    prep = prepare(rig)
    Wr = arkit_to_rig_weights(prep.names, take_weights)
    T = len(Wr)
    clean = Frames(None, [f"take#{t}" for t in range(T)], lowrank=(prep.neutral.reshape(-1, 3), Wr, prep.basis))
    t0 = time.perf_counter()
    C = projections(prep, clean)
    energy = motion_energy(prep, clean) if prior is not None else None
    if noise_mm > 0:
        rng = np.random.default_rng(seed)
        for s in range(0, T, chunk):
            n = rng.normal(scale=noise_mm / mm_per_unit / np.sqrt(3), size=(min(chunk, T - s), prep.basis.shape[1]))
            C[s : s + chunk] += n @ prep.basis.T
            if energy is not None:  # |x + n|^2 with x the clean motion (B^T w)
                x = Wr[s : s + chunk] @ prep.basis
                energy[s : s + chunk] += 2.0 * np.einsum("tk,tk->t", x, n) + np.einsum("tk,tk->t", n, n)
    Wk = solve(prep, projected=C)
    dt = time.perf_counter() - t0
    W_hat = rig_weights_to_arkit(prep.names, Wk)
    pick = np.unique(np.linspace(0, T - 1, min(T, error_frames)).round().astype(np.int64))
    rebuilt = (prep.neutral[None] + Wk[pick] @ prep.basis).reshape(len(pick), -1, 3)
    truth = (prep.neutral[None] + Wr[pick] @ prep.basis).reshape(len(pick), -1, 3)
    fit = _errors(rebuilt, truth, prep.neutral.reshape(-1, 3), mm_per_unit)
    corr = {}
    for k, n in enumerate(ARKIT52):
        a, b = take_weights[:, k], W_hat[:, k]
        if a.std() > 1e-3 and b.std() > 0:
            corr[n] = float(np.corrcoef(a, b)[0, 1])
    extra: dict[str, Any] = {}
    if prior is not None:
        t3 = time.perf_counter()
        Wp = solve(prep, projected=C, energy=energy, prior=prior, prior_strength=prior_strength)
        dtp = time.perf_counter() - t3
        Wp_hat = rig_weights_to_arkit(prep.names, Wp)
        rebuilt_p = (prep.neutral[None] + Wp[pick] @ prep.basis).reshape(len(pick), -1, 3)
        fit_p = _errors(rebuilt_p, truth, prep.neutral.reshape(-1, 3), mm_per_unit)
        corr_p = [
            float(np.corrcoef(take_weights[:, k], Wp_hat[:, k])[0, 1])
            for k in range(52)
            if take_weights[:, k].std() > 1e-3 and Wp_hat[:, k].std() > 0
        ]
        extra = {
            "weight_mae_prior": float(np.abs(Wp_hat - take_weights).mean()),
            "shape_corr_prior": float(np.mean(corr_p)) if corr_p else float("nan"),
            "vertex_mean_mm_prior": fit_p["mean_mm"],
            "frames_per_second_prior": round(T / max(dt + dtp, 1e-9), 1),
        }
    return extra | {
        "case": name,
        "family": "roundtrip",
        "vertices": prep.num_vertices,
        "frames": T,
        "noise_mm": noise_mm,
        "weight_mae": float(np.abs(W_hat - take_weights).mean()),
        "shape_corr": float(np.mean(list(corr.values()))) if corr else float("nan"),
        "min_shape_corr": min(corr.items(), key=lambda kv: kv[1]) if corr else None,
        "vertex_mean_mm": fit["mean_mm"],
        "vertex_p90_mm": fit["p90_mm"],
        "error_frames": len(pick),
        "solve_seconds": round(dt, 4),
        "frames_per_second": round(T / max(dt, 1e-9), 1),
        "corr": corr,
    }


def _ict_identities(n: int, seed: int):
    from facerig.data.families import get_family, split_rng

    fam = get_family("ict")
    return fam, [fam.sample_neutral(split_rng(seed, "eval", 900 + i)) for i in range(n)]


def other_author_heads(root, n_external: int, n_rocketbox: int):
    """The heads rigged by other authors that the invert eval measures, in its order: yields
    ``(case id, family, (vertices (V, 3), faces (F, 3), names (K,), deltas (K, V, 3), mm_per_unit))``
    for the first ``n_external`` of ``root/external-rigs/*.npz`` (johnsmith first; ``makehuman_hm08``
    is family "makehuman", the rest "out_of_family") and the first ``n_rocketbox`` Rocketbox heads
    of ``root/heads`` (their author's shapes on their OBJ neutral)."""
    from facerig.io import load_mesh

    ext = sorted(Path(root, "external-rigs").glob("*.npz"))
    for p in sorted(ext, key=lambda p: not p.stem.startswith("johnsmith"))[:n_external]:
        with np.load(p, allow_pickle=False) as z:
            head = (
                z["neutral"].astype(np.float64),
                z["faces"].astype(np.int64),
                [str(n) for n in z["arkit_names"]],
                z["deltas"],
                float(z["mm_per_unit"]),
            )
        yield f"external/{p.stem}", ("makehuman" if p.stem.startswith("makehuman") else "out_of_family"), head
    for p in sorted(Path(root, "heads").glob("rocketbox_*.blendshapes.npz"))[:n_rocketbox]:
        m = load_mesh(
            p.with_name(p.name.replace(".blendshapes.npz", ".obj")), allow_degenerate=True, allow_unreferenced=True
        )
        with np.load(p, allow_pickle=False) as z:
            head = (m.vertices, m.faces, [str(n) for n in z["names"]], z["deltas"], float(z["mm_per_unit"]))
        yield f"rocketbox/{p.name.split('.')[0]}", "out_of_family", head


def evaluate_invert(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    no_neutral: bool | None = None,
    prior_strengths: tuple[float, ...] | list[float] | None = None,
    prior_tolerances: tuple[float | None, ...] | list[float | None] = (None,),
    estimate: bool = True,
) -> dict[str, Any]:
    """Run every case (see module docstring); ``quick`` for a small size (tests, smoke runs);
    ``no_neutral``: also the expression encoder's rows (default: when its weights are installed),
    with ``estimate`` the same frames through an estimated neutral beside them (``*_estimated``).
    ``prior_strengths``: strengths of the co-activation prior (fitted on the take's first four
    fifths) every neutral-based row is also solved with (default: the shipped default alone; ``()``:
    no prior rows); ``prior_tolerances``: each strength also at these bounds on the prior's cost to the
    fit (None: the solver's default, :data:`facerig.invert.prior.DEFAULT_TOLERANCE`).

    Returns:
        ``{"size", "seed", "take", "goals", "cases": [record, ...], "summary": {...}, "seconds"}``.
    """
    from facerig.invert.prior import DEFAULT_STRENGTH, TAKE_HOLDOUT, fit_prior, split_take
    from facerig.io.takes import read_take

    size = SIZES["quick" if quick else "full"]
    t_start = time.perf_counter()
    take = read_take(take_path())
    rng = np.random.default_rng(seed)
    # one split for everything fitted on the take (the prior, the encoder) and every row's frames
    fitted, held_out = split_take(take.weights, TAKE_HOLDOUT)
    strengths = tuple((DEFAULT_STRENGTH,) if prior_strengths is None else prior_strengths)
    prior = fit_prior(fitted, source="take's first four fifths") if strengths else None
    popt = {"prior": prior, "prior_strengths": strengths, "prior_tolerances": tuple(prior_tolerances)}
    cases: list[dict[str, Any]] = []

    def log(msg: str) -> None:
        if progress:
            print(f"  [{time.perf_counter() - t_start:6.1f}s] {msg}", flush=True)

    def add(rec: dict[str, Any]) -> None:
        cases.append(rec)
        with_prior = f"; prior: {rec['weight_mae_prior']:.4f}" if "weight_mae_prior" in rec else ""
        log(
            f"{rec['case']}: weight MAE {rec['weight_mae']:.4f}, mesh {rec.get('vertex_mean_mm', float('nan')):.3f} "
            f"/ p90 {rec.get('vertex_p90_mm', float('nan')):.3f} mm{with_prior}"
        )

    if no_neutral is None:
        from facerig.models.encoder.weights import weights_path

        no_neutral = weights_path().is_file()
    # the encoder's frames: the held-out fifth too, drawn from a stream of their own
    median = np.median(fitted, axis=0)
    rng_enc = np.random.default_rng([seed, 25])

    def add_encoder(rec_name, family, *head, rig=None):
        if no_neutral:
            add(
                encoder_case(
                    rec_name,
                    family,
                    *head,
                    sample_combinations(held_out, size["frames"], rng_enc),
                    rig=rig,
                    per_frame=size.get("per_frame", 0),
                    constant=median,
                    estimate=estimate,
                )
            )

    # ICT, in family (and its 10k retriangulation)
    fam, neutrals = _ict_identities(max(size["ict"], size["remesh"]), seed)
    ict_rigs = []
    for i, v in enumerate(neutrals[: size["ict"]]):
        rec, rig = evaluate_case(
            f"ict/eval{i}",
            "ict",
            v,
            fam.faces,
            fam.names,
            fam.deltas_for(v),
            fam.mm_per_unit,
            sample_combinations(held_out, size["frames"], rng),
            **popt,
        )
        ict_rigs.append(rig)
        add(rec)
        add_encoder(f"ict/eval{i}", "ict", v, fam.faces, fam.names, fam.deltas_for(v), fam.mm_per_unit, rig=rig)
    from facerig.geometry.remesh import interpolate, remesh

    for i, v in enumerate(neutrals[: size["remesh"]]):
        rm = remesh(v, fam.faces, 10_000, parts=fam.parts, seed=seed + i)
        src_face, bary = np.asarray(rm.src_face), np.asarray(rm.bary)
        d = np.asarray(interpolate(fam.deltas_for(v), fam.faces, src_face, bary), np.float64)
        nv = np.asarray(rm.vertices, np.float64)
        rec, rig = evaluate_case(
            f"ict_remesh10k/eval{i}",
            "ict",
            nv,
            np.asarray(rm.faces),
            fam.names,
            d,
            fam.mm_per_unit,
            sample_combinations(held_out, size["frames"], rng),
            **popt,
        )
        add(rec)
        add_encoder(f"ict_remesh10k/eval{i}", "ict", nv, np.asarray(rm.faces), fam.names, d, fam.mm_per_unit, rig=rig)
    # MakeHuman, in family
    try:
        from facerig.data.families import get_family, split_rng

        mh = get_family("makehuman")
        for i in range(size["makehuman"]):
            v = mh.sample_neutral(split_rng(seed, "eval", 950 + i))
            rec, rig = evaluate_case(
                f"makehuman/eval{i}",
                "makehuman",
                v,
                mh.faces,
                mh.names,
                mh.deltas_for(v),
                mh.mm_per_unit,
                sample_combinations(held_out, size["frames"], rng),
                **popt,
            )
            add(rec)
            add_encoder(
                f"makehuman/eval{i}", "makehuman", v, mh.faces, mh.names, mh.deltas_for(v), mh.mm_per_unit, rig=rig
            )
    except DataError as e:
        log(f"makehuman skipped: {e}")
    # other authors
    from facerig.config import data_root

    root = data_root()
    for case, fam_name, head in other_author_heads(root, size["external"], size["rocketbox"]):
        rec, rig = evaluate_case(case, fam_name, *head, sample_combinations(held_out, size["frames"], rng), **popt)
        add(rec)
        add_encoder(case, fam_name, *head, rig=rig)
    from facerig.io import load_mesh

    # round trip of the real take through facerig's rigs
    stride = size["roundtrip_stride"]
    W_take = take.weights[::stride]
    heads = [("roundtrip/ict_eval0", ict_rigs[0], fam.mm_per_unit)] if ict_rigs else []
    if size["roundtrip_heads"] > 1:
        from facerig.models.registry import rig_mesh

        lps = root / "heads" / "lps_leeperrysmith.obj"
        if lps.exists():
            m = load_mesh(lps, allow_degenerate=True, allow_unreferenced=True)
            # a scan without units: millimetres estimated from the head's breadth (an adult's ~155 mm)
            mm_lps = HEAD_BREADTH_MM / float(np.ptp(m.vertices[:, 0]))
            heads.append(("roundtrip/lps_leeperrysmith", rig_mesh(m, method="raf"), mm_lps))
    rt = {"prior": prior, "prior_strength": strengths[0] if strengths else None}
    for name, rig, mm in heads:
        add(roundtrip_case(name, rig, W_take, mm, **rt))
        add(roundtrip_case(name + "+noise0.2mm", rig, W_take, mm, noise_mm=0.2, seed=seed, **rt))
    import datetime
    import os
    import platform

    return {
        "task": "invert",
        "size": "quick" if quick else "full",
        "seed": seed,
        "take": str(take_path().name),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        "goals": GOALS,
        "split": {
            "holdout": TAKE_HOLDOUT,
            "fitted_frames": f"take[:{len(fitted)}] (the prior, the encoder)",
            "eval_frames": f"take[{len(fitted)}:] ({len(held_out)} frames, every row but the round trip)",
            "roundtrip_frames": f"take[::{stride}] (the whole take)",
        },
        "prior_strengths": list(strengths),
        "prior_tolerances": [t for t in prior_tolerances],
        "cases": cases,
        "summary": summarise(cases),
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Means per group: ``in_family`` (ICT, MakeHuman), ``ict`` and ``ict_remesh10k`` apart,
    ``out_of_family``, ``roundtrip``; with the issue's goals checked."""
    groups: dict[str, list[dict]] = {}
    for r in cases:
        g = r["family"]
        pre = "no_neutral_" if r.get("neutral", True) is False else ""
        key = "out_of_family" if g == "out_of_family" else ("roundtrip" if g == "roundtrip" else "in_family")
        groups.setdefault(pre + key, []).append(r)
        if r["case"].startswith("ict/"):
            groups.setdefault(pre + "ict", []).append(r)
        if r["case"].startswith("ict_remesh10k/"):
            groups.setdefault(pre + "ict_remesh10k", []).append(r)
        if r["case"].startswith("makehuman/"):
            groups.setdefault(pre + "makehuman", []).append(r)
    keys = (
        "weight_mae",
        "vertex_mean_mm",
        "vertex_p90_mm",
        "moving_mean_mm",
        "moving_p90_mm",
        "truth_rig_mean_mm",
        "truth_rig_p90_mm",
        "truth_rig_moving_mean_mm",
        "shape_corr",
        "weight_mae_prior",
        "vertex_mean_mm_prior",
        "moving_mean_mm_prior",
        "moving_p90_mm_prior",
        "truth_rig_mean_mm_prior",
        "truth_rig_moving_mean_mm_prior",
        "shape_corr_prior",
        "weight_mae_with_neutral",
        "truth_rig_mean_mm_with_neutral",
        "truth_rig_p90_mm_with_neutral",
        "constant_weight_mae",
        "weight_mae_estimated",
        "vertex_mean_mm_estimated",
        "moving_mean_mm_estimated",
        "truth_rig_mean_mm_estimated",
        "truth_rig_p90_mm_estimated",
        "neutral_error_mean_mm_estimated",
        "encode_ms_per_frame",
        "estimate_ms_per_frame",
    )
    out: dict[str, Any] = {}
    for g, rs in groups.items():
        out[g] = {"n": len(rs)}
        for k in keys:
            vals = [r[k] for r in rs if k in r]
            if vals:
                out[g][k] = float(np.mean(vals))
    ict_like = [r for r in cases if r["case"].startswith(("ict/", "ict_remesh10k/")) and r.get("neutral", True)]
    if ict_like:
        out["goal_ict_weight_mae"] = {
            "value": float(np.mean([r["weight_mae"] for r in ict_like])),
            "goal": GOALS["in_family_weight_mae"],
        }
        if all("weight_mae_prior" in r for r in ict_like):
            out["goal_ict_weight_mae"]["value_prior"] = float(np.mean([r["weight_mae_prior"] for r in ict_like]))
    if "out_of_family" in out:
        o = out["out_of_family"]
        out["goal_out_of_family"] = {
            "weight_mae": o["weight_mae"],
            "moving_mean_mm": o["moving_mean_mm"],
            "goal_weight_mae": GOALS["out_of_family_weight_mae"],
            "goal_moving_mm": GOALS["out_of_family_moving_mm"],
        }
        if "weight_mae_prior" in o:
            out["goal_out_of_family"]["weight_mae_prior"] = o["weight_mae_prior"]
            out["goal_out_of_family"]["moving_mean_mm_prior"] = o["moving_mean_mm_prior"]
    # the prior at every strength, per group (neutral-based rows only)
    sweep: dict[str, dict[str, dict[str, Any]]] = {}
    for g, rs in groups.items():
        for r in rs:
            for st, m in (r.get("prior") or {}).items():
                acc = sweep.setdefault(st, {}).setdefault(g, {"n": 0})
                acc["n"] += 1
                for k, v in m.items():
                    if isinstance(v, (int, float)):
                        acc.setdefault(k, []).append(v)
    if sweep:
        out["prior_sweep"] = {
            st: {g: {k: (v if k == "n" else float(np.mean(v))) for k, v in m.items()} for g, m in gs.items()}
            for st, gs in sweep.items()
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    """The per-case table as Markdown."""
    rows = [
        (
            "| case | family | V | frames | weight MAE | mesh mean / p90 mm | moving mean / p90 mm | "
            "true rig at solved w: mean / p90 mm | shape corr | with prior: weight MAE, moving mean mm, "
            "true rig mean mm |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(r: dict[str, Any], k: str, p: int = 3) -> str:
        return f"{r[k]:.{p}f}" if k in r and r[k] == r[k] else "–"

    for r in result["cases"]:
        pairs = [
            ("vertex_mean_mm", "vertex_p90_mm"),
            ("moving_mean_mm", "moving_p90_mm"),
            ("truth_rig_mean_mm", "truth_rig_p90_mm"),
        ]
        cells = [f"{cell(r, a)} / {cell(r, b)}" for a, b in pairs]
        rows.append(
            f"| {r['case']} | {r['family']} | {r['vertices']} | {r['frames']} | {cell(r, 'weight_mae', 4)} | "
            + " | ".join(cells)
            + f" | {cell(r, 'shape_corr')} | {cell(r, 'weight_mae_prior', 4)}, {cell(r, 'moving_mean_mm_prior')}, "
            + f"{cell(r, 'truth_rig_mean_mm_prior')} |"
        )
    return "\n".join(rows)


def print_report(result: dict[str, Any]) -> None:
    print(markdown(result))
    s = result["summary"]
    for g in (
        "ict",
        "ict_remesh10k",
        "in_family",
        "out_of_family",
        "roundtrip",
        "no_neutral_ict",
        "no_neutral_ict_remesh10k",
        "no_neutral_makehuman",
        "no_neutral_in_family",
        "no_neutral_out_of_family",
    ):
        if g in s:
            items = ", ".join(f"{k} {v:.4g}" for k, v in s[g].items() if k != "n")
            print(f"{g} (n={s[g]['n']}): {items}")
    if "goal_ict_weight_mae" in s:
        gi = s["goal_ict_weight_mae"]
        print(
            f"goal ICT weight MAE <= {gi['goal']}: {gi['value']:.4f} ({'met' if gi['value'] <= gi['goal'] else 'NOT met'})"
        )
        if "value_prior" in gi:
            v = gi["value_prior"]
            print(f"  with the prior: {v:.4f} ({'met' if v <= gi['goal'] else 'NOT met'})")
    if "goal_out_of_family" in s:
        go = s["goal_out_of_family"]
        ok = go["weight_mae"] <= go["goal_weight_mae"] and go["moving_mean_mm"] <= go["goal_moving_mm"]
        print(
            f"goal other authors weight MAE <= {go['goal_weight_mae']} and moving-vertex error <= "
            f"{go['goal_moving_mm']} mm: {go['weight_mae']:.4f}, {go['moving_mean_mm']:.3f} mm "
            f"({'met' if ok else 'NOT met'})"
        )
        if "weight_mae_prior" in go:
            okp = go["weight_mae_prior"] <= go["goal_weight_mae"] and go["moving_mean_mm_prior"] <= go["goal_moving_mm"]
            print(
                f"  with the prior: {go['weight_mae_prior']:.4f}, {go['moving_mean_mm_prior']:.3f} mm "
                f"({'met' if okp else 'NOT met'})"
            )
    for st, gs in s.get("prior_sweep", {}).items():
        items = "; ".join(
            f"{g} {m['weight_mae']:.4f} / {m['moving_mean_mm']:.3f} / {m['truth_rig_moving_mean_mm']:.3f} mm"
            for g, m in gs.items()
        )
        print(f"prior strength {st} (weight MAE / moving mm / true rig moving mm): {items}")
    print(f"({result['seconds']} s)")
