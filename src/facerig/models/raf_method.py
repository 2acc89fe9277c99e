"""The ``raf`` rigging method: the RigAnyFace network with the shipped weights.

Pipeline for a mesh with V vertices (any size, any vertex order; the output keeps both):

1. rotate into the canonical frame (``up`` / ``forward`` options, default +Y / +Z);
2. :func:`facerig.geometry.proxy.prepare_head`: open seams stitched
   (:mod:`facerig.geometry.weld`), ~8k-vertex proxy (:data:`RIG_PROXY_VERTICES`; meshes up to
   9.6k vertices are used as they are), normalised head frame (translation + head-width scale);
   then, side by side on two cores, the proxy's operators and the face probe
   (:func:`face_landmarks` on a ~2.5k-vertex decimation, :data:`FACE_PROBE_VERTICES`; in a
   forked child, :mod:`facerig._fork`, else a thread), whose factor widens or narrows the frame
   (:func:`face_frame_factor`, operators rescaled exactly);
3. the network (trunk + global encoder once, conditional blocks on the 52 one-hot queries), on
   the head and on its mirror image (the two passes side by side), averaged (:func:`predict_proxy`);
4. displacements back to the input: proxy -> input vertices within each part
   (:meth:`Proxy.to_full`), times the head scale, rotated back to the input's axes.

Shapes the weights were not trained for (``tongueOut`` with ICT-only training) are returned as
zeros and listed in ``meta["missing"]``.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from facerig._fork import fork_call
from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE
from facerig.io.mesh import Mesh
from facerig.models.registry import MethodOutput

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "weights" / "raf.npz"

#: Proxy size for rigging. The network was trained on ~5k-vertex proxies
#: (``facerig train pool``), but it is triangulation-agnostic, and a denser proxy loses less
#: detail when its displacements are carried back to the input: on the 26,719-vertex unseen
#: heads 0.361 mm at 5k, 0.353 at 6.5k, 0.351 at 7.2k, 0.346 at 8k (stage-9 weights,
#: mirror-averaged; BENCHMARKS.md, "Inference settings"). The network's cost grows with it
#: (BENCHMARKS.md, "Rig speed").
RIG_PROXY_VERTICES = 8000


def weights_path() -> Path:
    """Shipped weights (``FACERIG_RAF_WEIGHTS`` overrides)."""
    env = os.environ.get("FACERIG_RAF_WEIGHTS")
    return Path(env) if env else WEIGHTS_PATH


def weights_available() -> bool:
    """True when the weights file exists (inference needs NumPy/SciPy only; a ``.pt``
    checkpoint also needs torch)."""
    p = weights_path()
    if p.suffix == ".pt":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return False
    return p.is_file()


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None):
    """(:class:`~facerig.models.raf_runtime.RigAnyFaceRuntime`, meta dict) from a weights
    ``.npz`` (or a training checkpoint ``.pt``)."""
    from facerig.models.raf_runtime import RigAnyFaceRuntime

    p = Path(path) if path else weights_path()
    if not p.is_file():
        raise FacerigError(f"RigAnyFace weights not found at {p}; train them (`facerig train`) or use --method dt")
    model = RigAnyFaceRuntime.load(p)
    if p.suffix == ".pt":  # a training checkpoint: the shapes its pool supervised, as `train export` records
        model.meta["trained_shapes"] = _trained_shapes(model.meta)
    return model, model.meta


def export_weights(checkpoint: str | os.PathLike, output: str | os.PathLike | None = None, note: str = "") -> Path:
    """Strip a training checkpoint to the shipped ``.npz`` (config, float32 parameters, meta)."""
    import torch

    from facerig.models.raf_runtime import checkpoint_weights, save_weights

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    out = Path(output) if output else WEIGHTS_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    trained = _trained_shapes({**ck.get("meta", {}), "train_config": ck.get("train_config")})
    meta = {"step": int(ck.get("step", 0)), "wall_s": float(ck.get("wall_s", 0.0)), "val": ck.get("val"),
            "train_config": ck.get("train_config"), "trained_shapes": trained, "note": note}
    save_weights(out, ck["config"], checkpoint_weights(ck), meta)
    load_model.cache_clear()
    return out


def _trained_shapes(meta: dict) -> list[str]:
    """A checkpoint's trained shapes: recorded in its meta, else those its pool supervised."""
    return meta.get("trained_shapes") or _pool_shapes((meta.get("train_config") or {}).get("pool_dir"))


