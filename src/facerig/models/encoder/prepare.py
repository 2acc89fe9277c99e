"""One posed mesh -> what the expression encoder reads: its proxy in its own head frame and the
proxy's operators, with nothing else computed.

:func:`facerig.geometry.proxy.prepare_head` (the rig's preparation, which this module leaves
alone) also maps every input vertex back onto the proxy (:meth:`Proxy.to_full`), replays the
decimation to know where each input vertex went, and measures the head frame of the whole input:
the encoder reads none of these. It outputs one global code of the posed proxy in the proxy's own
head frame (:func:`facerig.models.encoder.runtime.posed_frame`), so :func:`prepare_posed` does

1. open seams stitched (:func:`facerig.geometry.weld.weld_seams`, as ``prepare_head`` does, so a
   head split along UV seams is read as the closed head the encoder was trained on);
2. quadric decimation to ``proxy_vertices`` (``fast_simplification.simplify``, the same call and
   target as :func:`facerig.geometry.proxy.build_proxy`, without its collapse history: the
   same proxy to the decimation's float32 rounding, its vertices possibly in another order,
   which the network does not see);
3. the proxy's head frame and its operators (as :func:`facerig.geometry.operators.compute_operators`
   computes them, the small parts' eigenpairs in standard form, not cached: a posed mesh rarely
   comes back), as float32 network copies.

A sequence also needs each proxy vertex's part (``parts=True``: the input part of the vertices
collapsed into it, from build_proxy's replayed decimation, ~20 ms more once per sequence), so that
the frames' motion is sampled within the same part
(:func:`facerig.models.encoder.runtime.encode_frames`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from facerig.geometry.operators import Operators
from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE


@dataclass
class PosedProxy:
    """A posed mesh as the encoder reads it (P proxy vertices).

    vertices (P,3) float64 proxy in the input's coordinates; faces (G,3) int64; xyz (P,3) float64
    the proxy in its own normalised head frame, ``(vertices - center) / scale``
    (:func:`facerig.geometry.proxy.head_frame` of the proxy); center (3,), scale; ops: float32
    :class:`Operators` of ``xyz`` for the network (:meth:`Operators.for_network`, ``k`` eigenpairs);
    parts (P,) int64 input part of each proxy vertex, or None when not asked for; timings:
    seconds per stage (``seams``, ``proxy``, ``operators``, and the operators' ``laplacian``,
    ``eigen``, ``gradients``, ``total``).
    """

    vertices: np.ndarray
    faces: np.ndarray
    xyz: np.ndarray
    center: np.ndarray
    scale: float
    ops: Operators
    parts: np.ndarray | None
    timings: dict

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])


def decimate(
    vertices: np.ndarray, faces: np.ndarray, target_vertices: int, *, history: bool = False
) -> tuple[np.ndarray, ...]:
    """Quadric decimation as :func:`facerig.geometry.proxy.build_proxy` does it: vertices (V,3),
    faces (F,3) -> (proxy vertices (P,3) float64, faces (G,3) int64), and with ``history`` also
    origin (V,) int64: the proxy vertex each input vertex was collapsed into (-1: used by no face).
    Without ``history`` the proxy is ``simplify``'s own (the same to float32 rounding, no replay);
    with it, build_proxy's (replayed, vertices thrown off the surface snapped back). Meshes at or
    below 1.2 x ``target_vertices`` come back as they are (as there)."""
    import fast_simplification as fs

    from facerig.geometry.proxy import PRESERVE_BORDER

    v = np.ascontiguousarray(vertices, dtype=np.float64)
    f = np.ascontiguousarray(faces, dtype=np.int64)
    V = v.shape[0]
    if V <= 1.2 * target_vertices:
        return (v, f, np.arange(V, dtype=np.int64)) if history else (v, f)
    target_faces = int(2 * target_vertices * len(f) / max(2 * V, 1))
    f32 = f.astype(np.int32)
    out = fs.simplify(
        v, f32, target_count=max(target_faces, 4), preserve_border=PRESERVE_BORDER, return_collapses=history
    )
    if not history:
        return np.asarray(out[0], np.float64), np.asarray(out[1], np.int64)
    from facerig.geometry.decimate import snap_collapsed

    pv, pf, origin = fs.replay_simplification(v, f32, out[2])
    origin = np.asarray(origin, np.int64)
    pv, _ = snap_collapsed(pv, v, origin)
    return np.asarray(pv, np.float64), np.asarray(pf, np.int64), origin


def prepare_posed(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    proxy_vertices: int,
    k: int,
    parts: bool | np.ndarray = False,
    weld: float = DEFAULT_WELD_TOLERANCE,
) -> PosedProxy:
    """One posed mesh -> :class:`PosedProxy` (see the module doc).

    Args:
        vertices: (V,3) posed vertices. faces: (F,3) int triangles.
        proxy_vertices: the proxy's target size (the encoder's ``EncoderConfig.proxy_vertices``).
        k: eigenpairs of the proxy's operators (``EncoderConfig.k_eig``).
        parts: True (or the input's (V,) part labels) to label each proxy vertex with the input
            part of the vertices collapsed into it (sequences; the decimation is then
            build_proxy's, replayed); False leaves ``parts`` None.
        weld: seam stitching tolerance (:func:`facerig.geometry.weld.weld_seams`; 0: none).
    """
    from facerig.geometry.proxy import head_frame
    from facerig.geometry.weld import weld_seams

    t: dict = {}
    t0 = time.perf_counter()
    v = np.ascontiguousarray(vertices, dtype=np.float64)
    f = np.ascontiguousarray(faces, dtype=np.int64)
    wv, wf, index = weld_seams(v, f, weld) if weld > 0 else (v, f, np.arange(len(v)))
    t["seams"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if parts is False:
        pv, pf = decimate(wv, wf, proxy_vertices)
    else:
        pv, pf, origin = decimate(wv, wf, proxy_vertices, history=True)
    t["proxy"] = time.perf_counter() - t1
    center, scale = head_frame(pv)
    xyz = (pv - center) / scale
    t1 = time.perf_counter()
    ops = _operators(xyz, pf, k, t)
    t["operators"] = time.perf_counter() - t1
    labels = None
    if parts is not False:
        from facerig.geometry.components import connected_components

        full = connected_components(len(v), f) if parts is True else np.asarray(parts, np.int64)
        labels = _proxy_parts(pv, v, full, index, origin)
    t["total"] = time.perf_counter() - t0
    return PosedProxy(pv, pf, xyz, center, float(scale), ops, labels, t)


def _proxy_parts(pv: np.ndarray, v: np.ndarray, parts: np.ndarray, index: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """(P,) the input part of each proxy vertex: that of the (lowest) input vertex of a welded vertex
    collapsed into it (as build_proxy labels its proxy, in the input's labels even where seams were
    stitched); a proxy vertex nothing was collapsed into takes its nearest input vertex's."""
    W = int(index.max()) + 1 if index.size else 0
    first = np.full(W, len(v), np.int64)
    np.minimum.at(first, index, np.arange(len(v)))
    labels = np.full(len(pv), -1, np.int64)
    ok = origin >= 0
    labels[origin[ok]] = parts[first[np.flatnonzero(ok)]]
    if (labels < 0).any():
        from scipy.spatial import cKDTree

        miss = np.flatnonzero(labels < 0)
        labels[miss] = parts[cKDTree(v).query(pv[miss])[1]]
    return labels


def _operators(xyz: np.ndarray, faces: np.ndarray, k: int, timings: dict) -> Operators:
    """:func:`facerig.geometry.operators.compute_operators` of the proxy (not cached), its small
    parts' eigenpairs solved in standard form (``eigenbasis(..., standard=True)``: the same pairs
    to round-off, faster), as the network's float32 copy."""
    from facerig.geometry.normals import vertex_normals
    from facerig.geometry.operators import eigenbasis, gradient_operators, laplacian_and_mass, tangent_frames

    t = time.perf_counter()
    L, mass = laplacian_and_mass(xyz, faces)
    timings["laplacian"] = time.perf_counter() - t
    t = time.perf_counter()
    evals, evecs = eigenbasis(L, mass, k, standard=True)
    timings["eigen"] = time.perf_counter() - t
    t = time.perf_counter()
    grad_x, grad_y = gradient_operators(xyz, tangent_frames(vertex_normals(xyz, faces, L)), L)
    timings["gradients"] = time.perf_counter() - t
    return Operators(mass, evals, evecs, grad_x, grad_y).for_network(k)
