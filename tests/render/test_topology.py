import torch

from facerig.render.topology import face_neighbours


def test_every_edge_of_a_closed_mesh_has_the_face_across_it():
    import trimesh

    m = trimesh.creation.icosphere(subdivisions=2)
    f = torch.tensor(m.faces)
    nb = face_neighbours(f)
    assert bool((nb >= 0).all()) and bool((nb != torch.arange(len(f))[:, None]).all())
    for k in range(3):  # the neighbour holds both ends of edge k (vertex k+1 -> k+2)
        g = f[nb[:, k]]
        a, b = f[:, (k + 1) % 3, None], f[:, (k + 2) % 3, None]
        assert bool(((g == a).any(1) & (g == b).any(1)).all())


def test_boundary_non_manifold_and_padding_edges_have_none():
    f = torch.tensor([[0, 1, 2], [2, 1, 3], [-1, -1, -1], [3, 4, 2]])
    nb = face_neighbours(f)
    assert nb.tolist() == [[1, -1, -1], [-1, 3, 0], [-1, -1, -1], [-1, 1, -1]]  # edge k: vertex k+1 -> k+2
    f3 = torch.tensor([[0, 1, 2], [2, 1, 3], [1, 2, 4]])  # edge 1-2 shared by three faces
    assert int(face_neighbours(f3).max()) == -1


def test_batched_faces_give_per_mesh_neighbours():
    f = torch.tensor([[0, 1, 2], [2, 1, 3], [-1, -1, -1], [3, 4, 2]])
    g = torch.tensor([[0, 1, 2], [1, 2, 3], [3, 2, 0], [-1, -1, -1]])
    nb = face_neighbours(torch.stack([f, g]))
    assert torch.equal(nb[0], face_neighbours(f)) and torch.equal(nb[1], face_neighbours(g))