def _pool_shapes(pool_dir: str | None) -> list[str]:
    """ARKit shapes supervised by at least one item of a training pool (all but tongueOut if the
    pool cannot be read)."""
    mask = np.zeros(len(ARKIT52), bool)
    for p in sorted(Path(pool_dir).glob("train_*.npz")) if pool_dir and Path(pool_dir).is_dir() else []:
        with np.load(p) as z:
            mask |= z["shape_mask"]
    if not mask.any():
        return [n for n in ARKIT52 if n != "tongueOut"]
    return [n for n, m in zip(ARKIT52, mask) if m]


def predict_proxy(model, prep, queries: np.ndarray, chunk: int = 26, mirror: bool = True,
                  threads: int | None = None, inputs: tuple | None = None, workers: int = 1) -> np.ndarray:
    """Network displacements in the head frame for a :class:`~facerig.geometry.proxy.PreparedHead`:
    queries (Q,K) -> (Q,P,3) float32. The per-head part runs once; queries go in chunks.

    ``mirror`` (default): also run the network on the head's mirror image (x -> -x in the head
    frame, whose origin is the nose tip and whose x axis points across the face), asking it for
    the mirrored queries (left and right shapes swapped, :func:`facerig.arkit.mirror_permutation`),
    reflect that answer back and average the two. The network is not exactly equivariant to
    reflections; averaging the two passes makes the rig so (the head's mirror image gets the
    mirror image of its rig, up to the proxy's decimation; eyeBlinkLeft and eyeBlinkRight of a
    symmetric head are each other's mirror images), and the passes' errors partly cancel: 2-6 % lower error on every
    validation group (BENCHMARKS.md). Costs a second network pass; the operators are reused
    (:meth:`~facerig.models.raf_runtime.Ops.mirrored`), and so are the local features
    (:func:`mirror_local_features`).

    ``inputs``: the head's ``(local, cross)`` network inputs when already computed
    (:func:`facerig.geometry.features.network_inputs` of ``prep.xyz``). ``workers`` > 1 runs the
    two passes side by side (without ``mirror``: the two halves of the queries, after the
    per-head part), each on half of ``threads`` BLAS threads (default: the CPU count; NumPy
    releases the GIL in its products): on two cores faster than one pass after the other on two
    BLAS threads, since much of a pass is single-threaded elementwise work. The result is the
    same either way."""
    from facerig.geometry.features import network_inputs
    from facerig.models.raf_runtime import Ops

    xyz, faces = prep.xyz, prep.proxy.faces
    local, cross = inputs if inputs is not None else network_inputs(
        xyz, faces, local=bool(model.n_local), cross=model.cross_part)
    side_by_side = workers > 1
    per = _per_worker(threads, workers)
    ops = Ops.from_operators(prep.ops, k=model.k_eig, cross=cross, threads=per if side_by_side else threads)
    if not mirror:
        if side_by_side and len(queries) > 1:  # one pass: its queries in two halves side by side
            enc = model.encode(xyz, ops, local)
            half = (len(queries) + 1) // 2
            with _blas_threads(per):
                other = _Job(True, model, xyz, ops, queries[half:], local, chunk, enc)
                d = model(xyz, ops, queries[:half], local, chunk=chunk, enc=enc)
                return np.concatenate([d, other.result()])
        return model(xyz, ops, queries, local, chunk=chunk)
    from facerig.arkit import ARKIT52, mirror_permutation

    flip = np.array([-1.0, 1.0, 1.0])
    mxyz = xyz * flip
    mlocal = None if local is None else mirror_local_features(local)
    perm = mirror_permutation(ARKIT52[: queries.shape[1]])
    mq = np.ascontiguousarray(queries[:, perm])

    with _blas_threads(per if side_by_side else None):  # the mirror pass on the worker thread, or in turn
        other = _Job(side_by_side, model, mxyz, ops.mirrored(), mq, mlocal, chunk)
        d = model(xyz, ops, queries, local, chunk=chunk)
        dm = other.result()
    d += dm * flip.astype(np.float32)
    d *= np.float32(0.5)
    return d


