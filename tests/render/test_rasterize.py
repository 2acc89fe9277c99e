import pytest
import torch

from facerig.errors import FacerigError
from facerig.render.cameras import PerspectiveCameras
from facerig.render.interpolate import interpolate_vertex_attributes
from facerig.render.rasterize import rasterize_meshes

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_a_triangle_covers_exactly_the_pixels_whose_centres_it_contains(device):
    H, W = 10, 12
    vs = torch.tensor([[[0.0, 0.0, 2.0], [8.0, 0.0, 2.0], [0.0, 8.0, 2.0]]], device=device)
    fr = rasterize_meshes(vs, torch.tensor([[0, 1, 2]]), (H, W))
    j, i = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    expected = (i + 0.5) + (j + 0.5) <= 8.0  # inside x + y <= 8, edges included
    assert torch.equal(fr.mask.cpu()[0], expected)
    assert fr.pix_to_face[0][expected].eq(0).all() and fr.pix_to_face[0][~expected].eq(-1).all()
    assert torch.allclose(fr.zbuf[0][expected], torch.full((int(expected.sum()),), 2.0, device=device))
    assert torch.allclose(fr.bary_coords[0][expected].sum(-1), torch.ones(int(expected.sum()), device=device))
    # screen barycentric of vertex 1 at the centre (i + .5, j + .5) is x / 8
    assert torch.allclose(fr.bary_coords[0, :, :, 1][expected].cpu(), ((i + 0.5) / 8.0)[expected])


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_nearer_of_two_overlapping_triangles_wins(order):
    near = [[1.0, 1.0, 2.0], [15.0, 1.0, 2.0], [1.0, 15.0, 2.0]]
    far = [[2.0, 2.0, 5.0], [15.0, 15.0, 5.0], [2.0, 15.0, 5.0]]
    tris = [near, far]
    vs = torch.tensor([tris[order[0]] + tris[order[1]]])
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    fr = rasterize_meshes(vs, faces, (16, 16))
    near_id = order.index(0)
    # pixel (3, 3) is inside both, (12, 12) only in the far one
    assert int(fr.pix_to_face[0, 3, 3]) == near_id and float(fr.zbuf[0, 3, 3]) == pytest.approx(2.0)
    assert int(fr.pix_to_face[0, 12, 12]) == 1 - near_id and float(fr.zbuf[0, 12, 12]) == pytest.approx(5.0)


def _slanted_plane(dtype=torch.float64):
    """Two triangles of the plane z = -4 - 0.8 x (strongly slanted to the camera at the origin)."""
    xy = torch.tensor([[-2.0, -2.0], [2.0, -2.0], [2.0, 2.0], [-2.0, 2.0]], dtype=dtype)
    verts = torch.cat([xy, (-4.0 - 0.8 * xy[:, :1])], dim=1)
    return verts[None], torch.tensor([[0, 1, 2], [0, 2, 3]])


@pytest.mark.parametrize("device", DEVICES)
def test_perspective_correct_interpolation_on_a_slanted_plane(device):
    verts, faces = _slanted_plane()
    verts = verts.to(device)
    cam = PerspectiveCameras(fov_y=60.0, dtype=torch.float64, device=device)  # at the origin, looking down -Z
    H, W = 24, 32
    fr = rasterize_meshes(cam.transform_points_screen(verts, (H, W)), faces, (H, W))
    pos = interpolate_vertex_attributes(fr, verts)[fr.mask]  # interpolated world position per covered pixel
    # analytic: the ray through each pixel centre hits z = -4 - 0.8 x
    j, i = torch.nonzero(fr.mask[0], as_tuple=True)
    f = float(cam.focal_length[0]) * H / 2
    dx = (i.double() + 0.5 - W / 2) / f
    dy = (H / 2 - (j.double() + 0.5)) / f
    s = 4.0 / (1.0 - 0.8 * dx)  # point = s (dx, dy, -1) on the plane
    hit = torch.stack([s * dx, s * dy, -s], dim=1)
    assert int(fr.mask.sum()) > 300
    assert torch.allclose(pos, hit, atol=1e-9)
    assert torch.allclose(fr.zbuf[fr.mask], s, atol=1e-9)
    # screen-space (affine) interpolation would be visibly wrong on this plane
    assert _affine_error(fr, verts, cam, (H, W), faces, hit) > 0.05


