"""Training pool: generator samples preprocessed once (proxy, head frame, operators, targets).

Operator computation must not dominate training, so :func:`build_pool` turns generator samples
(:func:`facerig.data.generator.generate_sample`) into ``.npz`` items on disk (default
``cache_dir("train_pool")``), and :class:`Pool` iterates them with random FACS query subsets.

One item (P proxy vertices, k eigenpairs, K=52 ARKit shapes):

- ``xyz`` (P,3) f32 normalised proxy neutral, ``faces`` (G,3) i32
- ``mass`` (P,), ``evals`` (k,), ``evecs`` (P,k), ``gx_*`` / ``gy_*`` CSR gradient operators
- ``deltas`` (K,P,3) f32 GT displacements in the head frame, ``shape_mask`` (K,) bool (shapes the
  family provides), ``landmarks`` (68,) i64 proxy vertex per landmark (-1 absent)
- ``scale`` head width in input units, ``mm_per_unit``, ``info`` JSON
- ``rigid`` (P,) bool proxy vertices of parts that move rigidly (eyeballs, teeth; absent in
  older pools and on heads without region names)

An *unrigged* item (``withhold_rig=True``, file ``unrigged_<family>_<seed>.npz``) has no ground
truth: ``deltas`` is (0,P,3) and ``shape_mask`` all False. Training reaches it only through the
losses that need no ground truth (:mod:`facerig.train.losses_2d`). :func:`build_unrigged_heads`
makes such items from mesh files (e.g. ``../shared/data/heads``).

The local descriptors (:func:`facerig.geometry.features.local_features`) and the cross-part
operator (:func:`facerig.geometry.features.cross_part_operator`) are computed from
``xyz``/``faces`` when an item is loaded (not stored, so older pools stay valid) and cached per
item by :class:`Pool`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from facerig.arkit import ARKIT52
from facerig.geometry.operators import Operators, csr_tensor

K = len(ARKIT52)
_INDEX = {n: i for i, n in enumerate(ARKIT52)}


def default_pool_dir() -> Path:
    from facerig.config import cache_dir

    return cache_dir("train_pool")


#: Region names whose parts move rigidly (the rigidity loss).
RIGID_REGIONS: tuple[str, ...] = ("eyeball_left", "eyeball_right", "teeth")


def make_item(sample, *, proxy_vertices: int = 5000, k: int = 128, withhold_rig: bool = False) -> dict[str, np.ndarray]:
    """Preprocess a generator ``Sample`` into pool-item arrays (see module doc); with
    ``withhold_rig`` the item keeps no ground truth (an unrigged head)."""
    from facerig.geometry.proxy import prepare_head

    prep = prepare_head(
        sample.vertices, sample.faces, parts=sample.parts, proxy_vertices=proxy_vertices, k=k, cache=False
    )
    proxy = prep.proxy
    P = proxy.num_vertices
    deltas = np.zeros((K, P, 3), np.float32)
    mask = np.zeros(K, bool)
    names = () if withhold_rig else sample.names
    if names:
        d = proxy.from_full(sample.vertices, sample.faces, np.asarray(sample.deltas, np.float32), sample.parts)
    for j, name in enumerate(names):
        if name in _INDEX:
            deltas[_INDEX[name]] = d[j] / prep.scale
            mask[_INDEX[name]] = True
    lmk = np.full(68, -1, np.int64)
    if sample.landmarks68 is not None:
        l68 = np.asarray(sample.landmarks68)
        ok = l68 >= 0
        lmk[ok] = proxy.origin[l68[ok]]
    ops = prep.ops
    rigid = np.zeros(P, bool)
    rnames = tuple(getattr(sample, "region_names", ()) or ())
    regions = getattr(sample, "regions", None)
    if regions is not None and rnames:
        ids = [i for i, n in enumerate(rnames) if n in RIGID_REGIONS]
        rigid[proxy.origin[np.isin(np.asarray(regions), ids)]] = True
    if withhold_rig:
        deltas, mask = np.zeros((0, P, 3), np.float32), np.zeros(K, bool)
    out = {
        "xyz": prep.xyz.astype(np.float32),
        "faces": proxy.faces.astype(np.int32),
        "mass": ops.mass.astype(np.float32),
        "evals": ops.evals.astype(np.float32),
        "evecs": ops.evecs.astype(np.float32),
        "deltas": deltas,
        "shape_mask": mask,
        "landmarks": lmk,
        "rigid": rigid,
        "scale": np.float64(prep.scale),
        "mm_per_unit": np.float64(sample.mm_per_unit),
        "info": np.array(
            json.dumps(
                {
                    "num_vertices": int(sample.num_vertices),
                    "proxy_vertices": P,
                    "unrigged": bool(withhold_rig),
                    **{k_: v for k_, v in sample.info.items() if k_ in ("seed", "split", "family")},
                },
                default=str,
            )
        ),
    }
    for name, A in (("gx", ops.grad_x), ("gy", ops.grad_y)):
        A = sp.csr_matrix(A)
        out[f"{name}_data"] = A.data.astype(np.float32)
        out[f"{name}_indices"] = A.indices.astype(np.int32)
        out[f"{name}_indptr"] = A.indptr.astype(np.int64)
    return out


def _build_item(
    fam_name: str, seed: int, path: Path, config, proxy_vertices: int, k: int, withhold_rig: bool = False
) -> str:
    """Generate, preprocess and write one pool item (atomically); returns the progress line."""
    from facerig.data.families import get_family
    from facerig.data.generator import generate_sample
    from facerig.io.atomic import atomic_path

    t0 = time.perf_counter()
    sample = generate_sample(get_family(fam_name), seed, config)
    sample.info["family"] = fam_name
    item = make_item(sample, proxy_vertices=proxy_vertices, k=k, withhold_rig=withhold_rig)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **item)
    return (
        f"pool {path.name}: {sample.num_vertices} -> {item['xyz'].shape[0]} vertices, {time.perf_counter() - t0:.1f}s"
    )


def _one_thread() -> None:  # worker initializer: one BLAS thread per worker process
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def build_pool(
    out_dir: str | os.PathLike | None = None,
    n: int = 200,
    *,
    start: int = 0,
    families=("ict",),
    split: str = "train",
    proxy_vertices: int = 5000,
    k: int = 128,
    config=None,
    workers: int = 1,
    withhold_rig: bool = False,
    log=print,
) -> list[Path]:
    """Write ``n`` items per family (seeds ``start..start+n-1``) to ``out_dir``; existing items are
    kept (so an interrupted build resumes). Returns the item paths.

    ``withhold_rig``: unrigged items (files ``unrigged_<family>_<seed>.npz``, no ground truth).

    ``workers`` > 1 builds items in that many processes (one BLAS thread each); an item depends
    only on its family, seed and settings, so the files are the same as a serial build's."""
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig

    out = Path(out_dir) if out_dir else default_pool_dir()
    out.mkdir(parents=True, exist_ok=True)
    config = config or SampleConfig(split=split)
    paths, todo = [], []
    prefix = "unrigged" if withhold_rig else split
    for fam_name in families:
        for seed in range(start, start + n):
            path = out / f"{prefix}_{fam_name}_{seed:06d}.npz"
            paths.append(path)
            if not path.exists():
                todo.append((fam_name, seed, path))
    for fam_name in {t[0] for t in todo}:
        get_family(fam_name)  # load once here: forked workers inherit it
    if workers <= 1 or len(todo) <= 1:
        for job in todo:
            log(_build_item(*job, config, proxy_vertices, k, withhold_rig))
        return paths
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=ctx, initializer=_one_thread) as ex:
        futures = [ex.submit(_build_item, *job, config, proxy_vertices, k, withhold_rig) for job in todo]
        for fut in as_completed(futures):
            log(fut.result())
    return paths