#: Columns of :func:`facerig.geometry.features.local_features` that change sign on the head's
#: mirror image (x -> -x, winding reversed): the x components of the normal and of the two
#: directions; distances do not change.
_MIRROR_LOCAL_SIGN = np.array([-1, 1, 1, 1, 1, -1, 1, 1, 1, 1, -1, 1, 1], np.float32)


def mirror_local_features(local: np.ndarray) -> np.ndarray:
    """The local features (V,13) of a head's mirror image from the head's own: (V,13) float32.

    A reflection keeps every distance, and the mirrored mesh's normals, boundary and other-part
    directions are the reflected ones, so only the x components change sign. Equal to
    recomputing them on the mirrored mesh up to ties between equidistant nearest vertices
    (``tests/models/test_raf_method.py``)."""
    local = np.asarray(local, np.float32)
    if local.shape[-1] != _MIRROR_LOCAL_SIGN.shape[0]:
        raise ValueError(f"expected (V, {_MIRROR_LOCAL_SIGN.shape[0]}) local features, got {local.shape}")
    return local * _MIRROR_LOCAL_SIGN


_EXECUTORS: dict = {}


def _executor():
    """One worker thread for the rig's side-by-side work, created on first use in each process
    (a forked child does not inherit its parent's thread)."""
    pid = os.getpid()
    if pid not in _EXECUTORS:
        from concurrent.futures import ThreadPoolExecutor

        _EXECUTORS[pid] = ThreadPoolExecutor(1, thread_name_prefix="facerig-rig")
    return _EXECUTORS[pid]


