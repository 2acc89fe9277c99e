import math

import torch

from facerig.render.shading import lambert_shade


def test_lambert_terms():
    n = torch.tensor([[0.0, 0.0, 2.0], [0.0, math.sin(math.pi / 3), 0.5], [0.0, 0.0, -1.0], [0.0, 0.0, 1.0]])
    n = n.reshape(1, 1, 4, 3)
    mask = torch.tensor([[[True, True, True, False]]])
    albedo = torch.tensor([0.5, 1.0, 0.2]).expand(1, 1, 4, 3)
    img = lambert_shade(
        n,
        mask,
        albedo,
        light_dirs=[[0.0, 0.0, 3.0]],
        light_colors=[[0.75, 0.75, 0.75]],
        ambient=0.25,
        background=torch.tensor([0.1, 0.2, 0.3]),
    )
    assert torch.allclose(img[0, 0, 0], torch.tensor([0.5, 1.0, 0.2]))  # facing the light: ambient + 0.75
    assert torch.allclose(img[0, 0, 1], torch.tensor([0.5, 1.0, 0.2]) * (0.25 + 0.75 * 0.5))  # 60 degrees
    assert torch.allclose(img[0, 0, 2], torch.tensor([0.5, 1.0, 0.2]) * 0.25)  # facing away: ambient only
    assert torch.allclose(img[0, 0, 3], torch.tensor([0.1, 0.2, 0.3]))


def test_two_lights_add_and_gradients_reach_normals_and_albedo():
    n = torch.randn(2, 3, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    n.requires_grad_(True)
    alb = torch.rand(2, 3, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(2, 3, 4, dtype=torch.bool)
    lights = torch.tensor([[0.3, 0.2, 1.0], [-1.0, 0.5, 0.4]], dtype=torch.float64)
    both = lambert_shade(n, mask, alb, lights, ambient=0.0)
    one = lambert_shade(n, mask, alb, lights[:1], ambient=0.0) + lambert_shade(n, mask, alb, lights[1:], ambient=0.0)
    assert torch.allclose(both, one)
    assert torch.autograd.gradcheck(lambda a, b: lambert_shade(a, mask, b, lights), (n, alb))
