"""Spectral and differential operators of a triangle mesh (DiffusionNet-style), cached on disk.

``compute_operators(vertices, faces, k)`` returns an :class:`Operators` with

- ``mass`` (V,) lumped (Voronoi-like) vertex areas and ``L`` (V,V) the positive semi-definite
  *weak* cotangent Laplacian, both from ``robust_laplacian.mesh_laplacian`` (intrinsic Delaunay
  on the tufted cover, so non-manifold and multi-part meshes are fine). Vertices that no face
  references get their operator from ``robust_laplacian.point_cloud_laplacian`` over those
  vertices alone (a block of their own; if there are fewer than 4 they become isolated vertices
  with an empty Laplacian row and the mean mass).
- ``evals`` (k,) / ``evecs`` (V,k): the ``k`` smallest solutions of ``L phi = lambda M phi``
  (``M = diag(mass)``), ascending, ``evecs`` M-orthonormal (``evecs.T @ (mass[:,None]*evecs) = I``).
  Found with ``scipy.sparse.linalg.eigsh`` in shift-invert mode at a slightly negative shift
  (dense ``scipy.linalg.eigh`` for tiny meshes). ``k`` is clamped to ``V`` (so a 100-vertex mesh
  with ``k=128`` gets 100 eigenpairs). One zero eigenvalue per connected component.
- ``frames`` (V,3,3): per-vertex tangent frames, rows ``[x_axis, y_axis, normal]``. Normals are
  area-weighted vertex normals (PCA over Laplacian neighbours where that is degenerate).
- ``grad_x``, ``grad_y`` (V,V) sparse: per-vertex gradient in the tangent frame, i.e.
  ``(grad_x @ f)[i]`` and ``(grad_y @ f)[i]`` are the components of the surface gradient of the
  scalar field ``f`` (V,) at vertex ``i`` along ``frames[i,0]`` and ``frames[i,1]``. As in
  DiffusionNet, each row is the (slightly regularised) least-squares fit of a linear function to
  the differences ``f_j - f_i`` over the neighbours ``j`` of ``i`` (the off-diagonal pattern of
  ``L``), with the edge vectors projected into the tangent plane. Exact for linear functions on
  planar patches.

Results are cached as ``.npz`` in ``facerig.config.cache_dir("operators")`` keyed by a SHA-1 of
(vertices bytes, faces bytes, k, :data:`VERSION`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from facerig.geometry.normals import NORMAL_FADE, vertex_normals

VERSION = 8
_DENSE_MAX = 600  # below this many vertices use a dense generalized eigensolver


@dataclass
class Operators:
    """Operators of one mesh (V vertices, k eigenpairs): the one container every part of facerig
    uses, as NumPy/SciPy arrays (:func:`compute_operators`: float64) or as torch tensors
    (:meth:`to_torch`, for training). See the module doc for definitions.

    mass (V,), evals (k,), evecs (V,k), grad_x / grad_y (V,V) sparse (tangent-frame gradient
    components); L (V,V) sparse weak Laplacian and frames (V,3,3) rows [x_axis, y_axis, normal]
    where computed here (None in copies made for the network); cross (V,V) sparse or None: the
    average over nearby vertices of other parts
    (:func:`facerig.geometry.features.cross_part_operator`), which diffusion cannot reach.
    Derived arrays (``Phi^T M``, sparse transposes) are cached per object (:meth:`cached`).
    """

    mass: Any
    evals: Any
    evecs: Any
    grad_x: Any
    grad_y: Any
    L: Any = None
    frames: Any = None
    cross: Any = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_vertices(self) -> int:
        return int(self.mass.shape[0])

    @property
    def k(self) -> int:
        return int(self.evals.shape[0])

    def cached(self, key, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per object under ``key`` (derived arrays of constant operators)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def replace(self, **fields) -> Operators:
        """A copy with some fields replaced (the cache is not carried over)."""
        return dataclasses.replace(self, _cache={}, **fields)

    def truncated(self, k: int | None) -> Operators:
        """The first ``k`` eigenpairs (all when ``k`` is None or larger)."""
        kk = self.k if k is None else min(int(k), self.k)
        return self if kk == self.k else self.replace(evals=self.evals[:kk], evecs=self.evecs[:, :kk])

    def with_cross(self, cross) -> Operators:
        """With the cross-part operator ``cross`` (V,V) (or None)."""
        return self.replace(cross=cross)

    def for_network(self, k: int | None = None, cross=None, gap: int = 0) -> Operators:
        """The float32 copy the NumPy network runs on (:mod:`facerig.models.raf.runtime`): the
        first ``k`` eigenpairs, contiguous float32 arrays, float32 CSR operators, ``cross``;
        no L or frames. ``gap`` > 0: where the cut at ``k`` falls inside a cluster of eigenvalues,
        cut at the widest gap among the next ``gap`` positions instead (:func:`spectral_cut`;
        it needs more than ``k`` eigenpairs)."""
        kk = self.k if k is None else min(int(k), self.k)
        if gap > 0 and k is not None:
            kk = spectral_cut(self.evals, int(k), gap)
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        csr = lambda a: None if a is None else sp.csr_matrix(a, dtype=np.float32)  # noqa: E731
        return Operators(
            f32(self.mass),
            f32(self.evals[:kk]),
            f32(self.evecs[:, :kk]),
            csr(self.grad_x),
            csr(self.grad_y),
            cross=csr(cross),
        )

    def mirrored(self) -> Operators:
        """Operators of the mesh's mirror image (x -> -x, faces' winding reversed), from these.

        A reflection changes no length or angle, so mass, spectrum, eigenbasis and the
        cross-part operator stay. The gradients do too, up to tangent frames: with each vertex's
        frame ``(e1, e2)`` taken to ``(M e1, -M e2)`` (right-handed about the reflected normal),
        a gradient's components become ``(gx, -gy)``. The network's gradient features do not
        depend on the choice of frames, so this equals recomputing the operators on the
        mirrored mesh (to float round-off; ``tests/models/raf/test_runtime.py``)."""
        return self.replace(grad_y=-self.grad_y, L=None, frames=None)

    def rescaled(self, a: float, cross=None) -> Operators:
        """The operators of the same mesh with its coordinates divided by ``a`` (> 0): mass / a^2,
        evals * a^2, evecs * a (mass-orthonormal again), gradients * a; the weak Laplacian
        (cotangent weights) and the tangent frames do not change with scale. ``cross`` replaces
        the cross-part operator, which depends on distances and is not rescaled. Equals
        recomputing them on the scaled mesh up to the eigensolver's round-off
        (``tests/geometry/test_operators.py``). NumPy/SciPy or torch alike."""
        a = float(a)
        if not (np.isfinite(a) and a > 0):
            raise ValueError(f"scale factor must be a positive number, got {a!r}")
        return self.replace(
            mass=self.mass / a**2,
            evals=self.evals * a**2,
            evecs=self.evecs * a,
            grad_x=_scaled_sparse(self.grad_x, a),
            grad_y=_scaled_sparse(self.grad_y, a),
            cross=cross,
        )

    def to_torch(self, dtype=None, device="cpu") -> Operators:
        """The same operators as torch tensors (training, :mod:`facerig.models.diffusion_net`):
        dense mass, evals, evecs (and frames), sparse CSR grad_x, grad_y, L, cross. ``dtype``
        defaults to ``torch.float32``. torch is imported here only."""
        import torch

        dtype = torch.float32 if dtype is None else dtype

        def dense(a):
            return None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(dtype).to(device)

        def sparse(A):
            if A is None:
                return None
            A = sp.csr_matrix(A)
            return csr_tensor(A.indptr, A.indices, A.data, A.shape, dtype=dtype).to(device)

        return Operators(
            dense(self.mass),
            dense(self.evals),
            dense(self.evecs),
            sparse(self.grad_x),
            sparse(self.grad_y),
            L=sparse(self.L),
            frames=dense(self.frames),
            cross=sparse(self.cross),
        )

    def to(self, device) -> Operators:
        """Torch operators moved to ``device``."""
        return Operators(
            *(
                None if getattr(self, f) is None else getattr(self, f).to(device)
                for f in ("mass", "evals", "evecs", "grad_x", "grad_y", "L", "frames", "cross")
            )
        )


#: How many eigenpairs past ``k`` the network's basis may take in to end at a gap of the spectrum
#: (:func:`spectral_cut`; ``Operators.for_network(gap=...)`` in the rig and the face probe, whose
#: operators carry ``k + 1 + SPECTRAL_GAP`` eigenpairs).
SPECTRAL_GAP = 6
#: A relative gap ``(lambda_k - lambda_(k-1)) / lambda_k`` at the requested cut under this is a
#: cluster (the mean spacing of a head's 128th eigenvalues is ~1 %; 0.01-mm noise moves them by ~1e-4).
CLUSTER_GAP = 1e-3


def spectral_cut(evals: np.ndarray, k: int, window: int = SPECTRAL_GAP) -> int:
    """How many eigenpairs to keep, at least ``k`` (or all there are): ``k`` itself where the
    spectrum has a gap there (``(lambda_k - lambda_(k-1)) / lambda_k >=`` :data:`CLUSTER_GAP`,
    which needs the ``k+1``-th eigenvalue: with ``k`` or fewer it is ``min(k, K)``), else the cut
    ``c`` in ``[k, k + window]`` (as far as ``evals`` go) with the widest relative gap
    ``(lambda_c - lambda_(c-1)) / lambda_c`` between the last kept and the first dropped.

    A hard cut at ``k`` can fall inside a cluster of (near-)equal eigenvalues: the two eyeballs
    of a head are the same sphere, with the same multiplets, and 0.01 mm of noise decides which
    eye's mode comes 128th; the spectral diffusion then changes on one eye and, through the
    network's global features, everywhere (``benchmarks/rig_stability.py``: johnsmith's head,
    0.06 mm on average). A cut past the cluster keeps it whole (taking it in rather than leaving
    it out: on the validation set's external heads the first is 0.006 mm better)."""
    ev = np.asarray(evals, dtype=np.float64)
    if window < 1 or ev.size <= k or k < 1:
        return int(min(k, ev.size))
    if (ev[k] - ev[k - 1]) / max(ev[k], 1e-30) >= CLUSTER_GAP:
        return int(k)
    c = np.arange(k, min(k + window, ev.size - 1) + 1)  # keep c: the last kept is c-1, the first dropped c
    gap = (ev[c] - ev[c - 1]) / np.maximum(ev[c], 1e-30)
    return int(c[np.argmax(gap)])


def _scaled_sparse(A, a: float):
    """A sparse matrix (SciPy, or a torch CSR tensor) times ``a``."""
    if A is None:
        return None
    if hasattr(A, "crow_indices"):
        return _torch_csr(A.crow_indices(), A.col_indices(), A.values() * a, A.shape)
    return (A * a).tocsr()


def csr_tensor(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int], dtype=None):
    """A torch sparse CSR tensor (shape ``shape``) from SciPy-style CSR arrays.

    The arrays come from SciPy (valid by construction), so torch's invariant checks are skipped,
    and its "invariant checks implicitly disabled" / "CSR is beta" warnings are kept out of
    user output."""
    import torch

    values = torch.from_numpy(np.ascontiguousarray(data))
    if dtype is not None:
        values = values.to(dtype)
    return _torch_csr(
        torch.from_numpy(np.asarray(indptr, dtype=np.int64)),
        torch.from_numpy(np.asarray(indices, dtype=np.int64)),
        values,
        shape,
    )


