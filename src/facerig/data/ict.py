"""ICT FaceKit (FaceXModel, MIT licence) loader with a compressed NPZ cache.

``load_ict(path=None)`` accepts an unpacked ``FaceXModel`` folder, a folder holding
``FaceXModel/`` or ``FaceXModel.tar.xz``, or the archive itself (default:
:func:`facerig.config.ict_dir`). An archive is unpacked once with :mod:`tarfile` into
``cache_dir("ict")``; the 1 + 100 + 53 OBJs are then parsed once (about 15-20 s) into
``cache_dir("ict")/ict_v1.npz`` (float32 modes and deltas, compressed, ~50 MB) so later loads
take well under 2 s (the model is also memoised per process).

Facts checked against the data (see ``tests/data/test_ict.py``):

- 26,719 vertices, 26,384 polygons (25,836 quads + 548 triangles -> 52,220 triangles), units cm,
  +Y up, face toward +Z.
- 56 connected components (``parts``); ``regions`` follow the README vertex ranges
  (:data:`REGION_NAMES`); ``vertex_indices.json["idx_to_landmark_verts"]`` equals the README's
  68 Multi-PIE landmark list (:data:`LANDMARKS68_README`).
- ICT's ``_L`` suffix is the character's left = ARKit ``...Left`` = +X: ``eyeBlink_L`` moves the
  eyelid whose vertices have x > 0 (the left eyeball, README range 21451-23020, also has x > 0).
"""

from __future__ import annotations

import json
import logging
import os
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerig import config
from facerig.arkit import ARKIT52, ict_to_arkit_name
from facerig.errors import DataError
from facerig.geometry.components import connected_components

_log = logging.getLogger(__name__)

CACHE_VERSION = 1
CACHE_NAME = f"ict_v{CACHE_VERSION}.npz"
NUM_VERTICES = 26719
NUM_IDENTITIES = 100
MM_PER_UNIT = 10.0  # ICT is in centimetres

#: Region names, indexed by :attr:`ICTModel.regions`, with the README's inclusive vertex ranges.
REGION_RANGES: tuple[tuple[str, int, int], ...] = (
    ("face", 0, 9408),
    ("head_neck", 9409, 11247),
    ("mouth_socket", 11248, 13293),
    ("eye_socket_left", 13294, 13677),
    ("eye_socket_right", 13678, 14061),
    ("gums_tongue", 14062, 17038),
    ("teeth", 17039, 21450),
    ("eyeball_left", 21451, 23020),
    ("eyeball_right", 23021, 24590),
    ("lacrimal_left", 24591, 24794),
    ("lacrimal_right", 24795, 24998),
    ("eye_blend_left", 24999, 25022),
    ("eye_blend_right", 25023, 25046),
    ("eye_occlusion_left", 25047, 25198),
    ("eye_occlusion_right", 25199, 25350),
    ("eyelashes_left", 25351, 26034),
    ("eyelashes_right", 26035, 26718),
)
REGION_NAMES: tuple[str, ...] = tuple(r[0] for r in REGION_RANGES)
#: Last vertex of the README's "narrow face area" (0-6705), a subset of region ``face``.
NARROW_FACE_END = 6705

#: The README's 68-point (Multi-PIE) landmark vertex indices, 0-based.
LANDMARKS68_README: tuple[int, ...] = (
    1225,
    1888,
    1052,
    367,
    1719,
    1722,
    2199,
    1447,
    966,
    3661,
    4390,
    3927,
    3924,
    2608,
    3272,
    4088,
    3443,
    268,
    493,
    1914,
    2044,
    1401,
    3615,
    4240,
    4114,
    2734,
    2509,
    978,
    4527,
    4942,
    4857,
    1140,
    2075,
    1147,
    4269,
    3360,
    1507,
    1542,
    1537,
    1528,
    1518,
    1511,
    3742,
    3751,
    3756,
    3721,
    3725,
    3732,
    5708,
    5695,
    2081,
    0,
    4275,
    6200,
    6213,
    6346,
    6461,
    5518,
    5957,
    5841,
    5702,
    5711,
    5533,
    6216,
    6207,
    6470,
    5517,
    5966,
)