def _per_worker(threads: int | None, workers: int) -> int:
    """BLAS threads for each of ``workers`` side-by-side jobs sharing ``threads`` (default: the
    CPU count): 1 on two cores."""
    return max(1, int(threads or os.cpu_count() or 1) // max(1, workers))


def _blas_threads(n: int | None):
    """A context limiting BLAS to ``n`` threads (a no-op context for None)."""
    import contextlib

    if not n:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(int(n), user_api="blas")


#: Shapes whose motion locates the face for :func:`face_landmarks`: the two blinks (upper lids)
#: and two lip-only shapes (the lips).
FACE_PROBES = ("eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker")


#: The face probe runs on a decimation of the proxy to about this many vertices
#: (:func:`probe_mesh`): the landmarks are motion centroids and barely depend on the
#: resolution (factors within 0.3 % on average of the full proxy's on the validation heads,
#: ``python benchmarks/face_frame.py --probe-check evalset``), and the pass then costs a
#: fraction of one on the rig's proxy and can run while the rig's operators are computed.
FACE_PROBE_VERTICES = 2500


def probe_decimates(num_vertices: int, target: int | None = None) -> bool:
    """Whether :func:`probe_mesh` decimates a proxy of ``num_vertices`` (more than 1.2 times a
    positive ``target``, default :data:`FACE_PROBE_VERTICES`) rather than using it as it is."""
    target = FACE_PROBE_VERTICES if target is None else target
    return target > 0 and num_vertices > 1.2 * target


def probe_mesh(xyz: np.ndarray, faces: np.ndarray, target: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The mesh the face probe runs on: ``xyz`` (P,3), ``faces`` (F,3) decimated by quadric edge
    collapses to about ``target`` vertices (as they are when at most 1.2 times that, or
    ``target`` <= 0) -> (xyz (P',3) float64, faces (F',3) int64). Edge collapses stay within
    each connected part. ``target`` defaults to :data:`FACE_PROBE_VERTICES`."""
    target = FACE_PROBE_VERTICES if target is None else target
    xyz = np.asarray(xyz, np.float64)
    faces = np.asarray(faces, np.int64)
    if not probe_decimates(len(xyz), target) or len(faces) == 0:
        return xyz, faces
    import fast_simplification as fs

    n_faces = max(int(2 * target * len(faces) / (2 * len(xyz))), 4)
    v, f = fs.simplify(xyz, faces.astype(np.int32), target_count=n_faces)
    return np.asarray(v, np.float64), np.asarray(f, np.int64)


def face_landmarks(model, prep, threads: int | None = None,
                   probe_vertices: int | None = None) -> dict[str, np.ndarray]:
    """Where the network puts the eyes and the mouth of a prepared head, in its head frame.

    One network pass (no mirror) for :data:`FACE_PROBES` on :func:`probe_mesh` of the proxy
    (its own operators; ``prep.ops`` may be None); each landmark is the centroid of its
    shapes' motion, weighted by squared displacement over the vertices moving more than 30 % of
    the shape's largest motion. Needs no eyeballs, landmarks or template: the rig itself finds
    the face. Returns ``eye_left`` (3,) (+X side), ``eye_right`` (3,), ``mouth`` (3,) and the
    distances ``iod`` (between the eyes) and ``eye_mouth`` (eye midpoint to mouth), in head
    widths (multiply by ``prep.scale`` for input units)."""
    from facerig.geometry.operators import compute_operators

    xyz, faces = probe_mesh(prep.xyz, prep.proxy.faces, probe_vertices)
    if xyz is prep.xyz and prep.ops is not None:
        ops = prep.ops
    else:
        ops = compute_operators(xyz, faces, k=model.k_eig, cache=False)
    return _probe_pass(model, xyz, faces, ops, threads)


def _probe_pass(model, xyz: np.ndarray, faces: np.ndarray, ops, threads: int | None = None) -> dict:
    """The face probe's network pass on a normalised mesh xyz (P,3), faces (F,3) with its
    operators -> the landmarks of :func:`landmarks_from_motion`."""
    from facerig.geometry.features import network_inputs
    from facerig.models.raf_runtime import Ops

    local, cross = network_inputs(xyz, faces, local=bool(model.n_local), cross=model.cross_part)
    ops = Ops.from_operators(ops, k=model.k_eig, cross=cross, threads=threads)
    q = face_probe_queries(model.num_shapes)
    return landmarks_from_motion(xyz, model(xyz, ops, q, local, chunk=len(q)))


def face_probe_queries(num_shapes: int) -> np.ndarray:
    """One-hot queries (4, num_shapes) float32 for :data:`FACE_PROBES`."""
    idx = [ARKIT52.index(n) for n in FACE_PROBES]
    q = np.zeros((len(idx), num_shapes), np.float32)
    q[np.arange(len(idx)), idx] = 1.0
    return q


def landmarks_from_motion(xyz: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    """Eyes and mouth from the motion of the probe shapes: xyz (P,3), d (4,P,3) for
    :data:`FACE_PROBES` -> the dict of :func:`face_landmarks`."""
    xyz = np.asarray(xyz, np.float64)
    m = np.linalg.norm(np.asarray(d, np.float64), axis=2)  # (4,P)

    def centroid(s: np.ndarray) -> np.ndarray:
        w = np.where(s > 0.3 * s.max(), s**2, 0.0) if s.max() > 0 else np.ones_like(s)
        return (w[:, None] * xyz).sum(0) / w.sum()

    eyes = [centroid(m[0]), centroid(m[1])]
    eyes.sort(key=lambda e: -e[0])
    mouth = centroid(m[2] + m[3])
    return {"eye_left": eyes[0], "eye_right": eyes[1], "mouth": mouth,
            "iod": float(np.linalg.norm(eyes[0] - eyes[1])),
            "eye_mouth": float(np.linalg.norm(0.5 * (eyes[0] + eyes[1]) - mouth))}


#: Face-measured frame (:func:`face_frame_factor`): ``beta``, reference face size ``f0`` (head
#: widths) and the largest factor either way. Fitted on generated training-split heads, never on
#: the validation set (``benchmarks/face_frame.py``, ``benchmarks/results/face_frame.json``).
FACE_FRAME = {"beta": 0.40, "f0": 0.414, "max_factor": 1.4}


def face_layout(landmarks: dict) -> dict[str, float]:
    """How the eyes and mouth the probe found sit, as ratios (:func:`face_check` reads them):
    ``sym`` |x_left + x_right| / iod (eyes either side of the mid-line: 0), ``level`` |y_left -
    y_right| / iod, ``depth`` |z_left - z_right| / iod, ``mouth_mid`` |x_mouth - x_eyes| / iod,
    ``below`` (y_eyes - y_mouth) / eye_mouth (1 for a mouth straight below the eyes), ``forward``
    (z_mouth - z_eyes) / eye_mouth, ``ratio`` eye_mouth / iod; head-frame landmarks (+Y up, face
    toward +Z, origin on the mid-line)."""
    el, er, m = (np.asarray(landmarks[k], np.float64) for k in ("eye_left", "eye_right", "mouth"))
    iod, em = max(float(landmarks["iod"]), 1e-12), max(float(landmarks["eye_mouth"]), 1e-12)
    mid = 0.5 * (el + er)
    return {"sym": abs(el[0] + er[0]) / iod, "level": abs(el[1] - er[1]) / iod, "depth": abs(el[2] - er[2]) / iod,
            "mouth_mid": abs(m[0] - mid[0]) / iod, "below": (mid[1] - m[1]) / em, "forward": (m[2] - mid[2]) / em,
            "ratio": em / iod}


#: Limits of :func:`face_layout` for :func:`face_check`: past an ``error`` limit the mesh is not
#: rigged (``facerig rig`` stops: not a head, or not in the orientation given), past a ``warn``
#: limit the rig is made with a warning. On the 74 validation heads (26, and 48 stylised ones,
#: warped and asymmetric) the extremes were sym 0.63, level 0.13, depth 0.12, mouth_mid 0.18,
#: below 0.94, forward -0.25..0.34, and all 74 pass. A sphere, a box, a cylinder, a capsule and
#: the example head turned 90 degrees, upside down, lying down or in Blender's axes pass an
#: error limit; a torus and
#: the example head facing away, turned 45 degrees, tilted 30 or rolled 20 a warn limit
#: (``python benchmarks/head_check.py evalset evalset_wide``, ``benchmarks/results/head_check.json``).
HEAD_CHECK = {
    "error": {"below_min": 0.5, "level_max": 0.5, "depth_max": 0.6},
    "warn": {"below_min": 0.9, "level_max": 0.3, "depth_max": 0.3, "mouth_mid_max": 0.35, "sym_max": 1.0,
             "forward_min": -0.35, "forward_max": 0.45},
}

_HEAD_CHECK_WORDS = {
    "below": "the mouth is not below the eyes",
    "level": "the eyes are not level",
    "depth": "one eye is far in front of the other",
    "mouth_mid": "the mouth is not between the eyes",
    "sym": "the eyes are not either side of the mid-line",
    "forward_min": "the mouth is far behind the eyes",
    "forward_max": "the mouth is far in front of the eyes",
}


def _usable(landmarks: dict) -> bool:
    """Whether the probe found two separate eyes and a mouth apart from them."""
    iod, em = float(landmarks["iod"]), float(landmarks["eye_mouth"])
    return bool(np.isfinite(iod) and np.isfinite(em) and iod > 1e-9 and em > 1e-9)


def face_check(landmarks: dict, limits: dict | None = None) -> tuple[str, list[str]]:
    """Whether the face the probe found looks like a face on a head that is upright and facing
    forward: ``("ok" | "warn" | "error", reasons)``, reasons in words (:data:`HEAD_CHECK`)."""
    limits = HEAD_CHECK if limits is None else limits
    if not _usable(landmarks):
        return "error", ["the network found no separate eyes and mouth"]
    lay = face_layout(landmarks)
    for status in ("error", "warn"):
        reasons = []
        for key, lim in limits[status].items():
            name, kind = key.rsplit("_", 1)
            value = lay[name]
            if not np.isfinite(value) or (value < lim if kind == "min" else value > lim):
                words = _HEAD_CHECK_WORDS.get(key) or _HEAD_CHECK_WORDS[name]
                reasons.append(f"{words} ({name} {value:.2f})")
        if reasons:
            return status, reasons
    return "ok", []


def face_check_score(landmarks: dict, limits: dict | None = None) -> float:
    """How far the probe's face is from an ideal one, towards :data:`HEAD_CHECK`'s warn limits:
    the largest over the limits of the ratio's distance from its ideal value (1 for ``below``,
    0 for the others) in units of the limit's (below 1 when every ratio is within its limits;
    inf when the landmarks are unusable). Ranks orientations in :func:`suggest_orientation`."""
    limits = HEAD_CHECK if limits is None else limits
    if not _usable(landmarks):
        return float("inf")
    lay = face_layout(landmarks)
    ideal = {"below": 1.0, "forward": 0.0}
    worst = 0.0
    for key, lim in limits["warn"].items():
        name, kind = key.rsplit("_", 1)
        c = ideal.get(name, 0.0)
        span = abs(lim - c) or 1.0
        off = (c - lay[name]) if kind == "min" else (lay[name] - c)  # towards the limit
        worst = max(worst, off / span)
    return float(worst)


#: The 24 orientations (``up``, ``forward``) of a mesh whose axes are the coordinate axes.
ORIENTATIONS = tuple((u, f) for u in ("+y", "+z", "-y", "-z", "+x", "-x")
                     for f in ("+z", "-y", "-z", "+y", "+x", "-x") if u[1] != f[1])


def suggest_orientation(mesh: Mesh, *, weights: str | None = None, proxy_vertices: int = RIG_PROXY_VERTICES,
                        weld: float = DEFAULT_WELD_TOLERANCE,
                        orientations=ORIENTATIONS) -> list[tuple[str, str, str, float]]:
    """Which axis-aligned orientation makes ``mesh`` look like an upright head to the network.

    The face probe (:func:`face_landmarks`) runs once per candidate ``(up, forward)`` of
    :data:`ORIENTATIONS` on one decimation of the mesh: a rotation changes no length, so its
    Laplacian eigenbasis and gradient operators are computed once and rescaled to each
    orientation's head frame (the network's gradient features do not depend on the tangent
    frames); positions, head frame, local features and the cross-part operator are redone.
    About 0.2 s per orientation on 2 cores. Returns ``(up, forward, check, score)`` sorted best
    first (:func:`face_check`, :func:`face_check_score`)."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.operators import compute_operators, rescaled_operators
    from facerig.geometry.proxy import head_frame, prepare_head

    model, _ = load_model(weights)
    v = np.asarray(mesh.vertices, np.float64)
    prep = prepare_head(v, mesh.faces, proxy_vertices=proxy_vertices, k=model.k_eig, weld=float(weld),
                        operators=False)
    xyz0, faces = probe_mesh(prep.xyz, prep.proxy.faces)
    ops0 = compute_operators(xyz0, faces, k=model.k_eig, cache=False)
    out = []
    for up, fwd in orientations:
        x = xyz0 @ orientation_matrix(up, fwd).T
        center, scale = head_frame(x)
        lm = _probe_pass(model, (x - center) / scale, faces, rescaled_operators(ops0, scale))
        status, _reasons = face_check(lm)
        out.append((up, fwd, status, face_check_score(lm)))
    return sorted(out, key=lambda r: r[3])


