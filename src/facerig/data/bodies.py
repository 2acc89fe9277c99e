"""Heads that come with a body, for tests and benchmarks (:mod:`facerig.geometry.head_locate`).

- :func:`on_body`: a head (V, 3) / (F, 3) with a simple body added below its lowest point as a
  separate piece: ``"bust"`` (a flattened capsule for shoulders and chest, 1.2 head heights) or
  ``"body"`` (a tall capsule, 5 head heights); the head's vertices come first, unchanged.
- :func:`makehuman_body`: the MakeHuman hm08 body of ``makehuman/3dobjs/base.obj`` with its eyes,
  teeth, tongue and lashes (the vertices those groups use, in ``base.obj`` order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: :func:`makehuman_body`'s face groups of ``base.obj``.
MAKEHUMAN_BODY_GROUPS = (
    "body",
    "helper-l-eye",
    "helper-r-eye",
    "helper-upper-teeth",
    "helper-lower-teeth",
    "helper-tongue",
    "helper-l-eyelashes-1",
    "helper-r-eyelashes-1",
)

#: :func:`on_body` kinds: (capsule height, radius, front-back squash), in head heights / widths.
BODY_KINDS = {"bust": (1.2, 1.1, 0.45), "body": (5.0, 0.9, 0.6)}


def on_body(vertices: np.ndarray, faces: np.ndarray, kind: str = "body", up: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices (V + B, 3), faces (F + G, 3))``: the head with a capsule body below it (module doc).

    The capsule's radius is a multiple of the head's left-right extent (x), its height of the head's
    extent along axis ``up`` (1: y); its top overlaps the head's lowest 5 %. The head's vertices and
    faces come first, unchanged."""
    import trimesh

    if kind not in BODY_KINDS:
        raise ValueError(f"unknown body kind {kind!r}: use one of {', '.join(BODY_KINDS)}")
    tall, wide, squash = BODY_KINDS[kind]
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lo, hi = v.min(0), v.max(0)
    height = float(hi[up] - lo[up])
    radius = wide * float(hi[0] - lo[0])
    length = tall * height
    cap = trimesh.creation.capsule(height=max(length - 2 * radius, 0.0), radius=radius, count=[48, 48])
    b = np.asarray(cap.vertices, np.float64)  # along z, centred on 0
    b = b[:, [0, 2, 1]] * np.array([1.0, 1.0, squash])  # along y, flattened front to back
    g = np.asarray(cap.faces, np.int64)[:, [0, 2, 1]]  # the swap of two axes mirrors: keep it outward
    b[:, 1] += lo[up] + 0.05 * height - b[:, 1].max()
    centre = 0.5 * (lo + hi)
    b[:, 0] += centre[0]
    b[:, 2] += centre[2]
    if up != 1:
        order = [0, 1, 2]
        order[1], order[up] = order[up], order[1]
        b = b[:, order]
    return np.concatenate([v, b]), np.concatenate([f, g + len(v)])


def makehuman_body(base_obj: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hm08 body of ``base_obj`` (MakeHuman's ``3dobjs/base.obj``):
    ``(vertices (V, 3), faces (F, 3) triangles, index (V,) its base.obj vertex indices)``."""
    verts: list[list[float]] = []
    polys: list[list[int]] = []
    group = None
    keep = set(MAKEHUMAN_BODY_GROUPS)
    with open(base_obj) as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("g "):
                group = line[2:].strip()
            elif line.startswith("f ") and group in keep:
                polys.append([int(p.split("/")[0]) - 1 for p in line.split()[1:]])
    V = np.asarray(verts, np.float64)
    index = np.unique(np.concatenate([np.asarray(p) for p in polys]))
    new = np.full(len(V), -1, np.int64)
    new[index] = np.arange(len(index))
    tris = [[new[p[0]], new[p[i]], new[p[i + 1]]] for p in polys for i in range(1, len(p) - 1)]
    return V[index], np.asarray(tris, np.int64), index
