"""The face probe: where the network puts the eyes and the mouth, and what follows from it.

One 4-shape network pass (:data:`FACE_PROBES`) on a small decimation of a prepared head
(:func:`probe_mesh`) gives eye and mouth positions (:func:`face_landmarks`) with no eyeballs,
landmarks or template. From them:

- the face-measured head frame (:func:`face_frame_factor`, :data:`FACE_FRAME`);
- the head check (:func:`face_layout`, :func:`face_check`, :data:`HEAD_CHECK`,
  :class:`NotAHeadError`): is this a face on an upright head facing forward;
- the orientation search (:func:`suggest_orientation` over :data:`ORIENTATIONS`).
"""

from __future__ import annotations

import numpy as np

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE
from facerig.io.mesh import Mesh
from facerig.models.raf.config import RIG_PROXY_VERTICES
from facerig.models.raf.weights import load_model

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
    each connected part. ``target`` defaults to :data:`FACE_PROBE_VERTICES`. Where the decimation
    leaves faces of no area and its rebuild throws vertices off the surface
    (:func:`facerig.geometry.decimate.snap_collapsed`), the corners of those faces take the rebuild's
    positions with them put back."""
    target = FACE_PROBE_VERTICES if target is None else target
    xyz = np.asarray(xyz, np.float64)
    faces = np.asarray(faces, np.int64)
    if not probe_decimates(len(xyz), target) or len(faces) == 0:
        return xyz, faces
    import fast_simplification as fs

    n_faces = max(int(2 * target * len(faces) / (2 * len(xyz))), 4)
    v, f, collapses = fs.simplify(xyz, faces.astype(np.int32), target_count=n_faces, return_collapses=True)
    v, f = np.asarray(v, np.float64), np.asarray(f, np.int64)
    # flat facets (a midpoint-subdivided head) can collapse vertices onto one point, leaving faces of
    # no area and a singular Laplacian: only the corners of such faces are rebuilt from the collapses,
    # with the vertices thrown off their cluster put back (facerig.geometry.decimate.snap_collapsed, as
    # the proxy is); every other vertex keeps simplify's own position (the rebuild moves sound ones too)
    flat = _flat_faces(v, f)
    if not flat.any():
        return v, f
    from facerig.geometry.decimate import snap_collapsed

    rv, rf, origin = fs.replay_simplification(xyz, faces.astype(np.int32), collapses)
    rf = np.asarray(rf, np.int64)
    if rf.shape != f.shape or not np.array_equal(rf, f):
        return v, f
    snapped, moved = snap_collapsed(rv, xyz, np.asarray(origin, np.int64))
    if not moved:
        return v, f
    fix = np.unique(f[flat])
    out = v.copy()
    out[fix] = snapped[fix]
    return out, f


def _flat_faces(xyz: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces of ``xyz`` (P, 3), ``faces`` (F, 3) with no area (twice their area at most 1e-12 times the
    median face's) -> (F,) bool."""
    from facerig.geometry.rows import cross_rows, norm_rows

    a2 = norm_rows(cross_rows(xyz[faces[:, 1]] - xyz[faces[:, 0]], xyz[faces[:, 2]] - xyz[faces[:, 0]]))
    return a2 <= 1e-12 * np.median(a2) if a2.size else np.zeros(0, bool)


def face_landmarks(model, prep, threads: int | None = None, probe_vertices: int | None = None) -> dict[str, np.ndarray]:
    """Where the network puts the eyes and the mouth of a prepared head, in its head frame.

    One network pass (no mirror) for :data:`FACE_PROBES` on :func:`probe_mesh` of the proxy
    (its own operators; ``prep.ops`` may be None); each landmark is the centroid of its
    shapes' motion, weighted by squared displacement over the vertices moving more than 30 % of
    the shape's largest motion. Needs no eyeballs, landmarks or template: the rig itself finds
    the face. Returns ``eye_left`` (3,) (+X side), ``eye_right`` (3,), ``mouth`` (3,) and the
    distances ``iod`` (between the eyes) and ``eye_mouth`` (eye midpoint to mouth), in head
    widths (multiply by ``prep.scale`` for input units)."""
    from facerig.geometry.operators import SPECTRAL_GAP, compute_operators

    xyz, faces = probe_mesh(prep.xyz, prep.proxy.faces, probe_vertices)
    if xyz is prep.xyz and prep.ops is not None:
        ops = prep.ops
    else:
        ops = compute_operators(xyz, faces, k=model.k_eig + 1 + SPECTRAL_GAP, cache=False)  # spectral_cut
    return _probe_pass(model, xyz, faces, ops, threads)