class NotAHeadError(FacerigError):
    """The network found no plausible face on the mesh (see :func:`face_check`)."""


def face_frame_factor(landmarks: dict, beta: float | None = None, f0: float | None = None,
                      max_factor: float | None = None) -> float:
    """How much wider the head frame should be, from where the network found the face.

    The head frame is the head's width at nose height; a head pinched or cut there, or one
    whose face is large or small for its skull, gets every shape scaled wrong. The face size
    ``f = sqrt(iod * eye_mouth)`` (head widths, :func:`face_landmarks`) against its typical value
    ``f0`` says by how much: factor ``(f / f0) ** beta``, within ``[1 / max_factor, max_factor]``
    (1 where the landmarks are unusable). Defaults: :data:`FACE_FRAME`."""
    beta = FACE_FRAME["beta"] if beta is None else float(beta)
    f0 = FACE_FRAME["f0"] if f0 is None else float(f0)
    cap = FACE_FRAME["max_factor"] if max_factor is None else float(max_factor)
    f = float(np.sqrt(max(landmarks["iod"], 0.0) * max(landmarks["eye_mouth"], 0.0)))
    if not (np.isfinite(f) and f > 0) or beta == 0:
        return 1.0
    return float(np.clip((f / f0) ** beta, 1.0 / cap, cap))


