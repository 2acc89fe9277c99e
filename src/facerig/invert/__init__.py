"""Inverse rigging and retargeting: posed meshes -> ARKit-52 weights -> another head.

- :func:`solve_weights` (solver): bounded least squares with L1, temporal smoothness, Left/Right symmetry.
- :func:`invert_meshes`, :func:`retarget`, :func:`rig_for` (pipeline).
- :func:`invert_with_estimated_neutral` (neutral_estimate): a sequence without its neutral.
- :func:`read_frames` (frames): one mesh, a folder, a glob, or a glTF morph-weight animation.
- :func:`write_weights` (outputs): Live Link Face CSV, MediaPipe-style JSON, animated GLB.
"""

from facerig.invert.frames import Frames, read_frames
from facerig.invert.neutral_estimate import EstimatedInversion, invert_with_estimated_neutral
from facerig.invert.outputs import write_weights
from facerig.invert.pipeline import Inversion, flag_frames, invert_meshes, retarget, rig_for
from facerig.invert.solver import Prepared, prepare, residuals, solve, solve_weights

__all__ = [
    "EstimatedInversion",
    "Frames",
    "Inversion",
    "Prepared",
    "flag_frames",
    "invert_meshes",
    "invert_with_estimated_neutral",
    "prepare",
    "read_frames",
    "residuals",
    "retarget",
    "rig_for",
    "solve",
    "solve_weights",
    "write_weights",
]
