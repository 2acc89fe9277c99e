import math

import pytest
import torch

from facerig.render.antialias import antialias, soft_silhouette
from facerig.render.cameras import PerspectiveCameras
from facerig.render.rasterize import rasterize_meshes

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _disc(n=48, c=(15.3, 16.1), r=10.7, device="cpu"):
    """A fan of n triangles approximating a disc in screen space: (1, n + 1, 3) verts, (n, 3) faces."""
    t = torch.arange(n, dtype=torch.float64) * 2 * math.pi / n
    rim = torch.stack([c[0] + r * torch.cos(t), c[1] + r * torch.sin(t), torch.full_like(t, 2.0)], 1)
    p = torch.cat([torch.tensor([[c[0], c[1], 2.0]], dtype=torch.float64), rim])
    f = torch.stack([torch.zeros(n, dtype=torch.long), torch.arange(1, n + 1), torch.arange(1, n + 1) % n + 1], 1)
    return p[None].to(device), f.to(device)


@pytest.mark.parametrize("device", DEVICES)
def test_soft_mask_is_close_to_the_true_pixel_coverage(device):
    vs, f = _disc(device=device)
    fr = rasterize_meshes(vs, f, (32, 32))
    soft = soft_silhouette(fr, vs, f)[0]
    S = 16  # true box-filtered coverage by 16 x 16 supersampling
    big = rasterize_meshes(vs * torch.tensor([S, S, 1.0], dtype=torch.float64, device=device), f, (32 * S, 32 * S))
    cov = big.mask[0].double().reshape(32, S, 32, S).mean((1, 3))
    edge = (cov > 0) & (cov < 1)
    assert int(edge.sum()) > 50
    assert torch.equal(soft[~edge], cov[~edge])  # exactly 0 / 1 away from the boundary
    hard_err = (fr.mask[0].double() - cov)[edge].abs().mean()
    soft_err = (soft - cov)[edge].abs().mean()
    assert soft_err < 0.25 * hard_err


def test_soft_mask_gradient_matches_finite_differences():
    vs, f = _disc(n=7, r=5.3, c=(6.2, 5.9))
    vs = vs.clone().requires_grad_(True)
    wts = torch.randn(1, 12, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(3))

    def loss(v):
        return (soft_silhouette(rasterize_meshes(v, f, (12, 13)), v, f) * wts).sum()

    g = torch.autograd.grad(loss(vs), vs)[0]
    assert float(g[..., :2].abs().sum()) > 0.1  # rim vertices get a gradient
    assert torch.autograd.gradcheck(loss, (vs,), eps=1e-6, atol=1e-6)


def test_a_mask_loss_moves_the_mesh_onto_the_target():
    vs, f = _disc(n=24, r=7.0)
    moved = vs + torch.tensor([3.0, -2.0, 0.0], dtype=torch.float64)
    target = soft_silhouette(rasterize_meshes(moved, f, (32, 32)), moved, f)
    shift = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([shift], lr=0.3)
    for _ in range(60):
        v = vs + torch.cat([shift, shift.new_zeros(1)])
        loss = ((soft_silhouette(rasterize_meshes(v, f, (32, 32)), v, f) - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.allclose(shift.detach(), torch.tensor([3.0, -2.0], dtype=torch.float64), atol=0.3)


def test_antialias_blends_colours_only_at_the_silhouette():
    vs, f = _disc()
    fr = rasterize_meshes(vs, f, (32, 32))
    img = torch.where(
        fr.mask[..., None],
        torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64),
        torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64),
    )
    img = img.clone().requires_grad_(True)
    out = antialias(img, fr, vs, f)
    soft = soft_silhouette(fr, vs, f)
    expected = soft[..., None] * torch.tensor([1.0, 0.5, 0.0]) + (1 - soft[..., None]) * torch.tensor([0.0, 0.0, 1.0])
    assert torch.allclose(out, expected)
    assert torch.autograd.gradcheck(lambda im: antialias(im, fr, vs, f), (img,), fast_mode=True)


def _occluder_scene():
    """A triangle (face 2) at depth 1 over a quad (faces 0, 1) at depth 3 that fills the image."""
    vs = torch.tensor(
        [
            [
                [-1.0, -1.0, 3.0],
                [25.0, -1.0, 3.0],
                [25.0, 21.0, 3.0],
                [-1.0, 21.0, 3.0],
                [4.3, 3.7, 1.0],
                [19.6, 6.2, 1.0],
                [8.1, 17.4, 1.0],
            ]
        ],
        dtype=torch.float64,
    )
    faces = torch.tensor([[0, 1, 2], [0, 2, 3], [4, 5, 6]])
    return vs, faces