class _Job:
    """``fn(*args)`` on the worker thread (``background``) or right here; ``result()`` returns
    its value or raises its exception."""

    def __init__(self, background: bool, fn, *args):
        if background:
            self._future, self._value = _executor().submit(fn, *args), None
        else:
            self._future, self._value = None, fn(*args)

    def result(self):
        return self._future.result() if self._future is not None else self._value


def _operators(prep, k: int, timings: dict):
    """Operators of a prepared head's normalised proxy (``prepare_head(..., operators=False)``),
    their stage timings added to ``timings``."""
    from facerig.geometry.operators import compute_operators

    t0 = time.perf_counter()
    ops = compute_operators(prep.xyz, prep.proxy.faces, k=k, timings=timings)
    timings["operators"] = time.perf_counter() - t0
    return ops


def _probe_and_inputs(model, prep, threads: int | None, face_frame: bool, skip_on_error: bool) -> tuple:
    """The face probe of a prepared head (with ``face_frame``: :func:`face_landmarks` and
    :func:`face_frame_factor`) and the network's local inputs on its proxy in the frame that
    measures: ``(landmarks or None, factor, (local, cross) or None, timings)``. The inputs are
    skipped (None) when ``skip_on_error`` and the face fails :func:`face_check` (the rig is then
    refused). Runs in a forked child beside the operators (:func:`rig_raf`)."""
    from facerig.geometry.features import network_inputs

    lm, factor, t = None, 1.0, {}
    if face_frame:
        tp = time.perf_counter()
        lm = face_landmarks(model, prep, threads=threads)
        factor = face_frame_factor(lm)
        t["face_probe"] = time.perf_counter() - tp
        if skip_on_error and face_check(lm)[0] == "error":
            return lm, factor, None, t
    tp = time.perf_counter()
    inputs = network_inputs(prep.xyz / factor, prep.proxy.faces, local=bool(model.n_local), cross=model.cross_part)
    t["network_inputs"] = time.perf_counter() - tp
    return lm, factor, inputs, t


