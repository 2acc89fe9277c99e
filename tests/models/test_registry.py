"""The method registry: default method choice and the one interface every method goes through."""

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.mesh import Mesh
from facerig.models import registry


def test_default_is_first_available(monkeypatch):
    monkeypatch.setattr(registry, "PREFERENCE", ("dt", "raf"))
    monkeypatch.setattr(registry, "method_available", lambda n: n == "raf")
    assert registry.default_method() == "raf"
    monkeypatch.setattr(registry, "method_available", lambda n: True)
    assert registry.default_method() == "dt"
    monkeypatch.setattr(registry, "method_available", lambda n: False)
    assert registry.default_method() == "zero"


def test_dt_unavailable_without_ict(monkeypatch, tmp_path):
    monkeypatch.setenv("FACERIG_DATA", str(tmp_path))  # an empty data folder
    monkeypatch.delenv("FACERIG_ICT_DIR", raising=False)
    assert not registry.method_available("dt")


def test_rig_mesh_keeps_vertex_count_and_meta():
    v = np.random.default_rng(0).normal(size=(30, 3))
    mesh = Mesh(vertices=v, faces=np.array([[0, 1, 2], [2, 3, 4]]))
    rig = registry.rig_mesh(mesh, "zero")
    assert rig.deltas.shape == (52, 30, 3) and rig.meta["method"] == "zero"
    np.testing.assert_array_equal(rig.neutral, v)
    with pytest.raises(FacerigError, match="unknown method"):
        registry.rig_mesh(mesh, "nope")


def _position_method(mesh, **options):
    """A stand-in method: each vertex moves by its own position (what the method saw)."""
    d = np.asarray(mesh.vertices, np.float32)
    _position_method.seen = np.asarray(mesh.vertices).copy()
    return registry.MethodOutput(names=["jawOpen"], deltas=d[None])


def test_flawed_mesh_is_handled_by_default_and_refused_when_strict(monkeypatch, tiny_head):
    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    v2 = np.concatenate([v, [[0.0, 0.0, 2.0]]])
    f2 = np.concatenate([f, [[0, 0, 1]]])
    rig = registry.rig_mesh(Mesh(v2, f2), "pos", falloff=False)
    assert rig.deltas.shape == (52, len(v2), 3)
    assert len(_position_method.seen) == len(v)  # the method never saw the loose vertex
    assert rig.meta["repairs"] == {
        "dropped_degenerate_triangles": 1,
        "dropped_duplicate_triangles": 0,
        "unreferenced_vertices": 1,
    }
    np.testing.assert_array_equal(rig.faces, f2)  # the file's faces, the dropped one too
    from facerig.errors import MeshError

    with pytest.raises(MeshError, match="--strict"):
        registry.rig_mesh(Mesh(v2, f2), "pos", strict=True)


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_extreme_scales_are_computed_at_a_power_of_two(monkeypatch, tiny_head, scale):
    import warnings

    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rig = registry.rig_mesh(Mesh(v * scale, f), "pos", falloff=False)
    factor = rig.meta["computed_at_scale"]
    assert factor == 2.0 ** np.round(np.log2(factor))  # a power of two
    assert 0.5 <= np.linalg.norm(np.ptp(_position_method.seen, axis=0)) <= 2  # the method worked near unit size
    k = rig.names.index("jawOpen")
    np.testing.assert_allclose(rig.deltas[k], (v * scale).astype(np.float32), rtol=1e-6)


def test_raf_refuses_a_mesh_too_small_for_a_face(tiny_head):
    from facerig.models.raf.probe import NotAHeadError

    v, f = tiny_head()  # 48 vertices
    with pytest.raises(NotAHeadError, match="too few"):
        registry.rig_mesh(Mesh(v, f), "raf")
    tri = Mesh(np.eye(3), np.array([[0, 1, 2]]))
    with pytest.raises(NotAHeadError, match="3 vertices"):
        registry.rig_mesh(tri, "raf")


