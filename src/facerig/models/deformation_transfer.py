"""Deformation transfer baseline (Sumner & Popovic 2004) from the ICT FaceKit template.

Pipeline (method ``dt``; all work happens in the template's frame and units, cm):

1. **Landmarks**: a landmarks JSON (``{"pairs": [[template_vertex, target_vertex], ...]}``, see
   docs/CONTRACTS.md) gives template/target vertex pairs. A mesh with exactly the template's
   vertex count and no landmarks uses the 68 ICT landmarks mapped to themselves.
2. **Similarity**: Umeyama on the landmark pairs maps the target into the template frame
   (``y = s R x + t``).
3. **Non-rigid registration** of the template *skin* (template components holding a landmark)
   onto the target skin (target components holding a landmark) with
   :func:`facerig.geometry.registration.nonrigid_icp`; the other template parts (eyeballs,
   teeth, ...) follow by the similarity transform of the registered skin around each
   (:func:`~facerig.geometry.registration.fit_parts_to_skin`), then each is registered (stiff
   non-rigid ICP) onto the target components matched to it (step 4's vote).
4. **Dense correspondence**: target skin vertices / face centroids -> closest point on the
   registered template skin; every other target component votes (nearest registered template
   vertex) for the template parts it overlaps (>= 15 % of its votes) and is matched only to
   those. Searches are normal-aware so the lower lip does not snap to the upper lip.
5. **Deformation transfer** (default ``dt_mode="deformation"``): per template triangle and
   shape the deformation gradient ``S = V~ V^-1`` (Sumner's 4th-vertex frame); each target
   triangle takes ``S`` of the template triangle under its centroid and the target deltas ``d``
   solve the Poisson form of deformation transfer (Botsch et al. 2006, equivalent to Sumner's
   least squares)::

       (L + lam M) d = G^T A vec((S_f - I) J_f) + lam M d_copy

   with ``G`` the per-face gradient operator, ``A`` face areas, ``L = G^T A G`` the cotangent
   Laplacian, ``J_f`` the target's own per-face Jacobian (tangent projector) and ``M`` the
   lumped mass. The Poisson system is singular per component (translation); a tiny screening
   term ``lam`` (default 1e-6 per cm^2) makes it regular, then each component is translated by
   the per-axis *median* over its vertices of ``d_copy - d``, where ``d_copy`` is the
   barycentric copy of the template deltas: gradients come from the template's deformation, the
   placement of each part (the lower teeth, the eyeballs) from the correspondence, and regions
   the template keeps still stay still (a mean would let a local shape drag the whole head).
   One sparse LU of the (V, V) matrix serves all 51 shapes x 3 axes.
   ``dt_mode="copy"`` returns ``d_copy`` (barycentric delta copy) for comparison.
6. Deltas go back to the input's units and orientation (``d_x = d_y R / s``), input vertex order.

``tongueOut`` is not in ICT FaceKit: it is listed in ``meta["missing"]``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import cKDTree

from facerig.errors import FacerigError
from facerig.geometry.components import connected_components
from facerig.geometry.correspondence import closest_points
from facerig.geometry.registration import (
    fit_parts_to_skin,
    nonrigid_icp,
    umeyama,
    vertex_normals,
)
from facerig.io.mesh import Mesh
from facerig.models.registry import MethodOutput

DT_MODES = ("deformation", "copy")


# ----------------------------------------------------------------------------- small helpers


def read_landmark_pairs(landmarks: Any) -> np.ndarray:
    """Landmark pairs from a JSON path, a dict ``{"pairs": ...}`` or an (L, 2) array -> (L, 2) int64."""
    if landmarks is None:
        raise FacerigError("dt needs landmarks")
    if isinstance(landmarks, (str, os.PathLike)):
        try:
            with open(landmarks) as f:
                landmarks = json.load(f)
        except (OSError, ValueError) as e:
            raise FacerigError(f"cannot read landmarks {landmarks}: {e}") from None
    if isinstance(landmarks, dict):
        landmarks = landmarks.get("pairs", [])
    pairs = np.asarray(landmarks, dtype=np.int64).reshape(-1, 2)
    return pairs


def face_gradient_operator(vertices: np.ndarray, faces: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Per-face gradient of piecewise-linear functions.

    Args:
        vertices: (V, 3); faces: (F, 3) int, non-degenerate.

    Returns:
        G (3F, V) sparse with ``(G @ u).reshape(F, 3)`` the gradient of vertex function u on each
        face, and areas (F,).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    p0, p1, p2 = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    n = np.cross(p1 - p0, p2 - p0)
    dbl = np.linalg.norm(n, axis=1)
    nu = n / dbl[:, None]
    # grad phi_i = (n_hat x e_i) / (2A), e_i the edge opposite vertex i (counter-clockwise)
    g0 = np.cross(nu, p2 - p1) / dbl[:, None]
    g1 = np.cross(nu, p0 - p2) / dbl[:, None]
    g2 = np.cross(nu, p1 - p0) / dbl[:, None]
    F = f.shape[0]
    rows = np.arange(F)[:, None] * 3 + np.arange(3)[None, :]  # (F,3)
    R = np.concatenate([rows, rows, rows], axis=1).ravel()
    C = np.concatenate(
        [np.repeat(f[:, [0]], 3, 1), np.repeat(f[:, [1]], 3, 1), np.repeat(f[:, [2]], 3, 1)], axis=1
    ).ravel()
    D = np.concatenate([g0, g1, g2], axis=1).ravel()
    G = sp.csr_matrix((D, (R, C)), shape=(3 * F, v.shape[0]))
    return G, dbl / 2.0


def _frames(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Sumner's per-face frame ``[v2-v1, v3-v1, n/sqrt|n|]`` as columns: (..., F, 3, 3)."""
    p0 = vertices[..., faces[:, 0], :]
    e1 = vertices[..., faces[:, 1], :] - p0
    e2 = vertices[..., faces[:, 2], :] - p0
    n = np.cross(e1, e2)
    ln = np.linalg.norm(n, axis=-1, keepdims=True)
    n = n / np.sqrt(np.maximum(ln, 1e-30))
    return np.stack([e1, e2, n], axis=-1)


