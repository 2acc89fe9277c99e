"""NumPy/SciPy inference runtime for RigAnyFace weights: rigging without importing torch.

``import torch`` alone takes 2-3 s on the 2-core CPU the product targets, as much as the whole
rig budget, while the network itself is a few small dense products and two sparse ones per
block on the rig's proxy (:data:`facerig.models.raf.config.RIG_PROXY_VERTICES`). Training and experiments use :mod:`facerig.models.raf.network`
(torch); ``facerig rig --method raf`` runs the same function here. The two are kept equal by
``tests/models/raf/test_runtime.py`` (random weights of every configuration switch, and the
shipped weights), to float32 round-off.

The weights file's format is :mod:`facerig.models.raf.weights`'s; the configuration is
:class:`facerig.models.raf.config.RAFConfig`, shared with the torch network.

Feature layout here is ``(V, B, C)`` (vertices first), so spectral projections and sparse
gradients act on one contiguous ``(V, B*C)`` matrix; the torch modules use ``(B, V, C)``.
"""

from __future__ import annotations

import os

import numpy as np

from facerig.geometry.operators import Operators
from facerig.models.raf.config import RAFConfig
from facerig.models.raf.weights import read_weights
from facerig.parallel import thread_pool

# -- sparse products ----------------------------------------------------------------------------
#: Dense entries below which threads cost more than they save in :func:`spmm`.
PARALLEL_MIN = 200_000


def spmm(*mats, x: np.ndarray, threads: int | None = None) -> list[np.ndarray]:
    """``[A @ x for A in mats]`` for SciPy CSR matrices (V,V) and dense x (V,N).

    SciPy's sparse-dense product runs on one core and releases the GIL, so with several
    matrices (the two gradient operators) and ``threads`` > 1 the products run side by side
    on :func:`facerig.parallel.thread_pool` (``threads`` None: the CPU count, at most 4)."""
    threads = max(1, int(threads or min(os.cpu_count() or 1, 4)))
    if threads == 1 or len(mats) == 1 or x.size < PARALLEL_MIN:
        return [np.asarray(a @ x) for a in mats]
    return list(thread_pool(min(threads, len(mats))).map(lambda a: np.asarray(a @ x), mats))


def _evecs_t_mass(ops: Operators) -> np.ndarray:
    """``Phi^T M`` (k,V), computed once per operators object."""
    return ops.cached("evecs_t_mass", lambda: np.ascontiguousarray((ops.evecs * ops.mass[:, None]).T))


