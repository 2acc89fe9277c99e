"""The in-memory mesh every reader returns.

Vertex count and order are exactly the file's (the ``v`` lines of an OBJ, the POSITION
accessors of a glTF, in order). Faces are triangulated for computation; the original
polygons are kept for writing the mesh back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Mesh:
    """A polygon mesh as read from a file.

    Attributes:
        vertices: (V, 3) float64 positions, file order and units.
        faces: (F, 3) int64 triangles (polygons fan-triangulated), indices into ``vertices``.
        polygons: original faces as a list of index arrays (n-gons kept), or None if the
            file had triangles only.
        uv: optional per-corner or per-vertex UVs (see ``uv_faces``).
        uv_faces: (F_poly corners) indices into ``uv`` matching ``polygons``, or None.
        normals: optional (V, 3) per-vertex normals when the file has them per vertex.
        groups: optional per-triangle group/object name index into ``group_names``.
        group_names: names of OBJ objects/groups or glTF meshes/primitives.
        source: path the mesh was read from.
        info: reader notes (format, primitives order, applied transforms, ...).
    """

    vertices: np.ndarray
    faces: np.ndarray
    polygons: list[np.ndarray] | None = None
    uv: np.ndarray | None = None
    uv_faces: list[np.ndarray] | None = None
    normals: np.ndarray | None = None
    groups: np.ndarray | None = None
    group_names: list[str] = field(default_factory=list)
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def num_faces(self) -> int:
        return int(self.faces.shape[0])
