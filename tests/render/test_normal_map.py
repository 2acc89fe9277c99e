import math

import pytest
import torch

from facerig.render.cameras import PerspectiveCameras
from facerig.render.renderer import render_mesh

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _sphere(device, centre):
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    v = torch.tensor(s.vertices, dtype=torch.float64, device=device) + torch.tensor(
        centre, dtype=torch.float64, device=device
    )
    return v[None], torch.tensor(s.faces, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eye", [(0.0, 0.0, 4.0), (3.0, 1.5, -2.0)])
def test_sphere_normal_map_matches_the_analytic_sphere(device, eye):
    centre = (0.3, -0.2, 0.1)
    verts, faces = _sphere(device, centre)
    c = torch.tensor(centre, dtype=torch.float64, device=device)
    cam = PerspectiveCameras.look_at(
        c + torch.tensor(eye, dtype=torch.float64, device=device), at=c, fov_y=40.0, dtype=torch.float64, device=device
    )
    H, W = 48, 64
    r = render_mesh(verts, faces, cam, (H, W))
    # analytic: camera-space ray through each pixel centre hits the sphere; its normal is (hit - centre)
    j, i = torch.meshgrid(torch.arange(H, device=device), torch.arange(W, device=device), indexing="ij")
    f = float(cam.focal_length[0]) * H / 2
    d = torch.stack([(i + 0.5 - W / 2) / f, (H / 2 - (j + 0.5)) / f, -torch.ones_like(i, dtype=torch.float64)], -1)
    d = d / d.norm(dim=-1, keepdim=True)
    cc = cam.world_to_view(c[None, None])[0, 0]
    b = (d * cc).sum(-1)
    disc = b**2 - (cc @ cc - 1.0)
    hit = disc > 0
    tnear = b - disc.clamp(min=0).sqrt()
    n_true = d * tnear[..., None] - cc
    assert int((hit & r.mask[0]).sum()) > 0.95 * int(hit.sum()) > 500
    # away from the grazing rim, where the 5120-face polygon and the sphere part ways
    both = hit & r.mask[0] & (-(n_true * d).sum(-1) > 0.3)
    n_map = r.normal_map[0] * 2 - 1
    cos = (n_map[both] * n_true[both]).sum(-1) / n_map[both].norm(dim=-1)
    ang = torch.rad2deg(torch.acos(cos.clamp(-1, 1)))
    assert float(ang.mean()) < 1.0 and float(ang.max()) < 4.0
    # the encoding: the point facing the camera is (0.5, 0.5, 1) and the background 0
    centre_px = r.normal_map[0, H // 2, W // 2]
    assert torch.allclose(centre_px, torch.tensor([0.5, 0.5, 1.0], dtype=torch.float64, device=device), atol=0.03)
    assert r.normal_map[0][~r.mask[0]].abs().sum() == 0
    # depth of the nearest point is the distance to the centre minus the radius
    assert float(r.depth[0][r.mask[0]].min()) == pytest.approx(math.dist(eye, (0, 0, 0)) - 1.0, abs=2e-3)