@dataclass
class Item:
    """One pool item as torch tensors (see module doc for shapes)."""

    xyz: torch.Tensor
    ops: Operators
    deltas: torch.Tensor
    shape_mask: torch.Tensor
    landmarks: torch.Tensor
    scale: float
    mm_per_unit: float
    name: str
    local: torch.Tensor | None = None  # (P, 13) local descriptors
    faces: np.ndarray | None = None  # (G, 3) proxy triangles (what a rescaled copy recomputes from)
    rigid: np.ndarray | None = None  # (P,) bool vertices of rigid parts (eyeballs, teeth), None if unknown

    @property
    def unrigged(self) -> bool:
        """No ground truth (an unrigged head): no supervised shape."""
        return not bool(self.shape_mask.any())

    def to(self, device) -> Item:
        return Item(
            self.xyz.to(device),
            self.ops.to(device),
            self.deltas.to(device),
            self.shape_mask.to(device),
            self.landmarks.to(device),
            self.scale,
            self.mm_per_unit,
            self.name,
            None if self.local is None else self.local.to(device),
            self.faces,
            self.rigid,
        )


def load_item(
    path: str | os.PathLike, k: int | None = None, inputs: tuple[np.ndarray, sp.csr_matrix] | None = None
) -> Item:
    """Read a pool item (optionally keep only ``k`` eigenpairs); ``inputs`` = (local (P,13),
    cross (P,P)) reuses already computed :func:`facerig.geometry.features.network_inputs`."""
    return _read_item(path, k, inputs)[0]