def _colour(fr):
    front = (fr.pix_to_face == 2)[..., None]
    return torch.where(
        front, torch.tensor([1.0, 0.2, 0.0], dtype=torch.float64), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    )


def test_occlusion_boundaries_are_antialiased_like_the_supersampled_image():
    vs, faces = _occluder_scene()
    fr = rasterize_meshes(vs, faces, (20, 24))
    img = _colour(fr)
    out = antialias(img, fr, vs, faces)
    S = 16
    big = rasterize_meshes(vs * torch.tensor([S, S, 1.0], dtype=torch.float64), faces, (20 * S, 24 * S))
    ref = _colour(big).reshape(1, 20, S, 24, S, 3).mean((2, 4))
    edge = ((ref - img).abs().sum(-1) > 1e-9) | ((ref[..., 0] > 0) & (ref[..., 0] < 1))
    assert int(edge.sum()) > 20
    assert (out - ref)[edge].abs().mean() < 0.4 * (img - ref)[edge].abs().mean()
    assert torch.equal(out[~edge], img[~edge])  # the quad's own diagonal and the interior are untouched


def test_occlusion_antialias_gradient_matches_finite_differences():
    vs, faces = _occluder_scene()
    vs = vs.clone().requires_grad_(True)
    wts = torch.randn(1, 20, 24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5))

    def loss(v):
        fr = rasterize_meshes(v, faces, (20, 24))
        return (antialias(_colour(fr), fr, v, faces) * wts).sum()

    g = torch.autograd.grad(loss(vs), vs)[0]
    assert float(g[0, 4:, :2].abs().sum()) > 0.1 and float(g[0, :4].abs().sum()) == 0.0  # only the occluder moves
    assert torch.autograd.gradcheck(loss, (vs,), eps=1e-6, atol=1e-6)


def test_edges_inside_a_smooth_surface_are_not_blended():
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=3)
    cam = PerspectiveCameras.look_at((0.0, 0.0, 3.0), fov_y=35.0, dtype=torch.float64)
    vs = cam.transform_points_screen(torch.tensor(s.vertices)[None], (48, 48))
    faces = torch.tensor(s.faces)
    fr = rasterize_meshes(vs, faces, (48, 48))
    img = torch.rand(1, 48, 48, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))  # noisy texture
    out = antialias(img, fr, vs, faces)
    near_rim = (soft_silhouette(fr, vs, faces) < 1) | ~fr.mask
    near_rim = near_rim | near_rim.roll(1, 1) | near_rim.roll(-1, 1) | near_rim.roll(1, 2) | near_rim.roll(-1, 2)
    assert torch.equal(out[~near_rim], img[~near_rim])  # nothing blended inside the disc
    assert not torch.equal(out[near_rim], img[near_rim])


def test_soft_mask_of_a_dense_sphere_follows_its_contour_through_sub_pixel_faces():
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=4)  # 5,120 faces on ~740 pixels: slivers at the rim
    cam = PerspectiveCameras.look_at((0.1, 0.2, 3.0), fov_y=40.0, dtype=torch.float64)
    v, f = torch.tensor(s.vertices)[None], torch.tensor(s.faces)
    vs = cam.transform_points_screen(v, (32, 32))
    fr = rasterize_meshes(vs, f, (32, 32))
    soft = soft_silhouette(fr, vs, f)[0]
    S = 16
    big = rasterize_meshes(cam.transform_points_screen(v, (32 * S, 32 * S)), f, (32 * S, 32 * S))
    cov = big.mask[0].double().reshape(32, S, 32, S).mean((1, 3))
    edge = (cov > 0) & (cov < 1)
    assert (soft - cov)[edge].abs().mean() < 0.25 * (fr.mask[0].double() - cov)[edge].abs().mean()
    assert abs(float(soft.sum() - cov.sum())) < 2.0


def test_soft_mask_gradient_through_sub_pixel_faces_matches_finite_differences():
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=2)
    cam = PerspectiveCameras.look_at((0.1, 0.2, 3.0), fov_y=40.0, dtype=torch.float64)
    v = torch.tensor(s.vertices)[None].requires_grad_(True)
    f = torch.tensor(s.faces)
    wts = torch.randn(1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(7))

    def loss(x):
        vs = cam.transform_points_screen(x, (12, 12))
        return (soft_silhouette(rasterize_meshes(vs, f, (12, 12)), vs, f) * wts).sum()

    assert torch.autograd.gradcheck(loss, (v,), eps=1e-7, atol=1e-5, fast_mode=True)
