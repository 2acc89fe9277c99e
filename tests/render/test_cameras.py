import math

import pytest
import torch

from facerig.errors import FacerigError
from facerig.render.camera import FrontalCamera
from facerig.render.cameras import PerspectiveCameras, look_at_view_transform

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_look_at_is_a_rigid_map_with_the_target_straight_ahead(device):
    eye = torch.tensor([[1.0, 2.0, 5.0], [-3.0, 0.5, -2.0]], dtype=torch.float64)
    R, T = look_at_view_transform(eye, at=(0.2, 0.1, 0.0), dtype=torch.float64, device=device)
    assert torch.allclose(R @ R.transpose(1, 2), torch.eye(3, dtype=torch.float64, device=device).expand(2, 3, 3))
    assert torch.allclose(torch.linalg.det(R), torch.ones(2, dtype=torch.float64, device=device))
    cams = PerspectiveCameras(R, T, fov_y=40.0)
    target = torch.tensor([0.2, 0.1, 0.0], dtype=torch.float64, device=device).expand(2, 1, 3)
    v = cams.world_to_view(target)[:, 0]
    dist = (eye.to(device) - target[:, 0]).norm(dim=-1)
    assert torch.allclose(v[:, :2], torch.zeros_like(v[:, :2]), atol=1e-12)
    assert torch.allclose(-v[:, 2], dist)  # straight ahead down -Z
    assert torch.allclose(cams.world_to_view(eye.to(device)[:, None])[:, 0], torch.zeros_like(v), atol=1e-12)
    up = cams.world_to_view(target + torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64, device=device))[:, 0]
    assert bool((up[:, 1] > 0).all())  # world up stays up on screen


def test_fov_and_focal_length_agree():
    cam = PerspectiveCameras(fov_y=90.0)
    assert float(cam.focal_length[0]) == pytest.approx(1.0)
    assert float(PerspectiveCameras(focal_length=2.0).fov_y[0]) == pytest.approx(2 * math.degrees(math.atan(0.5)))
    # 45 degrees above the axis lands on the top edge of a 90-degree view
    ndc = cam.transform_points_ndc(torch.tensor([[[0.0, 3.0, -3.0]]]))
    assert ndc[0, 0].tolist() == pytest.approx([0.0, 1.0, 3.0])


def test_screen_coordinates_of_a_non_square_image():
    cam = PerspectiveCameras(focal_length=1.0)
    pts = torch.tensor([[[0.0, 0.0, -2.0], [2.0, 2.0, -2.0], [-1.0, -2.0, -2.0]]])  # NDC (0,0), (1,1), (-.5,-1)
    s = cam.transform_points_screen(pts, (40, 80))
    assert s[0, :, :2].tolist() == [[40.0, 20.0], [60.0, 0.0], [30.0, 40.0]]
    assert s[0, :, 2].tolist() == [2.0, 2.0, 2.0]


def test_frontal_camera_matches_its_perspective_form():
    fc = FrontalCamera(distance=3.0, focal=2.5)
    pts = torch.randn(1, 50, 3, generator=torch.Generator().manual_seed(0)) * 0.3
    ndc = fc.to_perspective().transform_points_ndc(pts)
    assert torch.allclose(ndc[..., :2], fc.project(pts), atol=1e-6)
    assert torch.allclose(ndc[..., 2], fc.depth(pts), atol=1e-6)


def test_bad_cameras_fail_with_one_line():
    with pytest.raises(FacerigError, match="not both"):
        PerspectiveCameras(focal_length=1.0, fov_y=60.0)
    with pytest.raises(FacerigError, match="parallel"):
        look_at_view_transform((0.0, 5.0, 0.0))
    with pytest.raises(FacerigError, match="field of view"):
        PerspectiveCameras(fov_y=180.0)
    with pytest.raises(FacerigError, match="3 cameras for a batch of 2"):
        PerspectiveCameras(T=torch.zeros(3, 3)).world_to_view(torch.zeros(2, 1, 3))