def _read_item(
    path: str | os.PathLike, k: int | None, inputs: tuple[np.ndarray, sp.csr_matrix] | None
) -> tuple[Item, tuple[np.ndarray, sp.csr_matrix]]:
    """:func:`load_item` in one read of the file, also returning the network inputs it used."""
    from facerig.geometry.features import network_inputs

    with np.load(path, allow_pickle=False) as z:
        P = z["xyz"].shape[0]

        def csr(name):
            return csr_tensor(z[f"{name}_indptr"], z[f"{name}_indices"], z[f"{name}_data"], (P, P))

        kk = z["evals"].shape[0] if k is None else min(k, z["evals"].shape[0])
        local, cross = inputs if inputs is not None else network_inputs(z["xyz"], z["faces"])
        ops = Operators(
            mass=torch.from_numpy(z["mass"]),
            evals=torch.from_numpy(z["evals"][:kk]),
            evecs=torch.from_numpy(np.ascontiguousarray(z["evecs"][:, :kk])),
            grad_x=csr("gx"),
            grad_y=csr("gy"),
            cross=csr_tensor(cross.indptr, cross.indices, cross.data, (P, P)),
        )
        item = Item(
            torch.from_numpy(z["xyz"]),
            ops,
            torch.from_numpy(z["deltas"]),
            torch.from_numpy(z["shape_mask"]),
            torch.from_numpy(z["landmarks"]),
            float(z["scale"]),
            float(z["mm_per_unit"]),
            Path(path).stem,
            torch.from_numpy(np.asarray(local, np.float32)),
            np.asarray(z["faces"], np.int64),
            np.asarray(z["rigid"], bool) if "rigid" in z.files else None,
        )
    return item, (local, cross)


def sample_queries(
    rng: np.random.Generator, shape_mask: np.ndarray, n_onehot: int = 12, n_combo: int = 4, max_active: int = 4
) -> np.ndarray:
    """Random FACS queries (Q,K) float32: ``n_onehot`` distinct one-hot shapes (among the
    supervised ones) and ``n_combo`` random combinations of 2..max_active shapes with weights in
    (0.2, 1]."""
    avail = np.flatnonzero(shape_mask)
    Kq = shape_mask.shape[0]
    rows = []
    for s in rng.choice(avail, size=min(n_onehot, avail.size), replace=False):
        a = np.zeros(Kq, np.float32)
        a[s] = 1.0
        rows.append(a)
    for _ in range(n_combo):
        m = int(rng.integers(2, max_active + 1))
        a = np.zeros(Kq, np.float32)
        a[rng.choice(avail, size=min(m, avail.size), replace=False)] = rng.uniform(0.2, 1.0, size=min(m, avail.size))
        rows.append(a)
    return np.stack(rows) if rows else np.zeros((0, Kq), np.float32)


