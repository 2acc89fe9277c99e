"""Batched perspective (pinhole) cameras for the differentiable rasteriser.

Conventions (OpenGL-like camera frame, the same as :class:`facerig.render.camera.FrontalCamera`):

- camera (view) space: +X right, +Y up, the camera looks down -Z; ``depth = -z_view`` is the
  positive distance along the viewing axis;
- extrinsics map world to view as column vectors: ``x_view = R @ x_world + T``;
- intrinsics: ``focal_length`` in NDC units where the image half-height is 1, so
  ``fov_y = 2 atan(1 / focal_length)``; pixels are square, the half-width is ``W / H``;
- NDC: (0, 0) the image centre, +x right, +y up (what ``FrontalCamera.project`` returns);
- screen: pixel units, origin at the top-left corner, x right, y down; pixel (i, j) (column i,
  row j) has its centre at (i + 0.5, j + 0.5).
"""

from __future__ import annotations

import math

import torch

from facerig.errors import FacerigError


def _batch_size(*sizes: int) -> int:
    n = max(sizes)
    for s in sizes:
        if s not in (1, n):
            raise FacerigError(f"camera batch sizes {sorted(set(sizes))} do not broadcast")
    return n


def look_at_view_transform(
    eye: torch.Tensor | tuple,
    at: torch.Tensor | tuple = (0.0, 0.0, 0.0),
    up: torch.Tensor | tuple = (0.0, 1.0, 0.0),
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """World-to-view rotation and translation of cameras at ``eye`` looking at ``at``.

    Args:
        eye, at, up: (3,) or (N, 3) world positions / up direction.

    Returns:
        R (N, 3, 3), T (N, 3) with ``x_view = R @ x_world + T``; the camera looks down its -Z.
    """
    eye, at, up = (torch.as_tensor(a, dtype=dtype, device=device).reshape(-1, 3) for a in (eye, at, up))
    z = torch.nn.functional.normalize(eye - at, dim=-1)  # view +Z points from the target to the eye
    x = torch.linalg.cross(up.expand_as(z), z, dim=-1)
    if bool((x.norm(dim=-1) < 1e-8).any()):
        raise FacerigError("look-at camera: the up vector is parallel to the viewing direction")
    x = torch.nn.functional.normalize(x, dim=-1)
    y = torch.linalg.cross(z, x, dim=-1)
    R = torch.stack([x, y, z], dim=-2)  # rows: camera axes in world coordinates
    T = -(R @ eye.expand_as(z)[..., None])[..., 0]
    return R, T


class PerspectiveCameras:
    """A batch of N pinhole cameras.

    Args:
        R: (N, 3, 3) or (3, 3) world-to-view rotation (default identity: camera at the origin
            looking down world -Z).
        T: (N, 3) or (3,) world-to-view translation (default 0).
        focal_length: (N,) or scalar, NDC units (image half-height = 1). Give this or ``fov_y``.
        fov_y: vertical field of view in degrees (N,) or scalar; default 60 when neither is given.
        principal_point: (N, 2) or (2,) NDC offset of the optical axis from the image centre.
    """

    def __init__(
        self,
        R: torch.Tensor | None = None,
        T: torch.Tensor | None = None,
        focal_length: torch.Tensor | float | None = None,
        fov_y: torch.Tensor | float | None = None,
        principal_point: torch.Tensor | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        ref = next((a for a in (R, T, focal_length, fov_y, principal_point) if isinstance(a, torch.Tensor)), None)
        dtype = dtype or (ref.dtype if ref is not None and ref.is_floating_point() else torch.float32)
        device = device if device is not None else (ref.device if ref is not None else "cpu")
        kw = {"dtype": dtype, "device": device}
        if focal_length is not None and fov_y is not None:
            raise FacerigError("give the camera a focal length or a field of view, not both")
        if focal_length is None:
            fov = torch.as_tensor(60.0 if fov_y is None else fov_y, **kw).reshape(-1)
            if bool(((fov <= 0) | (fov >= 180)).any()):
                raise FacerigError("camera field of view must be between 0 and 180 degrees")
            focal_length = 1.0 / torch.tan(fov * (math.pi / 360.0))
        f = torch.as_tensor(focal_length, **kw).reshape(-1)
        if bool((f <= 0).any()):
            raise FacerigError("camera focal length must be positive")
        R = torch.eye(3, **kw) if R is None else torch.as_tensor(R, **kw)
        T = torch.zeros(3, **kw) if T is None else torch.as_tensor(T, **kw)
        pp = torch.zeros(2, **kw) if principal_point is None else torch.as_tensor(principal_point, **kw)
        R, T, pp = R.reshape(-1, 3, 3), T.reshape(-1, 3), pp.reshape(-1, 2)
        n = _batch_size(R.shape[0], T.shape[0], f.shape[0], pp.shape[0])
        self.R = R.expand(n, 3, 3)
        self.T = T.expand(n, 3)
        self.focal_length = f.expand(n)
        self.principal_point = pp.expand(n, 2)

    @classmethod
    def look_at(
        cls,
        eye: torch.Tensor | tuple,
        at: torch.Tensor | tuple = (0.0, 0.0, 0.0),
        up: torch.Tensor | tuple = (0.0, 1.0, 0.0),
        focal_length: torch.Tensor | float | None = None,
        fov_y: torch.Tensor | float | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> PerspectiveCameras:
        """Cameras at ``eye`` (3,) / (N, 3) looking at ``at`` with ``up`` roughly up."""
        R, T = look_at_view_transform(eye, at, up, dtype=dtype, device=device)
        return cls(R, T, focal_length=focal_length, fov_y=fov_y, dtype=dtype, device=device)

    def __len__(self) -> int:
        return self.R.shape[0]

    @property
    def fov_y(self) -> torch.Tensor:
        """(N,) vertical field of view in degrees."""
        return torch.atan(1.0 / self.focal_length) * (360.0 / math.pi)

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> PerspectiveCameras:
        """The same cameras on another device / dtype."""
        return PerspectiveCameras(
            self.R.to(device=device, dtype=dtype),
            self.T.to(device=device, dtype=dtype),
            focal_length=self.focal_length.to(device=device, dtype=dtype),
            principal_point=self.principal_point.to(device=device, dtype=dtype),
        )

    def _params(self, points: torch.Tensor) -> tuple[torch.Tensor, ...]:
        n = points.shape[0]
        if len(self) not in (1, n):
            raise FacerigError(f"{len(self)} cameras for a batch of {n} meshes")
        kw = {"dtype": points.dtype, "device": points.device}
        return (self.R.to(**kw), self.T.to(**kw), self.focal_length.to(**kw), self.principal_point.to(**kw))

    def world_to_view(self, points: torch.Tensor) -> torch.Tensor:
        """World (N, P, 3) -> view-space (N, P, 3) points (camera looks down -Z)."""
        R, T, _, _ = self._params(points)
        return points @ R.transpose(-1, -2) + T[:, None, :]

    def view_to_world_normals(self, normals: torch.Tensor) -> torch.Tensor:
        """View-space directions (N, ..., 3) -> world directions (N, ..., 3)."""
        R, _, _, _ = self._params(normals)
        shape = normals.shape
        return (normals.reshape(shape[0], -1, 3) @ R).reshape(shape)

    def world_to_view_normals(self, normals: torch.Tensor) -> torch.Tensor:
        """World directions (N, ..., 3) -> view-space directions (N, ..., 3) (rotation only)."""
        R, _, _, _ = self._params(normals)
        shape = normals.shape
        return (normals.reshape(shape[0], -1, 3) @ R.transpose(-1, -2)).reshape(shape)

    def transform_points_ndc(self, points: torch.Tensor) -> torch.Tensor:
        """World (N, P, 3) -> (N, P, 3): NDC x, y (+y up, half-height 1) and depth (distance along -Z).

        Depth is clamped to 1e-9 before the division so points behind the camera stay finite;
        the rasteriser culls faces with a vertex nearer than its ``znear``.
        """
        _, _, f, pp = self._params(points)
        v = self.world_to_view(points)
        depth = -v[..., 2]
        d = depth.clamp(min=1e-9)
        xy = f[:, None, None] * v[..., :2] / d[..., None] + pp[:, None, :]
        return torch.cat([xy, depth[..., None]], dim=-1)

    def transform_points_screen(self, points: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """World (N, P, 3) -> (N, P, 3): pixel x (right), pixel y (down) and depth, for an H x W image."""
        H, W = image_size
        ndc = self.transform_points_ndc(points)
        half = 0.5 * H
        x = W * 0.5 + ndc[..., 0] * half
        y = half - ndc[..., 1] * half
        return torch.stack([x, y, ndc[..., 2]], dim=-1)
