"""Automatic 68-landmark placement on heads with no ICT correspondence (external, MakeHuman).

The dt baseline needs ``[ICT template vertex, target vertex]`` landmark pairs. ICT-derived eval
heads get them exactly from the correspondence; for other heads :func:`auto_landmarks` places
them by a fixed, documented procedure (deterministic, no manual clicks):

1. **Eyes**: the target's eyeballs are found as the best mirror-symmetric pair of small,
   sphere-like connected components (least-squares sphere fit, RMS radial residual < 10 % of the
   radius, bounding box > 1.5 radii along every axis so strips and caps are excluded; centres at the same height and depth, similar radius and vertex count; the pair with
   the largest radii wins); their sphere centres are matched to the ICT sclera centres. Heads must be canonical (+Y up, face +Z, as the eval set is); heads
   without eyeballs raise :class:`~facerig.errors.DataError`.
2. **Similarity**: scale = inter-ocular distance ratio, translation = eye midpoints, no rotation;
   then 10 iterations of trimmed similarity ICP (Umeyama) of ICT's narrow face area onto the
   target's largest component (its skin).
3. **Non-rigid ICP** (:func:`facerig.geometry.registration.nonrigid_icp`) of the narrow face area
   onto that skin.
4. Each of the 68 ICT landmarks goes to the nearest target skin vertex of its registered position.

Accuracy (measured on ICT-derived heads, where the true landmarks are known) is in the docstring
of :func:`auto_landmarks` and in ``info`` of each eval-set head that used it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from facerig.errors import DataError


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through points (N, 3) -> (centre (3,), radius)."""
    p = np.asarray(points, dtype=np.float64)
    A = np.c_[2.0 * p, np.ones(len(p))]
    b = (p**2).sum(1)
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    c = x[:3]
    return c, float(np.sqrt(max(x[3] + c @ c, 0.0)))


def find_eyes(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eyeball sphere centres ``(left (3,), right (3,))`` (left = +X) of a canonical head.

    Raises:
        DataError: no mirror-symmetric pair of sphere-like components.
    """
    from facerig.geometry.components import connected_components

    v = np.asarray(vertices, dtype=np.float64)
    lab = connected_components(len(v), faces)
    n = np.bincount(lab)
    cands = []
    for c in np.flatnonzero((n >= 8) & (n < 0.3 * len(v))):
        p = v[lab == c]
        cc, rad = fit_sphere(p)
        extent = p.max(0) - p.min(0)
        if (
            rad > 0
            and np.sqrt(np.mean((np.linalg.norm(p - cc, axis=1) - rad) ** 2)) < 0.1 * rad
            and extent.min() > 1.5 * rad
        ):  # most of a sphere, not a curved strip or cap
            cands.append((c, cc, rad, int(n[c])))
    best, best_r = None, 0.0
    for i in range(len(cands)):
        for j in range(i + 1, len(cands)):
            a, b = cands[i], cands[j]
            sep = abs(a[1][0] - b[1][0])
            if sep <= 0:
                continue
            mirrored = abs(a[1][1] - b[1][1]) < 0.1 * sep and abs(a[1][2] - b[1][2]) < 0.1 * sep
            similar = min(a[3], b[3]) >= 0.7 * max(a[3], b[3]) and min(a[2], b[2]) >= 0.8 * max(a[2], b[2])
            plausible = sep > 2.0 * max(a[2], b[2])
            if mirrored and similar and plausible and a[2] + b[2] > best_r:
                best, best_r = (a, b), a[2] + b[2]
    if best is None:
        raise DataError("automatic landmarks: no eyeball pair found (needs separate eyeball meshes)")
    ca, cb = best[0][1], best[1][1]
    return (ca, cb) if ca[0] > cb[0] else (cb, ca)


def _template_face(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ICT narrow face area: (vertex ids (n,), local faces (m, 3), local landmark ids (68,))."""
    from facerig.data.ict import NARROW_FACE_END

    keep = np.arange(model.num_vertices) <= NARROW_FACE_END
    f = model.faces[keep[model.faces].all(1)]
    ids = np.unique(f)
    remap = np.full(model.num_vertices, -1, np.int64)
    remap[ids] = np.arange(len(ids))
    return ids, remap[f], remap[model.landmarks68]


def auto_landmarks(
    vertices: np.ndarray, faces: np.ndarray, *, model=None, template: np.ndarray | None = None, nonrigid: bool = True
) -> tuple[np.ndarray, dict[str, Any]]:
    """Place the 68 ICT landmarks on a canonical head (procedure in the module doc).

    Args:
        vertices: (V, 3) target vertices (+Y up, face +Z), any units.
        faces: (F, 3) target triangles.
        model: ICT model (default :func:`facerig.data.ict.load_ict`).
        template: (V_ict, 3) ICT-topology neutral to register (default the generic neutral).
        nonrigid: run step 3 (else similarity only).

    Returns:
        (target vertex of each landmark (68,) int64, info dict with ``scale`` (target units per
        cm), ``rms_fit_cm`` (final face-area fit RMS, template cm) and the procedure name).
    """
    from facerig.data.ict import load_ict
    from facerig.geometry.registration import nonrigid_icp, umeyama

    m = model if model is not None else load_ict(progress=False)
    T = np.asarray(template if template is not None else m.neutral, dtype=np.float64)
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    # 1. eyes
    tl, tr = find_eyes(v, f)
    ict_eyes = find_eyes(T, m.faces)  # same rule on the template
    s = np.linalg.norm(tl - tr) / np.linalg.norm(ict_eyes[0] - ict_eyes[1])
    t = 0.5 * (tl + tr) - s * 0.5 * (ict_eyes[0] + ict_eyes[1])
    R = np.eye(3)
    # 2. similarity ICP of the narrow face area onto the target skin (largest component)
    from facerig.geometry.components import connected_components

    lab = connected_components(len(v), f)
    skin_ids = np.flatnonzero(lab == np.bincount(lab).argmax())
    tree = cKDTree(v[skin_ids])
    ids, lf, llm = _template_face(m)
    src = T[ids]
    for _ in range(10):
        x = s * src @ R.T + t
        d, j = tree.query(x)
        ok = d < 2.5 * np.median(d)
        s, R, t = umeyama(src[ok], v[skin_ids[j[ok]]])
    # 3. non-rigid ICP, in the template's frame and units (cm): target -> (v - t) R / s
    vt = (v - t) @ R / s
    x = src.copy()
    if nonrigid:
        skin_f = f[np.isin(f, skin_ids).all(1)]
        area = np.linalg.norm(
            np.cross(vt[skin_f[:, 1]] - vt[skin_f[:, 0]], vt[skin_f[:, 2]] - vt[skin_f[:, 0]]), axis=1
        )
        skin_f = skin_f[area > 1e-12]  # degenerate triangles give NaN closest points
        x = nonrigid_icp(src, lf, vt, skin_f).vertices
    tree_t = cKDTree(vt[skin_ids])
    d, _ = tree_t.query(x)
    # 4. nearest skin vertex
    _, j = tree_t.query(x[llm])
    info = {
        "procedure": "auto: eye pair + similarity ICP" + (" + non-rigid ICP" if nonrigid else ""),
        "scale": float(s),
        "rms_fit_cm": float(np.sqrt(np.mean(d**2))),
    }
    return skin_ids[j].astype(np.int64), info
