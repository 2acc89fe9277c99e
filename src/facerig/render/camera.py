"""The fixed frontal camera of the normalised head frame.

In the head frame (:func:`facerig.geometry.proxy.head_frame`) the nose tip is at the origin,
the head is about 1 unit wide, +Y is up and the face looks toward +Z. The camera sits on the
+Z axis at ``distance`` head widths and looks down -Z (a pinhole camera with focal length
``focal``). Image coordinates are normalised: (0, 0) is the image centre, +x right (the
character's left, +X), +y up; at depth 0 one head width spans ``focal / distance`` units.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FrontalCamera:
    """Pinhole camera at (0, 0, distance) looking down -Z.

    Attributes:
        distance: camera distance from the nose tip, in head widths.
        focal: focal length in normalised image units.
    """

    distance: float = 3.0
    focal: float = 3.0

    def project(self, points: torch.Tensor) -> torch.Tensor:
        """Project points (..., 3) in the head frame -> image coordinates (..., 2)."""
        depth = (self.distance - points[..., 2]).clamp(min=1e-3 * self.distance)
        return self.focal * points[..., :2] / depth[..., None]

    def depth(self, points: torch.Tensor) -> torch.Tensor:
        """Distance along the viewing axis (..., 3) -> (...,)."""
        return self.distance - points[..., 2]

    def to_perspective(self, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None):
        """The same camera as a :class:`facerig.render.cameras.PerspectiveCameras` for the rasteriser.

        Its NDC coordinates (image half-height 1) equal :meth:`project`'s image coordinates.
        """
        from facerig.render.cameras import PerspectiveCameras

        eye = (0.0, 0.0, self.distance)
        return PerspectiveCameras.look_at(eye, focal_length=self.focal, dtype=dtype, device=device)
