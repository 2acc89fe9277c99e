"""The zero rig: every shape is the neutral. Its error is the size of the motion itself."""

from __future__ import annotations

import numpy as np

from facerig.arkit import ARKIT52
from facerig.io.mesh import Mesh
from facerig.models.registry import MethodOutput


def rig_zero(mesh: Mesh, **_: object) -> MethodOutput:
    """Return all 52 ARKit shapes with zero deltas, (52, V, 3)."""
    return MethodOutput(names=list(ARKIT52), deltas=np.zeros((52, mesh.num_vertices, 3), np.float32))
