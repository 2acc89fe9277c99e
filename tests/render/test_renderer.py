import pytest
import torch

from facerig.render.cameras import PerspectiveCameras
from facerig.render.renderer import render_mesh

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _meshes():
    import trimesh

    a = trimesh.creation.icosphere(subdivisions=2, radius=0.8)
    b = trimesh.creation.box(extents=(1.2, 0.9, 1.0))
    b = trimesh.Trimesh(b.vertices, b.faces).subdivide().subdivide()
    return a, b


def test_a_batch_of_two_equals_two_single_renders():
    a, b = _meshes()
    V = max(len(a.vertices), len(b.vertices))
    F = max(len(a.faces), len(b.faces))
    verts = torch.zeros(2, V, 3, dtype=torch.float64)
    faces = torch.full((2, F, 3), -1, dtype=torch.long)
    for k, m in enumerate((a, b)):
        verts[k, : len(m.vertices)] = torch.tensor(m.vertices)
        faces[k, : len(m.faces)] = torch.tensor(m.faces)
    colors = torch.rand(2, V, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    eye = torch.tensor([[0.3, 0.4, 3.0], [2.0, 1.5, 2.0]], dtype=torch.float64)
    cams = PerspectiveCameras.look_at(eye, fov_y=torch.tensor([40.0, 50.0]), dtype=torch.float64)
    verts.requires_grad_(True)
    rb = render_mesh(verts, faces, cams, (24, 40), vertex_colors=colors)
    (rb.image.sum() + rb.soft_mask.sum()).backward()
    for k, m in enumerate((a, b)):
        v = torch.tensor(m.vertices, dtype=torch.float64)[None].requires_grad_(True)
        cam = PerspectiveCameras.look_at(eye[k], fov_y=[40.0, 50.0][k], dtype=torch.float64)
        r = render_mesh(v, torch.tensor(m.faces), cam, (24, 40), vertex_colors=colors[k, : len(m.vertices)])
        assert r.mask.any()
        for name in ("image", "normal_map", "depth", "mask", "soft_mask"):
            assert torch.allclose(getattr(rb, name)[k], getattr(r, name)[0]), name
        assert torch.equal(rb.fragments.pix_to_face[k], r.fragments.pix_to_face[0])
        (r.image.sum() + r.soft_mask.sum()).backward()
        assert torch.allclose(verts.grad[k, : len(m.vertices)], v.grad[0])


@pytest.mark.parametrize("device", DEVICES)
def test_same_rendering_on_every_device(device):
    a, _ = _meshes()
    v = torch.tensor(a.vertices, dtype=torch.float32)[None]
    f = torch.tensor(a.faces)
    cam = PerspectiveCameras.look_at((0.5, 0.2, 3.0), fov_y=45.0)
    ref = render_mesh(v, f, cam, (32, 48))
    r = render_mesh(v.to(device), f.to(device), cam.to(device), (32, 48))
    assert r.image.device.type == torch.device(device).type
    assert (r.fragments.pix_to_face.cpu() != ref.fragments.pix_to_face).float().mean() < 0.01
    same = r.fragments.pix_to_face.cpu() == ref.fragments.pix_to_face
    assert torch.allclose(r.image.cpu()[same], ref.image[same], atol=1e-4)


def test_precomputed_neighbours_give_the_same_rendering():
    from facerig.render.topology import face_neighbours

    a, _ = _meshes()
    v = torch.tensor(a.vertices, dtype=torch.float64)[None]
    f = torch.tensor(a.faces)
    cam = PerspectiveCameras.look_at((0.5, 0.2, 3.0), fov_y=45.0, dtype=torch.float64)
    r0 = render_mesh(v, f, cam, (32, 48))
    r1 = render_mesh(v, f, cam, (32, 48), neighbours=face_neighbours(f))
    assert torch.equal(r0.image, r1.image) and torch.equal(r0.soft_mask, r1.soft_mask)
