"""NumPy inference of the expression encoder (no torch), and posed meshes -> ARKit-52 weights.

- :class:`EncoderRuntime`: :class:`facerig.models.encoder.network.ExpressionEncoder`'s forward
  in NumPy/SciPy (the RigAnyFace runtime's layers, :mod:`facerig.models.raf.runtime`), kept equal
  to the torch network by ``tests/models/encoder/test_runtime.py``.
- :func:`posed_frame`: a posed proxy in its own normalised head frame (how training and
  inference both normalise a pose).
- :func:`encode_frames`: posed meshes (T, V, 3) + faces -> (T, 52) weights, without a neutral.

One posed mesh is prepared by :func:`facerig.models.encoder.prepare.prepare_posed` (seams
stitched, the quadric proxy, its head frame and operators; nothing the encoder does not read) and
read by the network, on one BLAS thread (its solves and products are small; a sequence's batches
keep BLAS as it is). A sequence of frames of one mesh is prepared once: the first frame's proxy and
operators serve every frame, each frame's proxy positions being the first one's plus the frame's
motion sampled at the closest point of the input surface to each proxy vertex (within its part).
Training poses its heads the same way (proxy of one mesh, positions moved by the sampled deltas),
so the per-frame cost is a sparse product, a head frame and the network. ``per_frame_operators=True``
prepares every frame on its own instead (what one mesh gets).
"""

from __future__ import annotations

import os
import time

import numpy as np

from facerig.geometry.operators import Operators
from facerig.geometry.proxy import head_frame
from facerig.models.encoder.config import EncoderConfig
from facerig.models.raf.runtime import _diffusion_net, _evecs_t_mass, _linear, _mlp, _mm, hks_features


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class EncoderRuntime:
    """The expression encoder in NumPy. ``config``: :class:`EncoderConfig` (or its dict);
    ``params``: its state dict as float32 arrays."""

    def __init__(self, config, params: dict[str, np.ndarray], meta: dict | None = None):
        self.config = config if isinstance(config, EncoderConfig) else EncoderConfig.from_dict(config)
        self.params = {k: np.ascontiguousarray(v, np.float32) for k, v in params.items()}
        self.meta = dict(meta or {})

    @classmethod
    def load(cls, path: str | os.PathLike) -> EncoderRuntime:
        from facerig.models.raf.weights import read_weights

        return cls(*read_weights(path))

    def __call__(self, xyz: np.ndarray, ops: Operators, threads: int | None = None) -> np.ndarray:
        """xyz (B,V,3) (or (V,3)) posed proxies in their head frames sharing ``ops``
        (:meth:`Operators.for_network`) -> weights (B,52) (or (52,)) in [0, 1]."""
        c = self.config
        xyz = np.asarray(xyz, np.float32)
        squeeze = xyz.ndim == 2
        x = xyz[None] if squeeze else xyz
        B, V = x.shape[:2]
        hks = ops.cached(("hks", c.n_hks), lambda: hks_features(ops, c.n_hks).astype(np.float32))
        xv = np.ascontiguousarray(x.transpose(1, 0, 2))  # (V,B,3)
        parts = [xv, np.broadcast_to(hks[:, None, :], (V, B, c.n_hks))]
        if c.n_fourier:
            freqs = (2.0 * np.pi * 2.0 ** np.arange(c.n_fourier)).astype(np.float32)
            ang = (xv[..., None] * freqs).reshape(V, B, -1)
            parts += [np.sin(ang), np.cos(ang)]
        if c.highpass:
            spec = _evecs_t_mass(ops) @ xv.reshape(V, B * 3)
            parts.append((xv - (ops.evecs @ spec).reshape(V, B, 3)) * np.float32(c.highpass))
        f = np.concatenate(parts, axis=2)
        h = _diffusion_net(np.ascontiguousarray(f), self.params, "net", ops, c.n_block, threads=threads)  # (V,B,W)
        w = ops.mass / ops.mass.sum()
        g = [(w @ h.reshape(V, -1)).reshape(B, -1)]
        if c.n_attn:  # softmax over vertices of score + log mass, per pool
            s = _linear(h, self.params, "attn") + np.log(np.maximum(ops.mass, 1e-12)).astype(np.float32)[:, None, None]
            a = np.exp(s - s.max(axis=0, keepdims=True))
            a /= a.sum(axis=0, keepdims=True)  # (V,B,A)
            g.append(np.einsum("vba,vbc->bac", a, h, optimize=True).reshape(B, -1))
        if c.n_rff:
            r = np.cos(_mm(xv, self.params["rff_omega"]) + self.params["rff_phase"])  # (V,B,R)
            g.append((w @ r.reshape(V, -1)).reshape(B, -1))
        raw = _mlp(np.concatenate(g, axis=1), self.params, "head")
        out = np.clip(raw, 0.0, 1.0) if c.output == "linear" else _sigmoid(raw)
        return out[0] if squeeze else out