def _affine_error(fr, verts, cam, size, faces, hit):
    vs = cam.transform_points_screen(verts, size)[0]
    b = fr.bary_coords[fr.mask]
    w = b / vs[faces[fr.pix_to_face[fr.mask]], 2]  # undo the 1/z weighting -> screen barycentrics
    w = w / w.sum(-1, keepdim=True)
    affine = (w[..., None] * verts[0][faces[fr.pix_to_face[fr.mask]]]).sum(1)
    return float((affine - hit).norm(dim=-1).max())


def test_backfaces_and_faces_behind_the_camera_are_culled():
    ccw = [[0.0, 1.0, -3.0], [-1.0, -1.0, -3.0], [1.0, -1.0, -3.0]]  # counter-clockwise seen from +Z
    cam = PerspectiveCameras(fov_y=60.0)
    verts = torch.tensor([ccw])
    for faces, cull, drawn in [([0, 1, 2], True, True), ([0, 2, 1], True, False), ([0, 2, 1], False, True)]:
        fr = rasterize_meshes(
            cam.transform_points_screen(verts, (16, 16)), torch.tensor([faces]), (16, 16), cull_backfaces=cull
        )
        assert bool(fr.mask.any()) == drawn
    behind = verts * torch.tensor([1.0, 1.0, -1.0])
    assert not rasterize_meshes(
        cam.transform_points_screen(behind, (16, 16)), torch.tensor([[0, 1, 2]]), (16, 16)
    ).mask.any()


def test_per_mesh_faces_with_padding():
    tri = torch.tensor([[2.0, 2.0, 1.0], [14.0, 2.0, 1.0], [2.0, 14.0, 1.0], [14.0, 14.0, 1.0]])
    vs = torch.stack([tri, tri])
    faces = torch.tensor([[[0, 1, 2], [-1, -1, -1]], [[1, 3, 2], [0, 1, 2]]])
    fr = rasterize_meshes(vs, faces, (16, 16))
    assert int(fr.pix_to_face[0].max()) == 0
    assert int(fr.pix_to_face[1, 12, 12]) == 0 and int(fr.pix_to_face[1, 3, 3]) == 1
    assert int(fr.mask[1].sum()) > int(fr.mask[0].sum())


def test_barycentrics_gradient_matches_finite_differences():
    H, W = 9, 11
    vs = torch.tensor([[[1.3, 0.7, 2.0], [9.6, 2.2, 3.0], [3.1, 8.4, 1.5]]], dtype=torch.float64, requires_grad=True)
    faces = torch.tensor([[0, 1, 2]])
    wts = torch.randn(1, H, W, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def f(v):
        fr = rasterize_meshes(v, faces, (H, W))
        return (fr.bary_coords * wts).sum() + (fr.zbuf * wts[..., 0]).sum()

    assert torch.autograd.gradcheck(f, (vs,), eps=1e-6, atol=1e-6)


def test_too_many_candidates_fail_with_one_line(monkeypatch):
    import facerig.render.rasterize as rz

    vs = torch.tensor([[[0.0, 0.0, 1.0], [64.0, 0.0, 1.0], [0.0, 64.0, 1.0]]])
    assert rasterize_meshes(vs, torch.tensor([[0, 1, 2]]), (64, 64)).mask.any()
    monkeypatch.setattr(rz, "MAX_CANDIDATES", 64 * 64 - 1)  # the triangle's box is 64 x 64 pixels
    with pytest.raises(FacerigError, match="4,096 pixels"):
        rasterize_meshes(vs, torch.tensor([[0, 1, 2]]), (64, 64))


def test_bad_input_fails_with_one_line():
    vs = torch.zeros(1, 3, 3)
    with pytest.raises(FacerigError, match="vertex 3 of a mesh with 3"):
        rasterize_meshes(vs, torch.tensor([[0, 1, 3]]), (4, 4))
    with pytest.raises(FacerigError, match="image size"):
        rasterize_meshes(vs, torch.tensor([[0, 1, 2]]), (0, 4))
    with pytest.raises(FacerigError, match="faces must be"):
        rasterize_meshes(vs, torch.tensor([0, 1, 2]), (4, 4))
