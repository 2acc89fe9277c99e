import torch

from facerig.render.cameras import PerspectiveCameras
from facerig.render.displacement import displacement_2d


def test_displacement_of_a_translated_fronto_parallel_plane():
    verts = torch.tensor(
        [[[-1.0, -1.0, -5.0], [1.0, -1.0, -5.0], [1.0, 1.0, -5.0], [-1.0, 1.0, -5.0]]], dtype=torch.float64
    )
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    cam = PerspectiveCameras(focal_length=2.0, dtype=torch.float64)
    H, W = 20, 30
    moved = (verts + torch.tensor([0.1, 0.2, 0.0], dtype=torch.float64)).requires_grad_(True)
    d = displacement_2d(verts, moved, faces, cam, (H, W))
    mask = d.abs().sum(-1) > 0
    f_pix = 2.0 * H / 2
    assert int(mask.sum()) > 50
    # screen motion = f * shift / depth; image y points down
    assert torch.allclose(d[mask], torch.tensor([f_pix * 0.1 / 5, -f_pix * 0.2 / 5], dtype=torch.float64))
    d.sum().backward()
    assert moved.grad.abs().sum() > 0