@dataclass
class ICTModel:
    """The ICT FaceKit light model (all arrays in the template's vertex order, cm).

    Attributes:
        neutral: (V, 3) float64 generic neutral vertices, V = 26719.
        faces: (F, 3) int64 triangles (polygons fan-triangulated), F = 52220.
        polygons: list of (3,) / (4,) int64 arrays, the OBJ's polygons (for writing).
        uv: (T, 2) float64 texture coordinates.
        uv_faces: list of int64 arrays into ``uv``, one per polygon.
        identity_modes: (100, V, 3) float32 identity PCA modes (identityNNN.obj - neutral).
        expression_names: (53,) ICT expression names, order of ``vertex_indices.json``.
        expression_deltas: (53, V, 3) float32 expression displacements (file - neutral).
        parts: (V,) int64 connected-component labels (56), ordered by lowest vertex index.
        regions: (V,) int64 index into :data:`REGION_NAMES`.
        landmarks68: (68,) int64 Multi-PIE landmark vertex indices.
        mm_per_unit: 10.0 (centimetres).
        source: where the model was read from.
    """

    neutral: np.ndarray
    faces: np.ndarray
    polygons: list[np.ndarray]
    uv: np.ndarray
    uv_faces: list[np.ndarray]
    identity_modes: np.ndarray
    expression_names: np.ndarray
    expression_deltas: np.ndarray
    parts: np.ndarray
    regions: np.ndarray
    landmarks68: np.ndarray
    mm_per_unit: float = MM_PER_UNIT
    source: str = ""
    region_names: tuple[str, ...] = field(default=REGION_NAMES)
    _arkit: tuple[list[str], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def num_vertices(self) -> int:
        return int(self.neutral.shape[0])

    def arkit(self) -> tuple[list[str], np.ndarray]:
        """ARKit-named shapes: ``(names (51,), deltas (51, V, 3) float32)``.

        Names follow :data:`facerig.arkit.ARKIT52` order; ``browInnerUp`` and ``cheekPuff`` are
        the sums of ICT's ``_L`` and ``_R`` halves; ``tongueOut`` is absent (ICT has none), see
        :func:`missing_arkit`.
        """
        if self._arkit is None:
            sums: dict[str, np.ndarray] = {}
            for name, d in zip(self.expression_names, self.expression_deltas):
                a = ict_to_arkit_name(str(name))
                sums[a] = d.astype(np.float32) if a not in sums else sums[a] + d
            names = [n for n in ARKIT52 if n in sums]
            self._arkit = (names, np.stack([sums[n] for n in names]).astype(np.float32))
        return list(self._arkit[0]), self._arkit[1]

    def identity(self, weights: np.ndarray) -> np.ndarray:
        """Neutral of an identity: ``neutral + sum_i w_i mode_i`` -> (V, 3) float64.

        Args:
            weights: (n,) with n <= 100 (the first n modes are used).
        """
        w = np.asarray(weights, dtype=np.float64)
        modes = self.identity_modes[: w.shape[0]].reshape(w.shape[0], -1)
        return self.neutral + (w @ modes).reshape(-1, 3)


def missing_arkit() -> list[str]:
    """ARKit-52 names ICT FaceKit cannot provide: ``["tongueOut"]``."""
    return ["tongueOut"]


# --------------------------------------------------------------------------- locating / unpacking


def find_model_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve ``path`` to an unpacked FaceXModel folder, unpacking an archive if needed."""
    p = Path(path) if path is not None else config.ict_dir()
    if p.is_file() and p.name.endswith((".tar.xz", ".tar", ".tar.gz", ".tgz")):
        return _unpack(p)
    if not p.is_dir():
        raise DataError(f"ICT FaceKit not found at {p}")
    if (p / "generic_neutral_mesh.obj").is_file():
        return p
    if (p / "FaceXModel" / "generic_neutral_mesh.obj").is_file():
        return p / "FaceXModel"
    archive = p / "FaceXModel.tar.xz"
    if archive.is_file():
        return _unpack(archive)
    raise DataError(f"{p}: no FaceXModel folder or FaceXModel.tar.xz inside")


def _unpack(archive: Path) -> Path:
    dest = config.cache_dir("ict")
    out = dest / "FaceXModel"
    if (out / "generic_neutral_mesh.obj").is_file() and (out / "vertex_indices.json").is_file():
        # already unpacked (complete archives are unpacked atomically below)
        return out
    import shutil

    config.cache_note("ict", f"ICT FaceKit unpacked from {archive.name}", cost="about 10 s")
    tmp = dest / f".unpack-{os.getpid()}"
    try:
        with tarfile.open(archive) as tar:
            try:
                tar.extractall(tmp, filter="data")
            except TypeError:  # pragma: no cover - Python without extraction filters
                tar.extractall(tmp)
        src = tmp / "FaceXModel"
        if not (src / "generic_neutral_mesh.obj").is_file():
            raise DataError(f"{archive}: no FaceXModel/generic_neutral_mesh.obj inside")
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        os.replace(src, out)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{archive}: cannot unpack ICT FaceKit ({e})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- OBJ parsing


def read_obj_vertices(path: str | os.PathLike) -> np.ndarray:
    """The ``v`` lines of an OBJ as (V, 3) float64 (fast; only positions are read)."""
    data = Path(path).read_bytes()
    lines = [ln[2:] for ln in data.split(b"\n") if ln.startswith(b"v ")]
    arr = np.array(b" ".join(lines).split(), dtype=np.float64)
    if arr.size != 3 * len(lines):
        raise DataError(f"{path}: vertex lines must have exactly 3 coordinates")
    return arr.reshape(-1, 3)


def _read_neutral(path: Path) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Neutral OBJ -> (vertices (V,3), polygons, uv (T,2), uv_faces) (1-based OBJ -> 0-based)."""
    try:  # prefer the project's reader when present
        from facerig.io.obj import read_obj  # type: ignore

        m = read_obj(path)
        if m.polygons is not None and m.uv is not None and m.uv_faces is not None:
            polys = [np.asarray(p, dtype=np.int64) for p in m.polygons]
            uvf = [np.asarray(p, dtype=np.int64) for p in m.uv_faces]
            if len(uvf) == len(polys) and np.asarray(m.uv).shape[0] > 0:
                return np.asarray(m.vertices, np.float64), polys, np.asarray(m.uv, np.float64)[:, :2], uvf
    except Exception:  # noqa: BLE001 - fall back to the minimal parser below
        pass
    verts, uvs, polys, uvf = [], [], [], []
    for ln in path.read_bytes().split(b"\n"):
        if ln.startswith(b"v "):
            verts.append(ln[2:])
        elif ln.startswith(b"vt "):
            uvs.append(ln[3:])
        elif ln.startswith(b"f "):
            toks = ln.split()[1:]
            corners = [t.split(b"/") for t in toks]
            polys.append(np.array([int(c[0]) - 1 for c in corners], dtype=np.int64))
            uvf.append(np.array([int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners], dtype=np.int64))
    v = np.array(b" ".join(verts).split(), dtype=np.float64).reshape(-1, 3)
    uv = np.array([list(map(float, u.split()[:2])) for u in uvs], dtype=np.float64).reshape(-1, 2)
    return v, polys, uv, uvf


def triangulate(polygons: list[np.ndarray]) -> np.ndarray:
    """Fan-triangulate polygons -> (F, 3) int64."""
    tris = []
    for p in polygons:
        for k in range(1, len(p) - 1):
            tris.append((p[0], p[k], p[k + 1]))
    return np.asarray(tris, dtype=np.int64).reshape(-1, 3)


def region_labels(num_vertices: int = NUM_VERTICES) -> np.ndarray:
    """(V,) int64 region index of each template vertex from :data:`REGION_RANGES`."""
    reg = np.full(num_vertices, -1, dtype=np.int64)
    for k, (_, a, b) in enumerate(REGION_RANGES):
        reg[a : b + 1] = k
    return reg


# --------------------------------------------------------------------------- conversion / cache


def _convert(model_dir: Path, out: Path, progress: bool = True) -> None:
    t0 = time.time()
    try:
        meta = json.loads((model_dir / "vertex_indices.json").read_text())
        names = [str(n) for n in meta["expressions"]]
        lm = np.asarray(meta["idx_to_landmark_verts"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{model_dir}/vertex_indices.json: unreadable or incomplete ({e!r})") from None
    if lm.shape != (68,):
        raise DataError(f"{model_dir}: expected 68 landmark vertices, got {lm.shape}")
    neutral, polys, uv, uvf = _read_neutral(model_dir / "generic_neutral_mesh.obj")
    V = neutral.shape[0]
    if V != NUM_VERTICES:
        raise DataError(f"{model_dir}: neutral has {V} vertices, expected {NUM_VERTICES}")

    def deltas(files: list[str], label: str) -> np.ndarray:
        out_arr = np.empty((len(files), V, 3), dtype=np.float32)
        for i, fname in enumerate(files):
            p = model_dir / fname
            if not p.is_file():
                raise DataError(f"{model_dir}: missing {fname}")
            v = read_obj_vertices(p)
            if v.shape != neutral.shape:
                raise DataError(f"{p}: {v.shape[0]} vertices, expected {V}")
            out_arr[i] = v - neutral
            if progress and (i + 1) % 25 == 0:
                _log.info("  ict: %s %d/%d", label, i + 1, len(files))
        return out_arr

    config.cache_note("ict", f"the ICT FaceKit conversion of {model_dir}", cost="10-20 s")
    modes = deltas([f"identity{i:03d}.obj" for i in range(NUM_IDENTITIES)], "identities")
    expr = deltas([f"{n}.obj" for n in names], "expressions")
    faces = triangulate(polys)
    parts = connected_components(V, faces)
    counts = np.array([len(p) for p in polys], dtype=np.int64)
    from facerig.io.atomic import atomic_path

    with atomic_path(out, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                version=np.int64(CACHE_VERSION),
                source=np.array(str(model_dir)),
                neutral=neutral,
                poly_counts=counts,
                poly_index=np.concatenate(polys).astype(np.int32),
                uv=uv,
                uv_index=np.concatenate(uvf).astype(np.int32),
                identity_modes=modes,
                expression_names=np.array(names),
                expression_deltas=expr,
                parts=parts.astype(np.int32),
                landmarks68=lm,
            )
    if progress:
        _log.info("  ict: cached %s (%.0f MB, %.1f s)", out, out.stat().st_size / 1e6, time.time() - t0)


def cache_path() -> Path:
    """Where the converted NPZ lives: ``cache_dir("ict")/ict_v1.npz``."""
    return config.cache_dir("ict") / CACHE_NAME


_MEMO: dict[str, ICTModel] = {}


def load_ict(path: str | os.PathLike | None = None, *, progress: bool = True) -> ICTModel:
    """Load ICT FaceKit (see module doc). Raises :class:`DataError` if it cannot be found.

    Args:
        path: FaceXModel folder, folder holding it or ``FaceXModel.tar.xz``, or the archive;
            default :func:`facerig.config.ict_dir`. Ignored when the NPZ cache already exists
            (the cache is the converted model; delete it to re-convert).
        progress: print one-line progress while converting.
    """
    cp = cache_path()
    key = str(cp)
    if key in _MEMO:
        return _MEMO[key]
    if not _cache_ok(cp):
        model_dir = find_model_dir(path)
        _convert(model_dir, cp, progress=progress)
    model = _load_cache(cp)
    _MEMO[key] = model
    return model


def _cache_ok(cp: Path) -> bool:
    if not cp.is_file():
        return False
    try:
        with np.load(cp) as z:
            return int(z["version"]) == CACHE_VERSION
    except Exception:  # noqa: BLE001 - corrupt cache: rebuild
        return False


def _load_cache(cp: Path) -> ICTModel:
    with np.load(cp, allow_pickle=False) as z:
        counts = z["poly_counts"].astype(np.int64)
        splits = np.cumsum(counts)[:-1]
        polys = np.split(z["poly_index"].astype(np.int64), splits)
        uvf = np.split(z["uv_index"].astype(np.int64), splits)
        neutral = z["neutral"].astype(np.float64)
        return ICTModel(
            neutral=neutral,
            faces=triangulate_fast(polys, counts),
            polygons=polys,
            uv=z["uv"].astype(np.float64),
            uv_faces=uvf,
            identity_modes=z["identity_modes"],
            expression_names=z["expression_names"],
            expression_deltas=z["expression_deltas"],
            parts=z["parts"].astype(np.int64),
            regions=region_labels(neutral.shape[0]),
            landmarks68=z["landmarks68"].astype(np.int64),
            mm_per_unit=MM_PER_UNIT,
            source=str(z["source"]),
        )


def triangulate_fast(polygons: list[np.ndarray], counts: np.ndarray) -> np.ndarray:
    """Vectorised fan triangulation for triangles/quads/n-gons -> (F, 3) int64."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size and counts.max() <= 4:
        flat = np.concatenate(polygons) if polygons else np.zeros(0, np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        tri_a = np.stack([flat[starts], flat[starts + 1], flat[starts + 2]], 1)
        q = counts == 4
        tri_b = np.stack([flat[starts[q]], flat[starts[q] + 2], flat[starts[q] + 3]], 1)
        # keep polygon order: each polygon's triangles adjacent
        out = np.empty((counts.size + int(q.sum()), 3), dtype=np.int64)
        pos = np.arange(counts.size) + np.concatenate([[0], np.cumsum(q)[:-1]])
        out[pos] = tri_a
        out[pos[q] + 1] = tri_b
        return out
    return triangulate(polygons)
