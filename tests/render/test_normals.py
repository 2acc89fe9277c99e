import torch

from facerig.render.normals import face_normals, vertex_normals


def test_face_normal_follows_the_right_hand_rule_and_has_twice_the_area():
    v = torch.tensor([[[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]])
    assert face_normals(v, torch.tensor([[0, 1, 2]]))[0, 0].tolist() == [0.0, 0.0, 6.0]
    assert face_normals(v, torch.tensor([[0, 2, 1]]))[0, 0].tolist() == [0.0, 0.0, -6.0]


def test_sphere_vertex_normals_are_radial():
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=3, radius=2.0)
    v = torch.tensor(s.vertices, dtype=torch.float64)[None] + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    n = vertex_normals(v, torch.tensor(s.faces))
    radial = torch.tensor(s.vertices / 2.0)
    assert torch.allclose(n.norm(dim=-1), torch.ones(1, len(s.vertices), dtype=torch.float64))
    assert float((n[0] * radial).sum(-1).min()) > 0.999


def test_per_mesh_faces_and_unused_vertices():
    v = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]]).expand(2, 4, 3)
    faces = torch.tensor([[[0, 1, 2]], [[-1, -1, -1]]])
    n = vertex_normals(v, faces)
    assert n[0, :3].tolist() == [[0.0, 0.0, 1.0]] * 3
    assert n[0, 3].tolist() == [0.0, 0.0, 0.0] and n[1].abs().sum() == 0


def test_degenerate_face_normals_have_finite_gradients():
    import torch

    from facerig.render.normals import vertex_normals

    v = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0]]], requires_grad=True)
    f = torch.tensor([[0, 1, 2], [0, 1, 3]])  # the first face has no area
    n = vertex_normals(v, f)
    assert torch.allclose(n[0, 2], torch.zeros(3))  # a vertex of degenerate faces only: normal 0
    n.sum().backward()
    assert torch.isfinite(v.grad).all()
