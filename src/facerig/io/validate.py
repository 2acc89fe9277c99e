"""Input-mesh validation: every problem becomes one clear line (:class:`MeshError`).

What is checked, in order (the first failure is reported):

1. there are vertices;
2. not more than ``max_vertices`` of them (the message gives the count and the limit);
3. every coordinate is finite (no NaN / inf);
4. there are faces (a point cloud cannot be rigged);
5. every face index is in ``[0, V)``;
6. degenerate triangles: a repeated vertex index, or zero area (cross-product norm at most
   ``1e-12 * bbox_diagonal**2``, i.e. collinear or coincident corners);
7. duplicate triangles: the same three vertices as an earlier triangle (either winding);
8. unreferenced vertices: vertices no face uses.

Items 6-8 are the kind of damage a scan or a careless export leaves in an otherwise usable
head. :func:`facerig.models.registry.rig_mesh` (and so ``facerig rig``) handles them by default
and refuses them only with ``strict=True`` (``--strict``); :func:`validate_mesh` itself refuses
them unless allowed:

- ``allow_degenerate=True`` drops degenerate and duplicate triangles from ``faces`` (the
  triangles used for computation). Vertices are never touched; the original ``polygons`` are
  kept for writing, so exports still show the file's faces. A mesh whose triangles are all
  degenerate is still an error.
- ``allow_unreferenced=True`` accepts loose vertices (``rig_mesh`` moves them with the surface
  next to them, :func:`facerig.models.finish.fill_unused`).

Before the faces, coordinates are checked for a usable extent (:data:`EXTENT`: nothing beyond
1e36, a mesh not vanishingly small). Nothing is ever silently changed: the returned mesh's
``info["repairs"]`` says what was dropped or allowed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from facerig.errors import MeshError
from facerig.geometry.rows import cross_rows, norm_rows
from facerig.io.mesh import Mesh

DEFAULT_MAX_VERTICES = 1_000_000


def validate_mesh(
    mesh: Mesh,
    max_vertices: int | None = DEFAULT_MAX_VERTICES,
    *,
    allow_degenerate: bool = False,
    allow_unreferenced: bool = False,
) -> Mesh:
    """Check ``mesh`` and return it, or a copy with bad triangles dropped (see module doc).

    Args:
        mesh: vertices (V, 3), faces (F, 3).
        max_vertices: limit on V (None = no limit).
        allow_degenerate: drop degenerate / duplicate triangles instead of raising.
        allow_unreferenced: accept vertices used by no face instead of raising.

    Returns:
        ``mesh`` itself when nothing was dropped, else a shallow copy whose ``faces`` (F', 3),
        ``groups`` and ``info["face_material"]`` / ``info["triangle_polygon"]`` keep only the
        good triangles, with ``info["repairs"]`` describing what was done and
        ``info["dropped_faces"]`` (D, 3) the triangles dropped. ``vertices`` are the
        same array, untouched.

    Raises:
        MeshError: one line naming the problem, how many, and the first offending index.
    """
    name = _name(mesh)
    V = mesh.num_vertices
    verts = np.asarray(mesh.vertices)
    if V == 0:
        raise MeshError(f"{name}: the mesh has no vertices (empty file?)")
    if verts.ndim != 2 or verts.shape[1] != 3:
        raise MeshError(f"{name}: vertices must be 3D points, got an array of shape {verts.shape}")
    if max_vertices is not None and V > max_vertices:
        raise MeshError(
            f"{name}: {V:,} vertices is over the limit of {max_vertices:,} "
            "(raise it with --max-vertices, or decimate the mesh)"
        )
    finite = np.isfinite(verts).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise MeshError(f"{name}: {len(bad)} vertices have NaN or infinite coordinates (first: vertex {int(bad[0])})")
    _check_extent(name, verts)
    faces = np.asarray(mesh.faces)
    if faces.size == 0:
        raise MeshError(f"{name}: the mesh has no faces (a point cloud or line set cannot be rigged)")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise MeshError(f"{name}: faces must be triangles (F, 3), got shape {faces.shape}")
    faces = faces.astype(np.int64, copy=False)
    out_of_range = (faces < 0) | (faces >= V)
    if out_of_range.any():
        t = int(np.flatnonzero(out_of_range.any(axis=1))[0])
        bad_idx = int(faces[t][out_of_range[t]][0])
        raise MeshError(
            f"{name}: face {_face_label(mesh, t)} uses vertex index {bad_idx}, "
            f"but the mesh has {V:,} vertices (valid: 0..{V - 1})"
        )

    repairs: dict = {}
    degenerate = degenerate_triangles(verts, faces)
    duplicate = duplicate_triangles(faces) & ~degenerate
    n_deg, n_dup = int(degenerate.sum()), int(duplicate.sum())
    if n_deg == len(faces):
        raise MeshError(f"{name}: all {len(faces):,} faces are degenerate (zero area); nothing to rig")
    if n_deg and not allow_degenerate:
        first = int(np.flatnonzero(degenerate)[0])
        raise MeshError(
            f"{name}: {n_deg:,} degenerate face(s) (zero area or repeated vertex; first: face "
            f"{_face_label(mesh, first)}); fix the mesh, or rig it without --strict (drops them)"
        )
    if n_dup and not allow_degenerate:
        first = int(np.flatnonzero(duplicate)[0])
        raise MeshError(
            f"{name}: {n_dup:,} duplicate face(s) (same 3 vertices as an earlier face; first: face "
            f"{_face_label(mesh, first)}); fix the mesh, or rig it without --strict (drops them)"
        )
    keep = ~(degenerate | duplicate)
    if n_deg or n_dup:
        repairs["dropped_degenerate_triangles"] = n_deg
        repairs["dropped_duplicate_triangles"] = n_dup

    used = np.zeros(V, dtype=bool)
    used[faces[keep].ravel()] = True
    n_unref = int(V - used.sum())
    if n_unref:
        if not allow_unreferenced:
            first = int(np.flatnonzero(~used)[0])
            extra = " once degenerate faces are dropped" if (n_deg or n_dup) else ""
            raise MeshError(
                f"{name}: {n_unref:,} vertices are not used by any face{extra} (first: vertex {first}); "
                "fix the mesh, or rig it without --strict (they move with the surface next to them)"
            )
        repairs["unreferenced_vertices"] = n_unref

    if not repairs:
        return mesh
    info = dict(mesh.info)
    info["repairs"] = repairs
    if n_deg or n_dup:
        info["dropped_faces"] = faces[~keep]  # (D, 3): what the computation skips
        for key in ("face_material", "triangle_polygon"):
            if isinstance(info.get(key), np.ndarray) and len(info[key]) == len(faces):
                info[key] = info[key][keep]
        groups = mesh.groups[keep] if mesh.groups is not None and len(mesh.groups) == len(faces) else mesh.groups
        return dataclasses.replace(mesh, faces=faces[keep], groups=groups, info=info)
    return dataclasses.replace(mesh, info=info)


#: Coordinates :func:`validate_mesh` accepts: no coordinate beyond ``max_abs`` (float32 outputs
#: hold up to 3.4e38), a bounding-box diagonal of at least ``min_diag`` (float32 keeps deltas of a
#: 1e-30-sized head) and at least ``min_rel`` of the largest coordinate (a head 1e-12 across,
#: 1 unit from the origin, has no digits left to move in).
EXTENT = {"max_abs": 1e36, "min_diag": 1e-34, "min_rel": 1e-9}


def _check_extent(name: str, verts: np.ndarray) -> None:
    """Refuse coordinates too large or too small to be rigged in float64 / written in float32
    (:data:`EXTENT`), in one line and without numpy warnings."""
    with np.errstate(all="ignore"):
        big = float(np.abs(verts).max())
        diag = float(np.sqrt(np.square((verts.max(0) - verts.min(0)) / max(big, 1e-300)).sum())) * big
    if big > EXTENT["max_abs"]:
        raise MeshError(
            f"{name}: coordinates up to {big:.3g} are too large (limit {EXTENT['max_abs']:.0e}); rescale the mesh"
        )
    if diag == 0.0:
        return  # every triangle is degenerate: reported below
    if diag < EXTENT["min_diag"] or diag < EXTENT["min_rel"] * big:
        where = f" lying {big:.3g} from the origin" if diag < EXTENT["min_rel"] * big else ""
        raise MeshError(
            f"{name}: the mesh is only {diag:.3g} across{where}; too small to compute on, "
            "rescale it (or move it to the origin)"
        )


#: A triangle whose height over its longest edge is at most this fraction of the bounding-box
#: diagonal (under float32's resolution of the coordinates, 1.2e-7) has no area either
#: (:func:`degenerate_triangles`): a corner on its opposite edge, e.g. an edge's midpoint written
#: to text with a rounding digit (the MediaPipe mask with such faces gave the face probe a tilted face).
DEGENERATE_HEIGHT = 1e-7


def degenerate_triangles(vertices: np.ndarray, faces: np.ndarray, rel_eps: float = 1e-12) -> np.ndarray:
    """(F,) bool: triangles with a repeated index or (near-)zero area.

    Zero area means ``|cross(b - a, c - a)| <= rel_eps * diag**2`` with ``diag`` the
    bounding-box diagonal of ``vertices`` (V, 3), or a height (twice the area over the longest
    edge) at most :data:`DEGENERATE_HEIGHT` x ``diag``, so the test is scale-free.
    """
    f = np.asarray(faces, dtype=np.int64)
    repeated = (f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 0] == f[:, 2])
    v = np.asarray(vertices, dtype=np.float64)
    diag = float(np.linalg.norm(v.max(0) - v.min(0))) if len(v) else 0.0
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    area2 = norm_rows(cross_rows(b - a, c - a))  # = np.linalg.norm(np.cross(...), axis=1), faster
    longest = np.maximum(np.maximum(norm_rows(b - a), norm_rows(c - b)), norm_rows(a - c))
    return repeated | (area2 <= rel_eps * diag * diag) | (area2 <= DEGENERATE_HEIGHT * diag * longest)


def duplicate_triangles(faces: np.ndarray) -> np.ndarray:
    """(F,) bool: triangles whose vertex set equals an earlier triangle's (either winding)."""
    f = np.sort(np.asarray(faces, dtype=np.int64), axis=1)
    n = int(f.max()) + 1 if f.size else 0
    if f.size and f.min() >= 0 and n < 2**21:  # each row as one integer: the same first rows, far faster
        _, first = np.unique((f[:, 0] * n + f[:, 1]) * n + f[:, 2], return_index=True)
    else:
        _, first = np.unique(f, axis=0, return_index=True)
    dup = np.ones(len(f), dtype=bool)
    dup[first] = False
    return dup


def _name(mesh: Mesh) -> str:
    return mesh.source or "mesh"


def _face_label(mesh: Mesh, tri: int) -> str:
    """Human index for triangle ``tri``: the file's face number when triangles came from polygons."""
    tp = mesh.info.get("triangle_polygon") if isinstance(mesh.info, dict) else None
    if isinstance(tp, np.ndarray) and tri < len(tp) and (mesh.polygons is not None):
        return f"{int(tp[tri])} (triangle {tri})"
    return str(tri)