def _probe_pass(model, xyz: np.ndarray, faces: np.ndarray, ops, threads: int | None = None) -> dict:
    """The face probe's network pass on a normalised mesh xyz (P,3), faces (F,3) with its
    operators -> the landmarks of :func:`landmarks_from_motion`."""
    from facerig.geometry.features import network_inputs
    from facerig.geometry.operators import SPECTRAL_GAP

    local, cross = network_inputs(xyz, faces, local=bool(model.n_local), cross=model.cross_part)
    ops = ops.for_network(k=model.k_eig, cross=cross, gap=SPECTRAL_GAP)  # cut at a gap: stable
    q = face_probe_queries(model.num_shapes)
    return landmarks_from_motion(xyz, model(xyz, ops, q, local, chunk=len(q), threads=threads))


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
    return {
        "eye_left": eyes[0],
        "eye_right": eyes[1],
        "mouth": mouth,
        "iod": float(np.linalg.norm(eyes[0] - eyes[1])),
        "eye_mouth": float(np.linalg.norm(0.5 * (eyes[0] + eyes[1]) - mouth)),
    }


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
    return {
        "sym": abs(el[0] + er[0]) / iod,
        "level": abs(el[1] - er[1]) / iod,
        "depth": abs(el[2] - er[2]) / iod,
        "mouth_mid": abs(m[0] - mid[0]) / iod,
        "below": (mid[1] - m[1]) / em,
        "forward": (m[2] - mid[2]) / em,
        "ratio": em / iod,
    }


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
    "warn": {
        "below_min": 0.9,
        "level_max": 0.3,
        "depth_max": 0.3,
        "mouth_mid_max": 0.35,
        "sym_max": 1.0,
        "forward_min": -0.35,
        "forward_max": 0.45,
    },
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
ORIENTATIONS = tuple(
    (u, f) for u in ("+y", "+z", "-y", "-z", "+x", "-x") for f in ("+z", "-y", "-z", "+y", "+x", "-x") if u[1] != f[1]
)


def suggest_orientation(
    mesh: Mesh,
    *,
    weights: str | None = None,
    proxy_vertices: int = RIG_PROXY_VERTICES,
    weld: float = DEFAULT_WELD_TOLERANCE,
    orientations=ORIENTATIONS,
) -> list[tuple[str, str, str, float]]:
    """Which axis-aligned orientation makes ``mesh`` look like an upright head to the network.

    The face probe (:func:`face_landmarks`) runs once per candidate ``(up, forward)`` of
    :data:`ORIENTATIONS` on one decimation of the mesh: a rotation changes no length, so its
    Laplacian eigenbasis and gradient operators are computed once and rescaled to each
    orientation's head frame (the network's gradient features do not depend on the tangent
    frames); positions, head frame, local features and the cross-part operator are redone.
    About 0.2 s per orientation on 2 cores. Returns ``(up, forward, check, score)`` sorted best
    first (:func:`face_check`, :func:`face_check_score`)."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.operators import compute_operators
    from facerig.geometry.proxy import head_frame, prepare_head

    model, _ = load_model(weights)
    v = np.asarray(mesh.vertices, np.float64)
    prep = prepare_head(v, mesh.faces, proxy_vertices=proxy_vertices, k=model.k_eig, weld=float(weld), operators=False)
    xyz0, faces = probe_mesh(prep.xyz, prep.proxy.faces)
    ops0 = compute_operators(xyz0, faces, k=model.k_eig, cache=False)
    out = []
    for up, fwd in orientations:
        x = xyz0 @ orientation_matrix(up, fwd).T
        center, scale = head_frame(x)
        lm = _probe_pass(model, (x - center) / scale, faces, ops0.rescaled(scale))
        status, _reasons = face_check(lm)
        out.append((up, fwd, status, face_check_score(lm)))
    return sorted(out, key=lambda r: r[3])


class NotAHeadError(FacerigError):
    """The network found no plausible face on the mesh (see :func:`face_check`)."""


def face_frame_factor(
    landmarks: dict, beta: float | None = None, f0: float | None = None, max_factor: float | None = None
) -> float:
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