def _tube(y0, y1, radius, z, n=24, m=10):
    """An open tube along Y from y0 to y1 (+Y up, face toward +Z): vertices (n*m, 3), faces."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    v = np.array([[radius * np.cos(a), y, z + radius * np.sin(a)] for y in np.linspace(y0, y1, m) for a in t])
    f = [
        [i * n + j, i * n + (j + 1) % n, (i + 1) * n + (j + 1) % n, (i + 1) * n + j]
        for i in range(m - 1)
        for j in range(n)
    ]
    return v, np.array([[a, b, c] for a, b, c, _ in f] + [[a, c, d] for a, _, c, d in f])


def _face_motion_method(mesh, up="+y", forward="+z", **options):
    """A stand-in network: blinks and lips move patches at the eyes and the mouth of a face of
    size 1 (in the axes given), jawOpen moves every vertex down by 0.2 (slow enough for a neck
    cut's fade to still it without folding the neck: models/cut_fade.py)."""
    from facerig.geometry.frame import orientation_matrix

    R = orientation_matrix(up, forward)  # input -> +Y up, +Z forward
    p = np.asarray(mesh.vertices, np.float64) @ R.T
    names = ["eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker", "jawOpen"]
    d = np.zeros((5, len(p), 3))
    for k, c in enumerate([[0.5, 0.35, 0.9], [-0.5, 0.35, 0.9], [0, -0.65, 0.9], [0, -0.65, 0.9]]):
        d[k, np.linalg.norm(p - c, axis=1) < 0.35, 1] = -0.1
    d[4, :, 1] = -0.2
    return registry.MethodOutput(names=names, deltas=(d @ R).astype(np.float32))


@pytest.mark.parametrize("axes", [("+y", "+z"), ("+z", "-y")])
def test_rig_mesh_stills_a_bust_cut_in_the_rigs_axes(monkeypatch, axes):
    """A head on a short neck cut 2.4 face sizes below the face, in the rig's own axes (Blender's
    too): the cut is still, the chin moves with the jaw as the method said."""
    from facerig.geometry.frame import orientation_matrix

    monkeypatch.setitem(registry.METHODS, "facemo", f"{__name__}:_face_motion_method")
    hv, hf = _tube(1.5, -1.0, 1.2, -0.3)
    nv, nf = _tube(-1.0, -2.4, 0.5, -0.3)
    v, f = np.concatenate([hv, nv]), np.concatenate([hf, nf + len(hv)])
    R = orientation_matrix(*axes)
    rig = registry.rig_mesh(Mesh(v @ R, f), "facemo", up=axes[0], forward=axes[1])
    jaw = np.linalg.norm(rig.deltas[rig.names.index("jawOpen")], axis=1)
    rim = np.flatnonzero(np.isclose(v[:, 1], -2.4))
    chin = np.flatnonzero(np.isclose(v[:, 1], -1.0) & (v[:, 2] > 0.8))
    assert len(rim) == 24 and (jaw[rim] == 0).all()
    assert len(chin) and np.allclose(jaw[chin], 0.2)
    assert rig.meta["falloff"]["cut_vertices"] == 24 and rig.meta["input"]["up"] == axes[0]
    no_fade = registry.rig_mesh(Mesh(v @ R, f), "facemo", up=axes[0], forward=axes[1], falloff=False)
    assert np.allclose(np.linalg.norm(no_fade.deltas[no_fade.names.index("jawOpen")], axis=1)[rim], 0.2)


def test_loose_junk_is_left_out_and_kept_still(monkeypatch, tiny_head):
    """Robustness sweep: stray triangles far away made the face probe refuse a valid head; now the
    method never sees them, they get zero deltas, and the meta says how many there were."""
    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    stray = np.array([[40.0, 3, 0], [40.2, 3, 0], [40.0, 3.2, 0]])
    v2 = np.concatenate([v, stray])
    f2 = np.concatenate([f, [[len(v), len(v) + 1, len(v) + 2]]])
    rig = registry.rig_mesh(Mesh(v2, f2), "pos", falloff=False)
    assert len(_position_method.seen) == len(v)
    k = rig.names.index("jawOpen")
    assert np.abs(rig.deltas[k, len(v) :]).max() == 0
    np.testing.assert_allclose(rig.deltas[k, : len(v)], v.astype(np.float32))
    assert rig.meta["loose_pieces"] == {"vertices": 3, "pieces": 1}
    assert "loose_pieces" not in registry.rig_mesh(Mesh(v, f), "pos", falloff=False).meta


def _faces_method(mesh, **_):
    _faces_method.seen = np.asarray(mesh.faces).copy()
    return registry.MethodOutput(names=["jawOpen"], deltas=np.zeros((1, mesh.num_vertices, 3), np.float32))


def test_flipped_faces_reach_the_method_rewound_and_the_rig_keeps_the_files(monkeypatch, tiny_head):
    monkeypatch.setitem(registry.METHODS, "faces", f"{__name__}:_faces_method")
    v, f = tiny_head()
    g = f.copy()
    flip = np.arange(len(f)) % 2 == 0
    g[flip] = g[flip][:, ::-1]
    rig = registry.rig_mesh(Mesh(v, g), "faces", falloff=False)
    np.testing.assert_array_equal(_faces_method.seen, f)  # the tiny head's own (outward) winding
    np.testing.assert_array_equal(rig.faces, g)
    assert rig.meta["rewound_faces"] == flip.sum()
    assert "rewound_faces" not in registry.rig_mesh(Mesh(v, f), "faces", falloff=False).meta


def test_hair_cards_are_left_out_and_move_with_the_scalp(monkeypatch, tiny_head):
    """Robustness sweep: hair cards made the network move them like lashes and the face probe's eyes
    tilt; now the method never sees them and each card vertex reads the closest point of the head."""
    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    rng = np.random.default_rng(0)
    crown = np.flatnonzero(v[:, 1] > 0.5)
    n = 24
    roots = v[rng.choice(crown, n)]
    d1 = rng.normal(size=(n, 3))
    d1 /= np.linalg.norm(d1, axis=1, keepdims=True)
    d2 = np.cross(d1, rng.normal(size=(n, 3)))
    d2 /= np.linalg.norm(d2, axis=1, keepdims=True)
    cards = np.stack([roots, roots + 0.15 * d1, roots + 0.15 * (d1 + 0.3 * d2), roots + 0.045 * d2], 1)
    quads = len(v) + np.arange(4 * n).reshape(n, 4)
    v2 = np.concatenate([v, cards.reshape(-1, 3)])
    f2 = np.concatenate([f, quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    rig = registry.rig_mesh(Mesh(v2, f2), "pos", falloff=False)
    assert len(_position_method.seen) == len(v)  # the method never saw the cards
    assert rig.meta["hair_cards"] == {"vertices": 4 * n, "cards": n}
    k = rig.names.index("jawOpen")
    np.testing.assert_allclose(rig.deltas[k, : len(v)], v.astype(np.float32))
    on_head = rig.deltas[k, len(v) :].astype(np.float64)  # the point of the head each card vertex reads
    np.testing.assert_allclose(on_head[::4], roots, atol=1e-5)  # a root reads the head vertex it sits on
    gap = np.linalg.norm(v2[len(v) :] - on_head, axis=1)
    nearest_vertex = np.linalg.norm(v2[len(v) :, None] - v[None], axis=2).min(1)
    assert (gap <= nearest_vertex + 1e-6).all()  # the closest surface point, not farther than any vertex
    assert "hair_cards" not in registry.rig_mesh(Mesh(v, f), "pos", falloff=False).meta


def _plane(n=21):
    """An n x n grid of unit squares in z = 0: vertices (n*n, 3), faces."""
    x, y = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    return v, np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])


def _folding_method(mesh, **options):
    """A method whose jawOpen folds a 4 x 6 block of the plane over its neighbours (24 triangles
    and more: past the default trigger; its strongest motion lies elsewhere), whose cheekPuff folds one vertex (a few triangles: past
    UNTANGLE_MIN_AREA, not the trigger) and whose mouthSmileLeft folds nothing."""
    v = np.asarray(mesh.vertices)
    d = np.zeros((3, len(v), 3), np.float32)
    block = (v[:, 0] >= 8) & (v[:, 0] <= 11) & (v[:, 1] >= 7) & (v[:, 1] <= 12)
    d[0, block, 0] = 2.6
    d[0, v[:, 1] < 4, 2] = 5.0  # its strongest motion, out of the plane (folds nothing), away from the fold
    d[1, 10 * 21 + 3, 0] = 1.6
    d[2, :, 1] = 0.1 * v[:, 0]
    return registry.MethodOutput(names=["jawOpen", "cheekPuff", "mouthSmileLeft"], deltas=d)


def test_large_folds_are_smoothed_by_default_small_ones_only_with_untangle(monkeypatch):
    """Issue 24: a shape folding past UNTANGLE_TRIGGER face sizes^2 is unfolded by default; one
    folding less keeps its deltas bit for bit (untangle=True smooths it too); an unfolded shape is
    untouched; untangle=False leaves every shape as the method made it."""
    from facerig.geometry.untangle import folded_area, folded_faces
    from facerig.models.finish import UNTANGLE_MIN_AREA, UNTANGLE_TRIGGER

    monkeypatch.setitem(registry.METHODS, "folding", f"{__name__}:_folding_method")
    v, f = _plane()
    mesh = Mesh(vertices=v, faces=f)
    raw = registry.rig_mesh(mesh, "folding", untangle=False)
    k = [raw.names.index(n) for n in ("jawOpen", "cheekPuff", "mouthSmileLeft")]
    size2 = (0.2 * np.linalg.norm(v.max(0) - v.min(0))) ** 2
    area = folded_area(v, f, raw.deltas[k]) / size2
    assert area[0] > UNTANGLE_TRIGGER > area[1] > UNTANGLE_MIN_AREA and area[2] == 0
    rig = registry.rig_mesh(mesh, "folding")  # the default
    assert not folded_faces(v, f, rig.deltas[k[:1]]).any()
    assert rig.meta["untangled"]["shapes"] == 1
    assert np.array_equal(rig.deltas[k[1:]], raw.deltas[k[1:]])  # the small fold and the unfolded shape
    every = registry.rig_mesh(mesh, "folding", untangle=True)
    assert not folded_faces(v, f, every.deltas[k[:2]]).any() and every.meta["untangled"]["shapes"] == 2
    assert "untangled" not in raw.meta