def _torch_csr(crow, col, values, shape):
    """torch.sparse_csr_tensor from index arrays known to be valid, without its checks and warnings."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=tuple(shape), check_invariants=False)


# --------------------------------------------------------------------------------------------
# Laplacian + mass


def laplacian_and_mass(vertices: np.ndarray, faces: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Weak Laplacian ``L`` (V,V) csr (PSD, rows sum to 0) and lumped mass (V,) for a mesh.

    vertices (V,3), faces (F,3) int. Unreferenced vertices: see the module doc. Masses are
    clamped to at least 1e-8 x mean mass so that ``M`` stays positive definite.
    """
    import robust_laplacian

    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    faces = np.ascontiguousarray(faces, dtype=np.int64).reshape(-1, 3)
    V = vertices.shape[0]
    used = np.zeros(V, dtype=bool)
    used[faces.ravel()] = True

    if used.all():
        L, M = robust_laplacian.mesh_laplacian(vertices, faces)
        L = sp.csr_matrix(L)
        mass = np.asarray(M.diagonal(), dtype=np.float64)
    else:
        # Build on the referenced sub-mesh, then add a separate block for loose vertices.
        idx_used = np.flatnonzero(used)
        idx_free = np.flatnonzero(~used)
        remap = np.full(V, -1, dtype=np.int64)
        remap[idx_used] = np.arange(idx_used.size)
        blocks_L = []
        mass = np.zeros(V)
        if idx_used.size:
            Lu, Mu = robust_laplacian.mesh_laplacian(vertices[idx_used], remap[faces])
            blocks_L.append((idx_used, sp.coo_matrix(Lu)))
            mass[idx_used] = Mu.diagonal()
        if idx_free.size >= 4:
            Lf, Mf = robust_laplacian.point_cloud_laplacian(
                vertices[idx_free], n_neighbors=int(min(30, idx_free.size - 1))
            )
            blocks_L.append((idx_free, sp.coo_matrix(Lf)))
            mass[idx_free] = Mf.diagonal()
        rows, cols, vals = [], [], []
        for idx, B in blocks_L:
            rows.append(idx[B.row])
            cols.append(idx[B.col])
            vals.append(B.data)
        L = sp.csr_matrix(
            (
                np.concatenate(vals) if vals else np.zeros(0),
                (
                    np.concatenate(rows) if rows else np.zeros(0, int),
                    np.concatenate(cols) if cols else np.zeros(0, int),
                ),
            ),
            shape=(V, V),
        )
    pos = mass[mass > 0]
    mean = pos.mean() if pos.size else 1.0
    mass = np.where(mass > 1e-8 * mean, mass, np.where(mass > 0, 1e-8 * mean, mean))
    L.sum_duplicates()
    L.eliminate_zeros()
    return L, mass


