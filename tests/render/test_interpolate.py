import pytest
import torch

from facerig.errors import FacerigError
from facerig.render.cameras import PerspectiveCameras
from facerig.render.interpolate import interpolate_vertex_attributes
from facerig.render.rasterize import rasterize_meshes

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _scene(device="cpu"):
    """Two triangles of a slanted quad in front of a camera; float64."""
    verts = torch.tensor(
        [[[-1.0, -0.9, -3.0], [1.1, -1.0, -3.6], [0.9, 1.0, -4.2], [-1.0, 0.8, -3.4]]],
        dtype=torch.float64,
        device=device,
    )
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]], device=device)
    cam = PerspectiveCameras.look_at(
        (0.1, 0.2, 0.5), at=(0.0, 0.0, -3.5), fov_y=45.0, dtype=torch.float64, device=device
    )
    return verts, faces, cam


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_wrt_attributes_and_positions_match_finite_differences(device):
    verts, faces, cam = _scene(device)
    size = (10, 13)
    g = torch.Generator().manual_seed(0)
    attrs = torch.randn(1, 4, 3, dtype=torch.float64, generator=g).to(device).requires_grad_(True)
    wts = torch.randn(1, *size, 3, dtype=torch.float64, generator=g).to(device)
    verts = verts.clone().requires_grad_(True)

    def f(v, a):
        fr = rasterize_meshes(cam.transform_points_screen(v, size), faces, size)
        return (interpolate_vertex_attributes(fr, a) * wts).sum()

    assert torch.autograd.gradcheck(f, (verts, attrs), eps=1e-6, atol=1e-6)


def test_shared_and_batched_attributes_and_background():
    verts, faces, cam = _scene()
    size = (10, 13)
    fr = rasterize_meshes(cam.transform_points_screen(verts, size), faces, size)
    a = torch.arange(8, dtype=torch.float64).reshape(4, 2)
    out = interpolate_vertex_attributes(fr, a, background=torch.tensor([-1.0, -2.0], dtype=torch.float64))
    assert torch.equal(out, interpolate_vertex_attributes(fr, a[None], background=torch.tensor([-1.0, -2.0])))
    assert out.shape == (1, 10, 13, 2)
    assert (out[~fr.mask] == torch.tensor([-1.0, -2.0], dtype=torch.float64)).all()
    # values inside stay within the vertices' range (convex combinations)
    assert bool((out[fr.mask][:, 0] >= 0).all() and (out[fr.mask][:, 0] <= 6).all())
    with pytest.raises(FacerigError, match="attributes must be"):
        interpolate_vertex_attributes(fr, torch.zeros(2, 4, 3))