def rig_raf(mesh: Mesh, *, up: str = "+y", forward: str = "+z", weights: str | None = None,
            proxy_vertices: int = RIG_PROXY_VERTICES, threads: int | None = None, queries: np.ndarray | None = None,
            weld: float = DEFAULT_WELD_TOLERANCE, mirror: bool = True, frame_scale: float = 1.0,
            face_frame: bool = True, head_check: bool = True, **_: Any) -> MethodOutput:
    """Rig ``mesh`` with the network: deltas (52,V,3) in the input's units, axes and vertex order.

    Options: ``up``/``forward`` input axes; ``weights`` path; ``proxy_vertices``; ``threads``
    (default: all cores): BLAS and sparse-product threads, and with 2 or more the operators are
    computed beside the face probe (which runs in a forked child where fork is available,
    :mod:`facerig._fork`) and the two network passes run side by side (1: everything in turn;
    the rig is the same); ``queries`` (Q,52) FACS vectors to evaluate instead of the 52
    one-hot shapes (then ``names`` are ``query0..``); ``weld``: distance below which open seams
    are stitched, as a fraction of the bounding-box diagonal (0 = off); ``mirror``: average
    with the network's answer on the head's mirror image (default; see :func:`predict_proxy`);
    ``frame_scale``: multiply the head frame's width (a diagnostic, default 1: a value > 1 tells
    the network the head is smaller than its width at the nose says, and scales the rig's
    motion with it; ``benchmarks/frame_scale.py``); ``face_frame`` (default on): widen or
    narrow the head frame by :func:`face_frame_factor` of the face the network finds
    (:func:`face_landmarks`, one extra 4-shape pass), on top of ``frame_scale``; the shipped
    weights were trained in that frame (model card, "Face-measured frame"); ``head_check``
    (default on, with ``face_frame``): raise :class:`NotAHeadError` when the face the probe found
    is implausible past :data:`HEAD_CHECK`'s error limits (not a head, or a head not in the
    ``up``/``forward`` orientation given), record ``warn`` and its reasons in the meta past the
    warning limits (:func:`face_check`). Unknown options are ignored.
    """
    import contextlib

    from facerig._alloc import keep_freed_memory
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.proxy import prepare_head

    n_threads = int(threads) if threads else (os.cpu_count() or 1)
    workers = 2 if n_threads >= 2 else 1  # the rig's work splits two ways (see below)
    if threads:  # BLAS threads (``predict_proxy`` passes ``threads`` to the sparse products)
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(int(threads))
    else:
        limits = contextlib.nullcontext()
    with limits:
        keep_freed_memory()  # the network's layers reuse freed memory (see facerig._alloc)
        t0 = time.perf_counter()
        model, meta = load_model(weights)
        R = orientation_matrix(up, forward)
        v = np.asarray(mesh.vertices, np.float64) @ R.T
        prep = prepare_head(v, mesh.faces, proxy_vertices=proxy_vertices, k=model.k_eig, weld=float(weld),
                            frame_scale=float(frame_scale), operators=False)
        # The proxy's operators (mostly the eigenbasis: one core) are computed here while a
        # forked child finds the face on a small decimation of the proxy and computes the
        # network's local inputs in the face-measured frame (a child rather than a thread: the
        # two share no GIL); the two network passes then run side by side (``predict_proxy``).
        # Without fork, a worker thread computes the operators; with one thread, all in turn.
        timings = prep.timings
        per = _per_worker(threads, workers)
        job = None
        if workers > 1 and (not face_frame or probe_decimates(prep.proxy.num_vertices)):
            job = fork_call(_probe_and_inputs, model, prep, 1, face_frame, head_check)
        if job is not None:
            with job, _blas_threads(per):
                ops = _operators(prep, model.k_eig, timings)
                lm, factor, inputs, t_face = job.result()
            prep = prep.with_operators(ops)
        else:
            ops_job = _Job(workers > 1, _operators, prep, model.k_eig, timings)
            with _blas_threads(per if workers > 1 else None):
                if face_frame and not probe_decimates(prep.proxy.num_vertices):  # the probe runs on the proxy itself
                    prep = prep.with_operators(ops_job.result())
                lm, factor, inputs, t_face = _probe_and_inputs(model, prep, per if workers > 1 else threads,
                                                                face_frame, head_check)
                if prep.ops is None:
                    prep = prep.with_operators(ops_job.result())
        timings.update(t_face)
        face = None
        if lm is not None:
            face = {"factor": round(factor, 4), "iod": round(lm["iod"] * prep.scale, 6),
                    "eye_mouth": round(lm["eye_mouth"] * prep.scale, 6)}
            status, reasons = face_check(lm)
            face["check"] = status
            if reasons:
                face["check_reasons"] = reasons
            if status == "error" and head_check:
                raise NotAHeadError(f"no plausible face found with up {up} and forward {forward}: "
                                    + "; ".join(reasons))
        if factor != 1.0:
            prep = prep.rescaled(factor)
        t1 = time.perf_counter()
        K = model.num_shapes
        trained = meta.get("trained_shapes") or [n for n in ARKIT52 if n != "tongueOut"]
        missing: list[str] = []
        if queries is None:  # one-hot queries of the shapes the weights were trained for
            names = list(ARKIT52)
            missing = [n for n in names if n not in trained]
            keep = [i for i, n in enumerate(names[:K]) if n in trained]
            a = np.eye(K, dtype=np.float32)[keep]
        else:
            a = np.asarray(queries, np.float32)
            names = [f"query{i}" for i in range(a.shape[0])]
        d = predict_proxy(model, prep, a, mirror=bool(mirror), threads=threads, inputs=inputs,
                          workers=workers)  # (Q,P,3)
        t2 = time.perf_counter()
        moved = prep.proxy.to_full(d) * np.float32(prep.scale)  # (Q,V,3) canonical axes
        moved = moved @ R.astype(np.float32)  # back to input axes (R orthonormal)
        if queries is None:  # untrained shapes are zeros
            full = np.zeros((len(names),) + moved.shape[1:], np.float32)
            full[keep] = moved
        else:
            full = moved
        t3 = time.perf_counter()
        info = {"proxy_vertices": prep.proxy.num_vertices, "head_scale": prep.scale, "seam_vertices_stitched": prep.welded,
                "mirror_averaged": bool(mirror), **({"frame_scale": float(frame_scale)} if frame_scale != 1 else {}),
                **({"face_frame": face} if face is not None else {}),
                "timings": {"prepare": round(t1 - t0, 3), "network": round(t2 - t1, 3), "transfer": round(t3 - t2, 3),
                            **{k: round(v, 3) for k, v in timings.items()}},
                "weights_step": meta.get("step")}
        out_meta: dict[str, Any] = {"raf": info}
        if missing:
            out_meta["missing"] = missing
        return MethodOutput(names=names, deltas=np.ascontiguousarray(full, dtype=np.float32), meta=out_meta)