def posed_frame(proxy_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posed proxies (B,P,3) -> (xyz (B,P,3) each in its own normalised head frame
    (:func:`facerig.geometry.proxy.head_frame` of the proxy), centers (B,3), scales (B,))."""
    X = np.asarray(proxy_xyz, np.float64)
    centers, scales = np.zeros((len(X), 3)), np.zeros(len(X))
    for b in range(len(X)):
        centers[b], scales[b] = head_frame(X[b])
    return (X - centers[:, None]) / scales[:, None, None], centers, scales


_CONTROLLER: list = []  # [(pid, threadpoolctl.ThreadpoolController)]


def _one_blas_thread():
    """A context limiting BLAS to one thread (restored on exit), through one threadpoolctl
    controller per process: :func:`facerig.parallel.blas_threads` looks the loaded libraries up on
    every call (~1 ms, over 10 ms at times on a busy machine: a tenth of a posed mesh's time). Made
    after NumPy's and SciPy's BLAS are loaded (the encoder's preparation imports them)."""
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER or _CONTROLLER[0][0] != os.getpid():
        _CONTROLLER[:] = [(os.getpid(), ThreadpoolController())]
    return _CONTROLLER[0][1].limit(limits=1, user_api="blas")


def _sampling_matrix(posed, vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray):
    """(P,V) sparse: proxy values sampled from input values at the closest point of the input
    surface to each proxy vertex, within its part and normal-compatible (what
    :meth:`facerig.geometry.proxy.Proxy.from_full` does). ``posed``: a
    :class:`~facerig.models.encoder.prepare.PosedProxy` with ``parts``; ``parts`` (V,) the input's."""
    import scipy.sparse as sp

    from facerig.geometry.correspondence import closest_points
    from facerig.geometry.normals import vertex_normals

    faces = np.asarray(faces, np.int64)
    face, bary, _ = closest_points(
        posed.vertices,
        vertices,
        faces,
        point_parts=posed.parts,
        face_parts=np.asarray(parts)[faces[:, 0]],
        point_normals=vertex_normals(posed.vertices, posed.faces),
        min_normal_dot=0.3,
    )
    P, V = posed.num_vertices, len(vertices)
    return sp.csr_matrix((bary.ravel(), faces[face].ravel(), np.arange(0, 3 * P + 1, 3)), shape=(P, V))


def encode_frames(
    frames,
    faces: np.ndarray,
    *,
    model: EncoderRuntime | None = None,
    parts: np.ndarray | None = None,
    per_frame_operators: bool = False,
    chunk: int = 32,
    threads: int | None = None,
    timings: dict | None = None,
) -> np.ndarray:
    """ARKit-52 weights of posed meshes without their neutral.

    Args:
        frames: (T, V, 3) or (V, 3) posed vertices of one mesh, or a :class:`facerig.invert.frames.Frames`.
        faces: (F, 3) triangles of the mesh.
        model: the encoder (default: the shipped weights, :func:`facerig.models.encoder.weights.load_encoder`).
        parts: (V,) connected-component labels (computed when None and needed: sequences).
        per_frame_operators: prepare every frame on its own (see module doc).
        chunk: frames per network pass.
        threads: sparse products side by side in the network (:func:`facerig.models.raf.runtime.spmm`).
        timings: a dict that receives seconds for ``prepare`` and ``network``.

    Returns:
        (T, 52) weights in [0, 1], ARKit order.
    """
    from facerig.invert.frames import Frames
    from facerig.models.encoder.prepare import prepare_posed
    from facerig.models.encoder.weights import load_encoder

    model = model or load_encoder()
    c = model.config
    Y = frames if isinstance(frames, Frames) else Frames.from_array(frames)
    faces = np.asarray(faces, np.int64)
    T = Y.num_frames
    timings = timings if timings is not None else {}
    timings.update(prepare=0.0, network=0.0)
    out = np.zeros((T, c.num_shapes), np.float32)
    # a proxy is small: its dense solves (and one mesh's network) run on one BLAS thread, as extra
    # threads only wait on each other (on two busy cores a posed ICT head took 2 s instead of 0.1 s)
    if per_frame_operators or T == 1:
        for t in range(T):
            with _one_blas_thread():
                t0 = time.perf_counter()
                pp = prepare_posed(Y.block(t, t + 1)[0], faces, proxy_vertices=c.proxy_vertices, k=c.k_eig)
                t1 = time.perf_counter()
                out[t] = model(pp.xyz, pp.ops, threads)
            timings["prepare"] += t1 - t0
            timings["network"] += time.perf_counter() - t1
        return out
    t0 = time.perf_counter()
    Y0 = Y.block(0, 1)[0]
    if parts is None:
        from facerig.geometry.components import connected_components

        parts = connected_components(len(Y0), faces)
    with _one_blas_thread():
        pp = prepare_posed(Y0, faces, proxy_vertices=c.proxy_vertices, k=c.k_eig, parts=parts)
        S = _sampling_matrix(pp, Y0, faces, parts)
    timings["prepare"] += time.perf_counter() - t0
    for s in range(0, T, chunk):
        t0 = time.perf_counter()
        blk = Y.block(s, min(s + chunk, T))
        xyz, _, _ = posed_frame(pp.vertices[None] + np.stack([S @ (y - Y0) for y in blk]))
        t1 = time.perf_counter()
        out[s : s + len(blk)] = model(xyz, pp.ops, threads)  # a batch: BLAS as it is (2 threads: 2x on idle cores)
        timings["prepare"] += t1 - t0
        timings["network"] += time.perf_counter() - t1
    return out