# -- layers -------------------------------------------------------------------------------------
def _mm(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (..., C) @ w (C, D) as one 2-D product (numpy would run one small product per leading index)."""
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1])


def _linear(x: np.ndarray, p: dict, name: str, bias: bool = True) -> np.ndarray:
    y = _mm(x, p[name + ".weight"].T)
    if bias:
        y += p[name + ".bias"]  # in place: y is a new array
    return y


def _mlp(x: np.ndarray, p: dict, name: str) -> np.ndarray:
    """A :class:`~facerig.models.diffusion_net.MiniMLP` (Linear, ReLU, ..., Linear; no dropout)."""
    return _mlp_parts([x], p, name)


def _add(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x + y, in place in ``x`` (a temporary of the caller's) when no broadcasting grows it."""
    return np.add(x, y, out=x) if x.shape == np.broadcast_shapes(x.shape, y.shape) else x + y


def _product_parts(parts: list[np.ndarray], w: np.ndarray) -> tuple[np.ndarray, int]:
    """``concatenate(parts, -1) @ w[:, :n].T`` without building the concatenation, and ``n``
    (the columns of ``w`` the parts used): the sum of each part (..., C_i) times its block of
    columns. (Concatenating (V,B,C) arrays along a short last axis is a strided copy that costs
    more than the products.) Parts broadcast against each other, (V,1,C) with (V,B,C)."""
    out, c0 = None, 0
    for part in parts:
        y = _mm(part, np.ascontiguousarray(w[:, c0 : c0 + part.shape[-1]].T))
        out = y if out is None else _add(out, y)
        c0 += part.shape[-1]
    return out, c0


def _mlp_parts(parts: list[np.ndarray], p: dict, name: str) -> np.ndarray:
    """:func:`_mlp` of the concatenation of ``parts`` along the last axis
    (:func:`_product_parts` for the first layer)."""
    idx = sorted({int(k[len(name) + 1 :].split(".")[0]) for k in p if k.startswith(name + ".")})
    w = p[f"{name}.{idx[0]}.weight"]
    x, n = _product_parts(parts, w)
    if n != w.shape[1]:
        raise ValueError(f"{name}: inputs have {n} columns, the weights {w.shape[1]}")
    x += p[f"{name}.{idx[0]}.bias"]
    for i in idx[1:]:
        np.maximum(x, 0.0, out=x)
        x = _linear(x, p, f"{name}.{i}")
    return x


def _diffusion_coefs(p: dict, name: str, ops: Operators) -> np.ndarray:
    """The block's spectral filter ``exp(-lambda_j t_c)``: (k,C)."""
    t = np.maximum(p[name + ".diffusion.diffusion_time"], 1e-8)
    return np.exp(-ops.evals[:, None] * t[None, :])


def _spectral(x: np.ndarray, ops: Operators) -> np.ndarray:
    """Spectral coefficients ``Phi^T M x``: x (V,B,C) -> (k,B,C)."""
    V, B, C = x.shape
    return (_evecs_t_mass(ops) @ x.reshape(V, B * C)).reshape(-1, B, C)


def _from_spectral(spec: np.ndarray, ops: Operators) -> np.ndarray:
    """``Phi spec``: (k,B,C) -> (V,B,C)."""
    k, B, C = spec.shape
    return (ops.evecs @ spec.reshape(k, B * C)).reshape(-1, B, C)


def _gradient_features(xd: np.ndarray, p: dict, name: str, ops: Operators, threads: int | None = None) -> np.ndarray:
    """The block's gradient features of the diffused xd (V,B,C): ``tanh(<(gx,gy), A (gx,gy)>)``
    per channel, with A the learned complex-linear map: (V,B,C)."""
    V, B, C = xd.shape
    gx, gy = (g.reshape(V, B, C) for g in spmm(ops.grad_x, ops.grad_y, x=xd.reshape(V, B * C), threads=threads))
    a_re, a_im = p[name + ".gradient_features.A_re.weight"].T, p[name + ".gradient_features.A_im.weight"].T
    br = _mm(gx, a_re)  # Re((gx + i gy)(A_re + i A_im)) and Im(...)
    br -= _mm(gy, a_im)
    bi = _mm(gy, a_re)
    bi += _mm(gx, a_im)
    br *= gx  # the dot product of (gx, gy) with its transform
    bi *= gy
    br += bi
    return np.tanh(br, out=br)


def _block_features(
    x: np.ndarray, p: dict, name: str, ops: Operators, cross_part: bool = False, threads: int | None = None
) -> list[np.ndarray]:
    """DiffusionNetBlock.features as a list of (V,B,C) parts: ``[x, diffuse(x), gradient
    features]``, then ``cross @ x`` with ``cross_part`` (the block's MLP reads their
    concatenation, :func:`_mlp_parts`)."""
    V, B, C = x.shape
    xd = _from_spectral(_spectral(x, ops) * _diffusion_coefs(p, name, ops)[:, None, :], ops)
    parts = [x, xd]
    if name + ".gradient_features.A_re.weight" in p:
        parts.append(_gradient_features(xd, p, name, ops, threads))
    if cross_part:
        if ops.cross is None:
            raise ValueError("these weights need the cross-part operator (Operators.cross)")
        parts.append(spmm(ops.cross, x=x.reshape(V, B * C), threads=threads)[0].reshape(V, B, C))
    return parts


def _diffusion_net(
    x: np.ndarray,
    p: dict,
    name: str,
    ops: Operators,
    n_block: int,
    cross_part: bool = False,
    threads: int | None = None,
) -> np.ndarray:
    """DiffusionNet with ``n_block`` blocks: x (V,B,C_in) -> (V,B,C_out)."""
    h = _linear(x, p, name + ".first")
    for i in range(n_block):
        b = f"{name}.blocks.{i}"
        h = h + _mlp_parts(_block_features(h, p, b, ops, cross_part, threads), p, b + ".mlp")
    return _linear(h, p, name + ".last")


def hks_features(ops: Operators, n: int) -> np.ndarray:
    """As :func:`facerig.models.raf.network.hks_features`: (V, n)."""
    if n == 0:
        return np.zeros((ops.num_vertices, 0), np.float32)
    ts = np.logspace(-3, -1, n).astype(np.float32)
    h = (ops.evecs**2) @ np.exp(-ops.evals[:, None] * ts[None, :])
    mean = (h * ops.mass[:, None]).sum(0) / ops.mass.sum()
    return np.log(h / np.maximum(mean, 1e-12) + 1e-6)


def fourier_features(xyz: np.ndarray, n: int) -> np.ndarray:
    """As :func:`facerig.models.raf.network.fourier_features`: (V,3) -> (V, 6n)."""
    if n == 0:
        return np.zeros((xyz.shape[0], 0), np.float32)
    freqs = (2.0 * np.pi * 2.0 ** np.arange(n)).astype(np.float32)
    ang = (xyz[:, :, None] * freqs).reshape(xyz.shape[0], -1)
    return np.concatenate([np.sin(ang), np.cos(ang)], axis=-1)


# -- the network ---------------------------------------------------------------------------------
class RigAnyFaceRuntime:
    """:class:`facerig.models.raf.network.RigAnyFace` forward in NumPy (inference only).

    ``config`` is a :class:`~facerig.models.raf.config.RAFConfig` (or its dict), ``params`` its
    state dict as float32 arrays.
    """

    def __init__(self, config: dict, params: dict[str, np.ndarray], meta: dict | None = None):
        self.config = config if isinstance(config, RAFConfig) else RAFConfig.from_dict(config)
        self.params = {k: np.ascontiguousarray(v, np.float32) for k, v in params.items()}
        self.meta = dict(meta or {})

    @classmethod
    def load(cls, path: str | os.PathLike) -> RigAnyFaceRuntime:
        return cls(*read_weights(path))

    @property
    def k_eig(self) -> int:
        return self.config.k_eig

    @property
    def n_local(self) -> int:
        return self.config.n_local

    @property
    def cross_part(self) -> bool:
        """Whether the trunk reads the cross-part operator (``Operators.cross`` must then be set)."""
        return bool(self.config.cross_part)

    @property
    def num_shapes(self) -> int:
        return self.config.num_shapes

    def input_features(self, xyz: np.ndarray, ops: Operators, local: np.ndarray | None = None) -> np.ndarray:
        """xyz (V,3), local (V, n_local) -> (V, c_in)."""
        c = self.config
        xyz = np.asarray(xyz, np.float32)
        parts = [xyz, hks_features(ops, c.n_hks), fourier_features(xyz, c.n_fourier)]
        if self.n_local:
            if local is None or local.shape != (xyz.shape[0], self.n_local):
                raise ValueError(f"these weights need local features (V, {self.n_local})")
            parts.append(np.asarray(local, np.float32))
        return np.concatenate(parts, axis=-1)

    def encode(
        self, xyz: np.ndarray, ops: Operators, local: np.ndarray | None = None, threads: int | None = None
    ) -> dict:
        """Per-head pass (see RigAnyFace.encode): ``h`` (V,W+G), ``g0`` (G,), ``basis`` (V,K,3) or None."""
        c, p = self.config, self.params
        f = self.input_features(xyz, ops, local)[:, None, :]  # (V,1,C)
        h = _diffusion_net(f, p, "trunk", ops, c.n_trunk, self.cross_part, threads)[:, 0]
        g0 = np.zeros(0, np.float32)
        if c.use_global:
            g = _diffusion_net(f, p, "global_encoder.net", ops, 2, threads=threads)[:, 0]  # GlobalEncoder: 2 blocks
            g0 = (ops.mass / ops.mass.sum()) @ g
            h = np.concatenate([h, np.broadcast_to(g0, (h.shape[0], g0.shape[0]))], axis=1)
        basis = None
        if c.use_basis:
            basis = _mlp(h, p, "basis_head").reshape(h.shape[0], self.num_shapes, 3) * np.float32(c.output_scale)
        return {"h": h, "g0": g0, "basis": basis}

    def decode(self, enc: dict, a: np.ndarray, ops: Operators, threads: int | None = None) -> np.ndarray:
        """Queries a (Q,K) -> displacements (Q,V,3) (see RigAnyFace.decode).

        The conditional blocks' per-query features are never formed where only products of
        them are needed. Each block adds ``z W2^T + b2`` to its input, z = relu(fuse layer)
        (V,Q,Wc), so the running features are kept as a shared (V,1,Wc) part plus those
        terms: the next block reads ``x Wa`` as ``x_shared Wa + z (W2^T Wa)`` and the spectral
        coefficients of x as ``Phi^T M x_shared + (Phi^T M z) W2^T`` (linear maps commute with
        the per-channel ones), and the output layer reads each term through ``W2^T Wo^T``.
        With the shipped two blocks this skips two (V,Q,Wc) products and sums per query; it is
        the same function (to float32 round-off; ``tests/models/raf/test_runtime.py``)."""
        c, p = self.config, self.params
        h, g0, basis = enc["h"], enc["g0"], enc["basis"]
        a = np.asarray(a, np.float32)
        Q, V, K = a.shape[0], h.shape[0], self.num_shapes
        out = np.zeros((Q, V, 3), np.float32)
        if basis is not None:
            out += (a @ basis.transpose(1, 0, 2).reshape(K, V * 3)).reshape(Q, V, 3)
        n_cond = c.n_cond
        if n_cond > 0:
            x = _linear(h, p, "cond_in")[:, None, :]  # (V,1,Wc) (or (V,Q,Wc) once materialised)
            terms: list[tuple[np.ndarray, np.ndarray]] = []  # the features are x + sum(z @ U)
            cond = np.concatenate([a, np.broadcast_to(g0, (Q, g0.shape[0]))], axis=1)
            for i in range(n_cond):
                b = f"cond_blocks.{i}"
                if len(terms) > 1:  # two or more projections would cost more than the sum
                    for z, u in terms:
                        x = _add(_mm(z, u), x)
                    terms = []
                w1 = p[b + ".fuse.0.weight"]
                if terms:
                    hf, n_f = self._fuse_lazy(x, terms[0], w1, b + ".block", ops, threads)
                else:
                    hf, n_f = _product_parts(_block_features(x, p, b + ".block", ops, threads=threads), w1)  # (V,B,Wc)
                hc = _mm(_mlp(cond, p, b + ".cond_proj"), w1[:, n_f:].T) + p[b + ".fuse.0.bias"]  # (Q,Wc)
                z = _add(hf, hc[None])  # (V,Q,Wc)
                np.maximum(z, 0.0, out=z)
                x = x + p[b + ".fuse.2.bias"]  # fuse = [Linear, ReLU, Linear]
                terms.append((z, np.ascontiguousarray(p[b + ".fuse.2.weight"].T)))
            wo = np.ascontiguousarray(p["cond_out.weight"].T)  # (Wc,3)
            y = _mm(x, wo) + p["cond_out.bias"]  # (V,1|Q,3)
            for z, u in terms:
                y = _add(_mm(z, u @ wo), y)
            out += (y * np.float32(c.output_scale)).transpose(1, 0, 2)
        return out

    def _fuse_lazy(
        self,
        x: np.ndarray,
        term: tuple[np.ndarray, np.ndarray],
        w1: np.ndarray,
        name: str,
        ops: Operators,
        threads: int | None = None,
    ) -> tuple[np.ndarray, int]:
        """A conditional block's fuse-layer product of its features (:func:`_product_parts` of
        :func:`_block_features`) for features ``x + z @ u`` given as x (V,1,C), z (V,Q,C),
        u (C,C), without forming them: (V,Q,C) and the feature columns used."""
        p = self.params
        z, u = term
        C = x.shape[-1]
        wa, wb, wg = (np.ascontiguousarray(w1[:, j * C : (j + 1) * C].T) for j in range(3))
        spec = _spectral(z, ops)  # (k,Q,C) -> times u, plus the shared part's coefficients
        spec = _mm(spec, u)
        spec += _spectral(x, ops)
        spec *= _diffusion_coefs(p, name, ops)[:, None, :]
        xd = _from_spectral(spec, ops)  # (V,Q,C)
        hf = _mm(z, u @ wa)
        hf += _mm(x, wa)
        hf += _mm(xd, wb)
        if name + ".gradient_features.A_re.weight" not in p:
            return hf, 2 * C
        hf += _mm(_gradient_features(xd, p, name, ops, threads), wg)
        return hf, 3 * C

    def __call__(
        self,
        xyz: np.ndarray,
        ops: Operators,
        a: np.ndarray,
        local: np.ndarray | None = None,
        chunk: int = 26,
        enc: dict | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        """xyz (V,3), ops (:meth:`Operators.for_network`), a (Q,K) -> (Q,V,3); queries go through
        ``chunk`` at a time. ``enc``: the head's :meth:`encode` when already computed;
        ``threads``: how many sparse products may run side by side (:func:`spmm`)."""
        enc = self.encode(xyz, ops, local, threads) if enc is None else enc
        a = np.asarray(a, np.float32)
        return np.concatenate(
            [self.decode(enc, a[i : i + chunk], ops, threads) for i in range(0, max(len(a), 1), chunk)]
        )