# --------------------------------------------------------------------------------------------
# Eigenbasis


def _eig_block(
    L: sp.spmatrix, mass: np.ndarray, k: int, bound: float = np.inf, standard: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest eigenpairs of one block, or only those with eigenvalue <= ``bound``
    when that is finite (at least the smallest one): dense ``eigh`` when small, else
    shift-invert eigsh. ``standard``: a dense block as the standard problem of
    ``M^-1/2 L M^-1/2`` (LAPACK's evr; the same pairs to round-off, about twice as fast)."""
    V = mass.shape[0]
    k = int(min(k, V))
    if V <= _DENSE_MAX or k >= V - 1:
        Ld = L.toarray() if sp.issparse(L) else np.array(L, dtype=np.float64)
        Ld = 0.5 * (Ld + Ld.T)
        if standard:
            d = 1.0 / np.sqrt(mass)
            A = Ld * d[:, None] * d[None, :]
            if np.isfinite(bound):
                ev, u = scipy.linalg.eigh(A, subset_by_value=[-np.inf, bound], driver="evr")
                if ev.size:
                    return ev[:k], d[:, None] * u[:, :k]
            ev, u = scipy.linalg.eigh(A, subset_by_index=[0, k - 1], driver="evr")
            return ev, d[:, None] * u
        if np.isfinite(bound):
            ev, vec = scipy.linalg.eigh(Ld, np.diag(mass), subset_by_value=[-np.inf, bound])
            if ev.size:
                return ev[:k], vec[:, :k]
        return scipy.linalg.eigh(Ld, np.diag(mass), subset_by_index=[0, k - 1])
    # Scale-aware negative shift: a tiny fraction of the typical eigenvalue magnitude, so that
    # L - sigma M is positive definite (L is only semi-definite).
    scale = float(np.median(L.diagonal() / mass))
    sigma = -1e-6 * max(scale, 1e-30)
    Ls = sp.csc_matrix(0.5 * (L + L.T))
    Mm = sp.diags(mass).tocsc()
    v0 = np.random.default_rng(0).standard_normal(V)

    def solve(kk: int) -> tuple[np.ndarray, np.ndarray]:
        s = sigma
        for _ in range(3):
            try:
                return sla.eigsh(Ls, k=kk, M=Mm, sigma=s, which="LM", v0=v0)
            except sla.ArpackNoConvergence:  # pragma: no cover - rare
                s *= 10.0
        raise RuntimeError("eigsh did not converge")  # pragma: no cover

    if np.isfinite(bound):
        # Weyl's law, N(lambda) ~ area * lambda / (4 pi), with margin; if the guess comes back
        # entirely below the bound, some may be missing and the full k is solved instead
        guess = int(1.5 * float(mass.sum()) * max(bound, 0.0) / (4 * np.pi)) + 8
        if guess < k:
            ev, vec = solve(guess)
            if ev.max() > bound:
                return ev, vec
    return solve(k)


def _dense_block(A: sp.csr_matrix, start: int, stop: int) -> np.ndarray:
    """``A[start:stop, start:stop]`` as a dense array, for a CSR ``A`` whose rows in that range have
    no entries outside it (a diagonal block of a block-diagonal matrix)."""
    lo, hi = A.indptr[start], A.indptr[stop]
    rows = np.repeat(np.arange(stop - start), np.diff(A.indptr[start : stop + 1]))
    out = np.zeros((stop - start, stop - start))
    np.add.at(out, (rows, A.indices[lo:hi] - start), A.data[lo:hi])  # repeated entries add up, as in toarray
    return out


def eigenbasis(L: sp.spmatrix, mass: np.ndarray, k: int, *, standard: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``k`` smallest generalized eigenpairs of ``L phi = lambda diag(mass) phi``.

    L (V,V) PSD sparse, mass (V,) > 0 -> evals (k',) ascending (clipped at 0), evecs (V,k')
    M-orthonormal, where ``k' = min(k, V)``.

    ``L`` is block diagonal over the connected components of its sparsity pattern, so each
    component is solved on its own (dense for small ones) and the k smallest are merged. A
    component contributes at most ``k - (n_components - 1)`` of them (every other component has
    a zero eigenvalue), which keeps the big solve small and free of the multiple zero
    eigenvalue that slows ARPACK down on multi-part heads. Components are solved largest
    first; once the values found so far plus one zero per component still to solve number at
    least ``k``, the ``k``-th smallest of them bounds every eigenvalue that can be picked, and
    the remaining components only solve for eigenvalues up to that bound (on a multi-part head
    the small parts then contribute little more than their zero mode). The result is the
    same as solving each component for all its candidates. ``standard``: the components solved
    densely are solved in standard form (:func:`_eig_block`; the expression encoder's one-off
    posed meshes; the rig and the cache keep the generalized solve).
    """
    from scipy.sparse.csgraph import connected_components

    V = mass.shape[0]
    k = int(max(0, min(k, V)))
    if k == 0:
        return np.zeros(0), np.zeros((V, 0))
    L = sp.csr_matrix(L)
    n_comp, labels = connected_components(L, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_comp + 1))
    sizes = np.diff(bounds)
    vals: list[np.ndarray] = [np.zeros(0)] * n_comp
    cols: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros((0, 0)))] * n_comp
    have = np.zeros(0)  # eigenvalues found so far
    # the blocks solved densely are read as dense arrays from L permuted once (the same matrices
    # as L[idx][:, idx].toarray(), without two sparse fancy-indexing passes for each small part)
    Lp = L[order][:, order] if n_comp > 1 else L
    for j, c in enumerate(np.argsort(-sizes, kind="stable")):
        idx = order[bounds[c] : bounds[c + 1]]
        kc = min(idx.size, max(1, k - (n_comp - 1)))
        dense = idx.size <= _DENSE_MAX or kc >= idx.size - 1  # as _eig_block decides
        # the components still to solve (this one included) give one zero each, so the k-th
        # smallest of all is at most the m-th smallest found so far
        m = k - (n_comp - j)
        bound = np.inf
        if 0 < m <= have.size:
            b = float(np.partition(have, m - 1)[m - 1])
            bound = b if b > 0 else np.inf
        block = _dense_block(Lp, bounds[c], bounds[c + 1]) if dense else L[idx][:, idx]
        ev, vec = _eig_block(block, mass[idx], kc, bound, standard)
        vals[c] = ev
        cols[c] = (idx, vec)
        have = np.concatenate([have, ev])
    all_vals = np.concatenate(vals)
    owner = np.concatenate([np.full(v.size, c) for c, v in enumerate(vals)])
    local = np.concatenate([np.arange(v.size) for v in vals])
    pick = np.argsort(all_vals, kind="stable")[:k]
    evals = all_vals[pick]
    evecs = np.zeros((V, k))
    for j, (c, i) in enumerate(zip(owner[pick], local[pick])):
        idx, vec = cols[c]
        evecs[idx, j] = vec[:, i]
    evals = np.clip(evals, 0.0, None)
    # Re-normalise in the M inner product (eigsh is already close; this removes round-off).
    norms = np.sqrt(np.einsum("vk,v,vk->k", evecs, mass, evecs))
    evecs = evecs / np.where(norms > 0, norms, 1.0)
    return np.ascontiguousarray(evals), np.ascontiguousarray(evecs)


# --------------------------------------------------------------------------------------------
# Frames and gradients


def tangent_frames(normals: np.ndarray) -> np.ndarray:
    """Per-vertex orthonormal frames (V,3,3), rows [x_axis, y_axis, normal], from unit normals (V,3).

    The x axis is the projection of global +X (or +Y where the normal is near +-X) onto the
    tangent plane; y = normal x x.
    """
    V = normals.shape[0]
    cand = np.tile(np.array([1.0, 0.0, 0.0]), (V, 1))
    near = np.abs(normals[:, 0]) > 0.9
    cand[near] = (0.0, 1.0, 0.0)
    bx = cand - np.sum(cand * normals, axis=1, keepdims=True) * normals
    bx /= np.linalg.norm(bx, axis=1, keepdims=True)
    by = np.cross(normals, bx)
    return np.stack([bx, by, normals], axis=1)


#: det/trace^2 of a vertex's 2x2 tangent-edge normal matrix below which :func:`gradient_operators`
#: regularises it (1/4 for evenly spread edges; the public heads' worst regular vertex is 2.5e-3).
COLLINEAR = 1e-2
#: :func:`gradient_operators`' ``fade`` in :func:`compute_operators`: neighbours whose Laplacian
#: weight is under a tenth of their row's mean weigh in proportionally less.
EDGE_FADE = 0.1


def gradient_operators(
    vertices: np.ndarray, frames: np.ndarray, neighbours: sp.spmatrix, reg: float = 1e-8, fade: float = 0.0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Least-squares tangent-plane gradient operators (grad_x, grad_y), each (V,V) csr.

    vertices (V,3), frames (V,3,3) (rows x, y, normal), neighbours (V,V) sparse whose
    off-diagonal pattern lists each vertex's neighbours. For vertex i with tangent edge vectors
    e_ij (2,) the gradient g_i minimises sum_j (e_ij . g - (f_j - f_i))^2 (+ reg * trace * |g|^2),
    so row i of grad_x/grad_y holds the coefficients of f_j and, on the diagonal, minus their sum.

    ``fade`` > 0: each term is weighted by ``min(|N_ij| / (fade * mean_j |N_ij|), 1)``, so a
    neighbour whose entry in ``neighbours`` (the Laplacian's cotangent weight) all but vanishes
    leaves the stencil smoothly. The intrinsic Delaunay Laplacian's pattern changes under 0.01-mm
    noise where four vertices are nearly cocircular (every split quad of a quad-modelled head):
    the flipped diagonal carries a weight near 0 either way, but an unweighted stencil takes it
    in or out whole. ``compute_operators`` uses :data:`EDGE_FADE`.
    """
    V = vertices.shape[0]
    N = sp.coo_matrix(neighbours)
    off = N.row != N.col
    i, j = N.row[off].astype(np.int64), N.col[off].astype(np.int64)
    # symmetrise the pattern and drop duplicates
    if V < 2**31:  # (i, j) as one integer i * V + j: np.unique(rows, axis=0)'s rows, in its order, faster
        key = np.unique(np.concatenate([i * V + j, j * V + i]))
        i, j = key // V, key % V
    else:
        ij = np.unique(np.concatenate([np.stack([i, j], 1), np.stack([j, i], 1)]), axis=0)
        i, j = ij[:, 0], ij[:, 1]
    e = vertices[j] - vertices[i]  # (E,3)
    ex = np.einsum("ec,ec->e", e, frames[i, 0])
    ey = np.einsum("ec,ec->e", e, frames[i, 1])
    w = None
    if fade > 0:  # a term per edge, weighted by the larger of |N_ij|, |N_ji| against its row's mean
        A = abs(sp.csr_matrix(neighbours, dtype=np.float64))
        A = A.maximum(A.T).tocsr()
        nij = np.asarray(A[i, j]).ravel()
        mean = np.bincount(i, nij, minlength=V) / np.maximum(np.bincount(i, minlength=V), 1)
        w = np.minimum(np.divide(nij, fade * mean[i], out=np.ones_like(nij), where=mean[i] > 0), 1.0)
        ex, ey = ex * np.sqrt(w), ey * np.sqrt(w)
    # per-vertex normal matrix A^T A (2x2)
    a = np.bincount(i, ex * ex, minlength=V)
    b = np.bincount(i, ex * ey, minlength=V)
    c = np.bincount(i, ey * ey, minlength=V)
    tr = a + c
    trs = np.where(tr > 0, tr, 1.0)
    # a vertex whose tangent edges (nearly) line up (two neighbours on a sliver: det/tr^2 ~ 1e-5)
    # has no 2-D gradient: the plain solve blows up and 0.01-mm noise moves it 1e5-fold. Its
    # regularisation grows smoothly as det/tr^2 falls under COLLINEAR (none above it changes)
    eps = trs * np.maximum(reg, COLLINEAR - (a * c - b * b) / trs**2)
    a = a + eps
    c = c + eps
    det = a * c - b * b
    det = np.where(np.abs(det) > 0, det, 1.0)
    # inverse [[c, -b], [-b, a]] / det applied to (ex, ey)
    wx = (c[i] * ex - b[i] * ey) / det[i]
    wy = (-b[i] * ex + a[i] * ey) / det[i]
    if w is not None:  # the coefficient of f_j carries sqrt(w) once more (weighted least squares)
        wx, wy = wx * np.sqrt(w), wy * np.sqrt(w)
    diag_x = -np.bincount(i, wx, minlength=V)
    diag_y = -np.bincount(i, wy, minlength=V)
    ar = np.arange(V)
    rows = np.concatenate([i, ar])
    cols = np.concatenate([j, ar])
    gx = sp.csr_matrix((np.concatenate([wx, diag_x]), (rows, cols)), shape=(V, V))
    gy = sp.csr_matrix((np.concatenate([wy, diag_y]), (rows, cols)), shape=(V, V))
    return gx, gy


# --------------------------------------------------------------------------------------------
# Cache


def operators_hash(vertices: np.ndarray, faces: np.ndarray, k: int) -> str:
    """SHA-1 hex key of (vertices as f64 bytes, faces as i64 bytes, k, VERSION)."""
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(vertices, dtype=np.float64).tobytes())
    h.update(np.asarray(vertices).shape.__repr__().encode())
    h.update(np.ascontiguousarray(faces, dtype=np.int64).tobytes())
    h.update(f"k={int(k)};v={VERSION}".encode())
    return h.hexdigest()


def _pack_csr(prefix: str, A: sp.csr_matrix) -> dict[str, np.ndarray]:
    A = sp.csr_matrix(A)
    return {
        f"{prefix}_data": A.data,
        f"{prefix}_indices": A.indices,
        f"{prefix}_indptr": A.indptr,
        f"{prefix}_shape": np.asarray(A.shape),
    }


def _unpack_csr(z, prefix: str) -> sp.csr_matrix:
    return sp.csr_matrix(
        (z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]),
        shape=tuple(int(s) for s in z[f"{prefix}_shape"]),
    )


def save_operators(path: str | Path, ops: Operators) -> None:
    """Write ``ops`` to an uncompressed .npz (atomically)."""
    from facerig.io.atomic import atomic_path

    arrays = {"mass": ops.mass, "evals": ops.evals, "evecs": ops.evecs, "frames": ops.frames}
    for name in ("L", "grad_x", "grad_y"):
        arrays.update(_pack_csr(name, getattr(ops, name)))
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_operators(path: str | Path) -> Operators:
    """Read an .npz written by :func:`save_operators`."""
    with np.load(path, allow_pickle=False) as z:
        return Operators(
            mass=z["mass"],
            L=_unpack_csr(z, "L"),
            evals=z["evals"],
            evecs=z["evecs"],
            grad_x=_unpack_csr(z, "grad_x"),
            grad_y=_unpack_csr(z, "grad_y"),
            frames=z["frames"],
        )


# --------------------------------------------------------------------------------------------
# Entry point


def compute_operators(
    vertices: np.ndarray,
    faces: np.ndarray,
    k: int = 128,
    *,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    timings: dict | None = None,
) -> Operators:
    """Operators of a triangle mesh (see the module doc); cached on disk.

    vertices (V,3) float, faces (F,3) int -> :class:`Operators` with ``k' = min(k, V)``
    eigenpairs. ``cache_dir`` defaults to ``facerig.config.cache_dir("operators")``. If a dict
    is passed as ``timings`` it receives seconds for ``laplacian``, ``eigen``, ``gradients``
    (or ``load`` on a cache hit).
    """
    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    faces = np.ascontiguousarray(faces, dtype=np.int64).reshape(-1, 3)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        from facerig.errors import MeshError

        raise MeshError(f"vertices must be (V,3), got {vertices.shape}")
    if faces.size and (faces.min() < 0 or faces.max() >= vertices.shape[0]):
        from facerig.errors import MeshError

        raise MeshError("faces index out of range of vertices")
    timings = timings if timings is not None else {}
    path = _default_dir = None
    if cache:
        if cache_dir is None:
            from facerig.config import cache_dir as _cache_dir

            cache_dir = _default_dir = _cache_dir("operators")
        path = Path(cache_dir) / f"{operators_hash(vertices, faces, k)}.npz"
        if path.is_file():
            t = time.perf_counter()
            try:
                ops = load_operators(path)
                timings["load"] = time.perf_counter() - t
                return ops
            except Exception:  # corrupt cache entry: recompute
                pass

    t = time.perf_counter()
    L, mass = laplacian_and_mass(vertices, faces)
    timings["laplacian"] = time.perf_counter() - t

    t = time.perf_counter()
    evals, evecs = eigenbasis(L, mass, k)
    timings["eigen"] = time.perf_counter() - t

    t = time.perf_counter()
    normals = vertex_normals(vertices, faces, L, fade=NORMAL_FADE)  # no jump on a folded sheet's rim
    frames = tangent_frames(normals)
    grad_x, grad_y = gradient_operators(vertices, frames, L, fade=EDGE_FADE)
    timings["gradients"] = time.perf_counter() - t

    ops = Operators(mass=mass, L=L, evals=evals, evecs=evecs, grad_x=grad_x, grad_y=grad_y, frames=frames)
    if path is not None:
        try:
            if cache_dir == _default_dir:
                from facerig.config import cache_note

                cache_note(
                    "operators",
                    "mesh operators (one small NPZ per new mesh, reused when it comes back)",
                    first_only=True,
                )
            save_operators(path, ops)
        except OSError:  # read-only cache: not fatal
            pass
    return ops