def inverse_frames(neutral: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse rest frames ``V^-1`` (F, 3, 3) and a (F,) bool mask of non-degenerate faces."""
    V0 = _frames(neutral, faces)
    det = np.linalg.det(V0)
    ok = np.abs(det) > 1e-12 * max(float(np.abs(det).max()), 1e-30)
    Vinv = np.zeros_like(V0)
    Vinv[ok] = np.linalg.inv(V0[ok])
    return Vinv, ok


def deformation_gradients(
    neutral: np.ndarray, faces: np.ndarray, deltas: np.ndarray, *, inverse: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Per-face deformation gradients of each shape (Sumner & Popovic 2004).

    Args:
        neutral: (V, 3); faces: (F, 3); deltas: (K, V, 3);
        inverse: optional precomputed :func:`inverse_frames` of exactly these faces.

    Returns:
        (K, F, 3, 3) float64 ``S`` with ``S @ e = e'`` for both edges and the scaled normal.
        Degenerate faces get the identity.
    """
    Vinv, ok = inverse_frames(neutral, faces) if inverse is None else inverse
    out = np.empty((deltas.shape[0], faces.shape[0], 3, 3))
    for k in range(deltas.shape[0]):
        Vk = _frames(neutral + deltas[k].astype(np.float64), faces)
        S = Vk @ Vinv
        S[~ok] = np.eye(3)
        out[k] = S
    return out


# ----------------------------------------------------------------------------- template


class _Template:
    """ICT template data the method needs (prepared once per process)."""

    def __init__(self, model: Any):
        self.neutral = np.asarray(model.neutral, dtype=np.float64)
        self.faces = np.asarray(model.faces, dtype=np.int64)
        self.parts = (
            np.asarray(model.parts, dtype=np.int64)
            if getattr(model, "parts", None) is not None
            else connected_components(len(self.neutral), self.faces)
        )
        self.landmarks68 = np.asarray(getattr(model, "landmarks68", []), dtype=np.int64)
        names, deltas = model.arkit()
        self.names = list(names)
        self.deltas = np.asarray(deltas, dtype=np.float32)
        self._inv: tuple[np.ndarray, np.ndarray] | None = None
        self.diag = float(np.linalg.norm(self.neutral.max(0) - self.neutral.min(0)))

    def gradients(self, k: int, face_idx: np.ndarray) -> np.ndarray:
        """Deformation gradients (n, 3, 3) of shape ``k`` on template faces ``face_idx`` (n,)."""
        if self._inv is None:
            self._inv = inverse_frames(self.neutral, self.faces)
        Vinv, ok = self._inv
        f = self.faces[face_idx]
        Vk = _frames(self.neutral + self.deltas[k].astype(np.float64), f)
        S = Vk @ Vinv[face_idx]
        S[~ok[face_idx]] = np.eye(3)
        return S


_TEMPLATES: dict[int, tuple[Any, _Template]] = {}


def _template(model: Any | None) -> _Template:
    if model is None:
        from facerig.data.ict import load_ict

        model = load_ict(progress=False)
    key = id(model)
    if key not in _TEMPLATES or _TEMPLATES[key][0] is not model:
        _TEMPLATES[key] = (model, _Template(model))
    return _TEMPLATES[key][1]


def _missing_names(names: list[str]) -> list[str]:
    from facerig.arkit import ARKIT52

    return [n for n in ARKIT52 if n not in names]


# ----------------------------------------------------------------------------- the method


def _auto_landmark_pairs(X: np.ndarray, Fx: np.ndarray, T: Any, up: str, forward: str) -> np.ndarray:
    """(68, 2) template/target landmark pairs placed automatically on target ``X`` (V, 3)."""
    from facerig.data.landmarks import auto_landmarks
    from facerig.geometry.frame import orientation_matrix

    R = orientation_matrix(up, forward)
    try:
        idx, _info = auto_landmarks(X @ R.T, Fx)
    except FacerigError:
        raise
    except Exception as e:  # noqa: BLE001 - report as a user-facing failure
        raise FacerigError(
            f"dt could not place landmarks automatically ({e.__class__.__name__}: {e}); "
            "pass --landmarks JSON (template/target vertex pairs)"
        ) from None
    ok = idx >= 0
    return np.stack([T.landmarks68[ok], idx[ok]], 1)


def rig_deformation_transfer(
    mesh: Mesh,
    *,
    landmarks: Any = None,
    template: Any = None,
    dt_mode: str = "deformation",
    screen: float = 1e-6,
    refine_parts: bool = True,
    verbose: bool = False,
    up: str = "+y",
    forward: str = "+z",
    **_: Any,
) -> MethodOutput:
    """Rig ``mesh`` by deformation transfer from the ICT FaceKit template (see module doc).

    Args:
        mesh: the target head (V vertices).
        landmarks: path to a landmarks JSON, a dict with ``pairs``, or (L, 2) int pairs
            ``(template_vertex, target_vertex)``; at least 4 pairs. May be omitted for a mesh
            with the template's vertex count (identity correspondence on the 68 landmarks);
            otherwise they are placed automatically (:func:`facerig.data.landmarks.auto_landmarks`,
            in the canonical frame given by ``up``/``forward``).
        template: an ICT-like model (``neutral``, ``faces``, ``parts``, ``landmarks68``,
            ``arkit()``); default :func:`facerig.data.ict.load_ict`.
        dt_mode: ``"deformation"`` (deformation transfer, default) or ``"copy"`` (barycentric
            copy of the registered template's deltas).
        refine_parts: after the skin, register each template part (eyeball, tooth, ...) onto
            the target components matched to it (stiff non-rigid ICP).
        screen: screening weight ``lam`` (template units^-2) regularising the Poisson system
            (larger values pull low frequencies towards the copied deltas).

    Returns:
        MethodOutput with names (51,) ARKit, deltas (51, V, 3) in the input's units/order, meta
        with ``missing`` (``["tongueOut"]``), timings and registration residuals.
    """
    if dt_mode not in DT_MODES:
        raise FacerigError(f"dt_mode must be one of {', '.join(DT_MODES)}, not {dt_mode!r}")
    times: dict[str, float] = {}
    X = np.asarray(mesh.vertices, dtype=np.float64)
    Fx = np.asarray(mesh.faces, dtype=np.int64)
    V = X.shape[0]
    t0 = time.perf_counter()
    T = _template(template)
    times["template"] = time.perf_counter() - t0
    landmark_source = "given"
    if landmarks is None and V == T.neutral.shape[0] and T.landmarks68.size:
        pairs = np.stack([T.landmarks68, T.landmarks68], 1)
        landmark_source = "template topology (68 ICT landmarks mapped to themselves)"
    elif landmarks is None:
        pairs = _auto_landmark_pairs(X, Fx, T, up, forward)
        landmark_source = "automatic (facerig.data.landmarks.auto_landmarks)"
        times["auto_landmarks"] = time.perf_counter() - t0 - times["template"]
    else:
        pairs = read_landmark_pairs(landmarks)
    if pairs.shape[0] < 4:
        raise FacerigError(f"dt needs at least 4 landmark pairs, got {pairs.shape[0]}")
    if (
        pairs[:, 0].min() < 0
        or pairs[:, 0].max() >= T.neutral.shape[0]
        or pairs[:, 1].min() < 0
        or pairs[:, 1].max() >= V
    ):
        raise FacerigError("landmark pair index out of range for the template or the mesh")
    ti, xi = pairs[:, 0], pairs[:, 1]

    # 1. similarity into the template frame
    s, R, t = umeyama(X[xi], T.neutral[ti])
    Y = s * X @ R.T + t

    # 2. skins and registration
    t1 = time.perf_counter()
    tparts = T.parts
    tskin = np.isin(tparts, np.unique(tparts[ti]))
    xparts = connected_components(V, Fx)
    xskin = np.isin(xparts, np.unique(xparts[xi]))
    sidx = np.flatnonzero(tskin)
    remap = -np.ones(T.neutral.shape[0], np.int64)
    remap[sidx] = np.arange(sidx.size)
    tf_skin_mask = tskin[T.faces].all(1)
    src_faces = remap[T.faces[tf_skin_mask]]
    xf_skin_mask = xskin[Fx].all(1)
    reg = nonrigid_icp(T.neutral[sidx], src_faces, Y, Fx[xf_skin_mask], src_landmarks=remap[ti], tgt_points=Y[xi])
    posed = T.neutral.copy()
    posed[sidx] = reg.vertices
    Treg = fit_parts_to_skin(T.neutral, posed, tskin, tparts, radius=0.04 * T.diag)
    times["registration"] = time.perf_counter() - t1

    # 3. dense correspondence (target vertices and face centroids -> template faces)
    t2 = time.perf_counter()
    face_part = tparts[T.faces[:, 0]]
    allowed = _match_parts(Y, xparts, xskin, Treg, tparts, tskin)
    xn = vertex_normals(Y, Fx)
    tn = vertex_normals(Treg, T.faces)
    flip = _orientation_flip(Y, xn, Treg, tn)
    if flip:
        xn = -xn
    if refine_parts:
        Treg = _refine_parts(Treg, T, tskin, Y, Fx, xparts, allowed)
    v_face, v_bary = _correspond(Y, xn, xparts, allowed, Treg, T.faces, face_part)
    times["correspondence"] = time.perf_counter() - t2

    # 4. transfer
    t3 = time.perf_counter()
    K = len(T.names)
    tri = T.faces[v_face]  # (V,3)
    d_copy = np.zeros((K, V, 3))
    for c in range(3):  # barycentric copy of the template deltas, (K, V, 3)
        d_copy += v_bary[None, :, c, None] * T.deltas[:, tri[:, c]]
    if dt_mode == "copy":
        d = d_copy
    else:
        d = _transfer(Y, Fx, xn, xparts, allowed, Treg, T, face_part, d_copy, screen, flip)
    times["transfer"] = time.perf_counter() - t3

    # 5. back to the input frame: y = s R x + t  =>  d_x = d_y R / s
    out = (d @ R) / s
    meta = {
        "missing": _missing_names(T.names),
        "dt_mode": dt_mode,
        "landmark_pairs": int(pairs.shape[0]),
        "landmark_source": landmark_source,
        "similarity_scale": float(s),
        "registration_residual_median": float(np.median(reg.residual[np.isfinite(reg.residual)]) / s)
        if np.isfinite(reg.residual).any()
        else None,
        "registration_matched": float(reg.matched.mean()),
        "timings": {k: round(v, 3) for k, v in times.items()},
    }
    if verbose:
        print(meta)
    return MethodOutput(names=list(T.names), deltas=out.astype(np.float32), meta=meta)


def _orientation_flip(Y, xn, Treg, tn) -> bool:
    """True when the target's normals point the opposite way to the registered template's."""
    d, i = cKDTree(Treg).query(Y)
    close = d < np.percentile(d, 50)
    dots = np.einsum("pc,pc->p", xn[close], tn[i[close]])
    return bool(np.median(dots) < 0) if dots.size else False


def _match_parts(Y, xparts, xskin, Treg, tparts, tskin, min_share: float = 0.15) -> dict[int, tuple[int, ...]]:
    """Allowed template parts for each target component -> {component: (template part, ...)}."""
    skin_parts = tuple(int(p) for p in np.unique(tparts[tskin]))
    allowed: dict[int, tuple[int, ...]] = {}
    _, nn = cKDTree(Treg).query(Y)
    for vi in _groups(xparts):
        c = xparts[vi[0]]
        if xskin[vi[0]]:
            allowed[int(c)] = skin_parts
            continue
        votes = tparts[nn[vi]]
        labels, counts = np.unique(votes, return_counts=True)
        keep = labels[counts >= min_share * vi.size]
        if keep.size == 0:
            keep = labels[[np.argmax(counts)]]
        # a component voting for skin parts gets the whole skin
        keep_set = set(int(k) for k in keep)
        if keep_set & set(skin_parts):
            keep_set |= set(skin_parts)
        allowed[int(c)] = tuple(sorted(keep_set))
    return allowed


PART_SCHEDULE: tuple[tuple[float, float, float, int], ...] = (
    # stiff: parts keep their shape, they only slide / scale onto the target's part
    (50.0, 0.0, 0.5, 2),
    (10.0, 0.0, 0.3, 2),
    (3.0, 0.0, 0.2, 2),
)


def _refine_parts(Treg, T: _Template, tskin, Y, Fx, xparts, allowed) -> np.ndarray:
    """Register each non-skin template part onto the target components matched to it.

    Treg (Vt,3) registered template; returns an updated copy. Parts without a match (a target
    without teeth) keep their similarity placement.
    """
    out = Treg.copy()
    skin_parts = set(int(p) for p in np.unique(T.parts[tskin]))
    comps_of: dict[int, list[int]] = {}
    for c, ps in allowed.items():
        for p in ps:
            if p not in skin_parts:
                comps_of.setdefault(int(p), []).append(int(c))
    tface_part = T.parts[T.faces[:, 0]]
    xface_comp = xparts[Fx[:, 0]]
    for p, comps in comps_of.items():
        tv = np.flatnonzero(T.parts == p)
        tf = T.faces[tface_part == p]
        xv = np.flatnonzero(np.isin(xparts, comps))
        xf = Fx[np.isin(xface_comp, comps)]
        if len(tf) < 4 or len(xf) < 4:
            continue
        tmap = -np.ones(len(T.parts), np.int64)
        tmap[tv] = np.arange(tv.size)
        xmap = -np.ones(len(xparts), np.int64)
        xmap[xv] = np.arange(xv.size)
        res = nonrigid_icp(Treg[tv], tmap[tf], Y[xv], xmap[xf], schedule=PART_SCHEDULE)
        out[tv] = res.vertices
    return out


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """Indices of each distinct label, (n_c,) arrays (O(V log V), for meshes with many parts)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [g for g in np.split(order, bounds) if g.size]


def _group_queries(labels: np.ndarray, allowed: dict[int, tuple[int, ...]]) -> dict[tuple[int, ...], np.ndarray]:
    """Group query indices (by their component label) by their allowed template-part set."""
    groups: dict[tuple[int, ...], list[np.ndarray]] = {}
    for chunk in _groups(labels):
        groups.setdefault(allowed[int(labels[chunk[0]])], []).append(chunk)
    return {k: np.concatenate(v) for k, v in groups.items()}


def _correspond(points, normals, labels, allowed, Treg, tfaces, face_part):
    """Closest template face + barycentrics for each point, within its allowed template parts.

    points (P,3), normals (P,3), labels (P,) component of each point -> (face (P,), bary (P,3)).
    """
    P = points.shape[0]
    face = np.zeros(P, np.int64)
    bary = np.zeros((P, 3))
    for key, qi in _group_queries(labels, allowed).items():
        fi = np.flatnonzero(np.isin(face_part, key))
        f, b, _ = closest_points(points[qi], Treg, tfaces[fi], point_normals=normals[qi], min_normal_dot=0.0)
        face[qi] = fi[f]
        bary[qi] = b
    return face, bary


def _transfer(Y, Fx, xn, xparts, allowed, Treg, T: _Template, face_part, d_copy, screen, flip):
    """Poisson deformation transfer: (K, V, 3) deltas in the template frame (see module doc)."""
    V = Y.shape[0]
    p0, p1, p2 = Y[Fx[:, 0]], Y[Fx[:, 1]], Y[Fx[:, 2]]
    n = np.cross(p1 - p0, p2 - p0)
    area2 = np.linalg.norm(n, axis=1)
    good = area2 > 1e-10 * max(float(np.median(area2)), 1e-30)
    F = Fx[good]
    G, A = face_gradient_operator(Y, F)
    GtA = (G.T @ sp.diags(np.repeat(A, 3))).tocsr()
    L = (GtA @ G).tocsr()
    mass = np.zeros(V)
    for k in range(3):
        np.add.at(mass, F[:, k], A / 3.0)
    mass[mass <= 0] = max(float(mass[mass > 0].mean()) if (mass > 0).any() else 1.0, 1e-12)
    system = (L + sp.diags(screen * mass)).tocsc()
    lu = spla.splu(system, permc_spec="COLAMD")
    # per-face correspondence via centroids (normal-aware), same allowed parts as the face's vertices
    cent = (Y[F[:, 0]] + Y[F[:, 1]] + Y[F[:, 2]]) / 3.0
    fn = np.cross(Y[F[:, 1]] - Y[F[:, 0]], Y[F[:, 2]] - Y[F[:, 0]])
    fn /= np.linalg.norm(fn, axis=1, keepdims=True)
    if flip:
        fn = -fn
    c_face, _ = _correspond(cent, fn, xparts[F[:, 0]], allowed, Treg, T.faces, face_part)
    J = (G @ Y).reshape(-1, 3, 3)  # (F, 3 grad-dir, 3 coord): J[f, :, c] = grad of coordinate c
    J = np.transpose(J, (0, 2, 1))  # J[f, c, :] (3x3 Jacobian = tangent projector)
    K = d_copy.shape[0]
    rhs = np.empty((V, K * 3))
    uf, inv = np.unique(c_face, return_inverse=True)
    for k in range(K):
        Sk = T.gradients(k, uf)[inv]  # (F,3,3)
        M = (Sk - np.eye(3)) @ J  # (F,3,3), row c = desired gradient of delta coordinate c
        # b_c = G^T A vec(M[:, c, :])
        b = GtA @ np.transpose(M, (0, 2, 1)).reshape(-1, 3)  # rows f*3+dir, cols c -> (V,3)
        rhs[:, k * 3 : (k + 1) * 3] = b + screen * mass[:, None] * d_copy[k]
    d = lu.solve(rhs).reshape(V, K, 3).transpose(1, 0, 2)  # (K,V,3)
    # translation of each component: the median offset to the copied deltas, so regions the
    # template keeps still stay still (a mean would let a local shape drag the whole head)
    for vi in _groups(xparts):
        d[:, vi] += np.median(d_copy[:, vi] - d[:, vi], axis=1)[:, None, :]
    return d