class Pool:
    """The items of a pool folder (re-listed on :meth:`refresh`, so a build can run alongside)."""

    def __init__(self, folder: str | os.PathLike, pattern: str = "train_*.npz", k: int | None = None):
        self.folder = Path(folder)
        self.pattern = pattern
        self.k = k
        self.paths: list[Path] = []
        self._inputs: dict[Path, tuple[np.ndarray, sp.csr_matrix]] = {}
        self.refresh()

    def refresh(self) -> int:
        self.paths = sorted(self.folder.glob(self.pattern))
        return len(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Item:
        p = self.paths[i]
        item, self._inputs[p] = _read_item(p, self.k, self._inputs.get(p))  # inputs computed once per item
        return item


@dataclass
class _MeshSample:  # the fields of a generator Sample that make_item reads, for a head without a rig
    vertices: np.ndarray
    faces: np.ndarray
    parts: np.ndarray
    regions: np.ndarray
    region_names: tuple[str, ...]
    mm_per_unit: float
    info: dict
    names: tuple = ()
    landmarks68: np.ndarray | None = None

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def deltas(self) -> np.ndarray:
        return np.zeros((0, self.num_vertices, 3), np.float32)


def build_unrigged_heads(
    files: list[str | os.PathLike],
    out_dir: str | os.PathLike | None = None,
    *,
    proxy_vertices: int = 5000,
    k: int = 128,
    log=print,
) -> list[Path]:
    """Unrigged pool items (``unrigged_heads-<name>_000000.npz``) from head meshes (+Y up, face +Z),
    e.g. ``../shared/data/heads/*.obj``: any blend shapes beside them are ignored. A
    ``NAME.parts.json`` beside a file (``{"parts": {name: [[start, end], ...]}, "mm_per_unit": ...}``)
    names the parts; parts named ``eyeball*`` or ``teeth*`` count as rigid. No landmarks are
    known, so the eye-closure and mouth-opening terms skip these heads. Existing items are kept."""
    from facerig.errors import DataError
    from facerig.geometry.components import connected_components
    from facerig.io import read_mesh
    from facerig.io.atomic import atomic_path

    out = Path(out_dir) if out_dir else default_pool_dir()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in map(Path, files):
        name = f.stem.replace("_", "-")
        path = out / f"unrigged_heads-{name}_000000.npz"
        paths.append(path)
        if path.exists():
            continue
        t0 = time.perf_counter()
        mesh = read_mesh(f)
        V = mesh.vertices.shape[0]
        regions, names, mm = np.zeros(V, np.int64), ["skin"], 1.0
        side = f.with_suffix(".parts.json")
        if side.exists():
            try:
                meta = json.loads(side.read_text())
                for pname, ranges in meta.get("parts", {}).items():
                    low = pname.lower()
                    rid = 1 if low.startswith("eyeball") else 2 if low.startswith("teeth") else 0
                    for a, b in ranges:
                        regions[int(a) : int(b)] = rid
                mm = float(meta.get("mm_per_unit", 1.0))
            except (ValueError, TypeError, KeyError) as e:
                raise DataError(f"{side}: unreadable parts file ({e})") from None
            names = ["skin", "eyeball_left", "teeth"]
        sample = _MeshSample(
            np.asarray(mesh.vertices, np.float64),
            np.asarray(mesh.faces, np.int64),
            connected_components(V, mesh.faces),
            regions,
            tuple(names),
            mm,
            {"seed": 0, "split": "unrigged", "family": f"heads-{name}"},
            landmarks68=np.full(68, -1, np.int64),
        )
        item = make_item(sample, proxy_vertices=proxy_vertices, k=k, withhold_rig=True)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **item)
        log(f"pool {path.name}: {V} -> {item['xyz'].shape[0]} vertices, {time.perf_counter() - t0:.1f}s")
    return paths
