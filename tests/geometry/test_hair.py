"""Hair cards: many small open sheets above or behind the eyes are found; lash cards near the eyes,
a few cards, closed small parts and the head itself are not; cards move with the closest surface."""

import numpy as np
import trimesh

from facerig.geometry.hair import MIN_CARDS, hair_cards, scalp_motion


def _join(*parts):
    vs, fs, n = [], [], 0
    for v, f in parts:
        vs.append(np.asarray(v, np.float64))
        fs.append(np.asarray(f, np.int64) + n)
        n += len(v)
    return np.concatenate(vs), np.concatenate(fs)


def _head():
    """Skin (radius 1, looking +z) with two eyeballs in sockets."""
    skin = trimesh.creation.icosphere(3)
    eyes = []
    for s in (-1, 1):
        e = trimesh.creation.icosphere(2)
        eyes.append((np.asarray(e.vertices) * 0.16 + (s * 0.35, 0.2, 0.9), e.faces))
    return [(skin.vertices, skin.faces), *eyes]


def _cards(n, roots, size, rng):
    """n open quads (two triangles) starting at roots (n, 3)."""
    d1 = rng.normal(size=(n, 3))
    d1 /= np.linalg.norm(d1, axis=1, keepdims=True)
    d2 = np.cross(d1, rng.normal(size=(n, 3)))
    d2 /= np.linalg.norm(d2, axis=1, keepdims=True)
    out = []
    for r, a, b in zip(roots, d1, d2):
        v = np.stack([r, r + size * a, r + size * (a + 0.3 * b), r + size * 0.3 * b])
        out.append((v, np.array([[0, 1, 2], [0, 2, 3]])))
    return out


def _top_roots(n, rng):
    p = rng.normal(size=(n, 3))
    p[:, 1] = np.abs(p[:, 1]) + 2.0  # the crown, clear of the eyes
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def test_cards_on_the_scalp_are_hair_and_the_head_is_not():
    rng = np.random.default_rng(0)
    head = _head()
    cards = _cards(60, _top_roots(60, rng), 0.12, rng)
    v, f = _join(*head, *cards)
    hair = hair_cards(v, f)
    n_head = sum(len(p[0]) for p in head)
    assert not hair[:n_head].any()
    assert hair[n_head:].all()


def test_head_axes_are_followed():
    """Cards on the chin are not hair on an upright head; read upside down they are above the eyes."""
    rng = np.random.default_rng(1)
    head = _head()
    p = rng.normal(size=(60, 3)) * [0.2, 0.05, 0.05] + [0, -0.8, 0.7]
    cards = _cards(60, p / np.linalg.norm(p, axis=1, keepdims=True), 0.12, rng)  # on the chin
    v, f = _join(*head, *cards)
    n_head = sum(len(p[0]) for p in head)
    assert not hair_cards(v, f).any()  # +y up: below the eyes, in front of the face
    assert hair_cards(v, f, up="-y", forward="+z")[n_head:].all()  # upside down: they are on top


def test_lash_cards_near_the_eyes_stay():
    rng = np.random.default_rng(2)
    head = _head()
    lashes = []
    for s in (-1, 1):
        roots = np.array([s * 0.35, 0.34, 0.97]) + rng.normal(size=(20, 3)) * [0.08, 0.01, 0.01]
        lashes += _cards(20, roots, 0.05, rng)
    cards = _cards(40, _top_roots(40, rng), 0.12, rng)
    v, f = _join(*head, *lashes, *cards)
    hair = hair_cards(v, f)
    n_head = sum(len(p[0]) for p in head)
    n_lash = 4 * len(lashes)
    assert not hair[: n_head + n_lash].any()
    assert hair[n_head + n_lash :].all()


def test_few_cards_or_closed_parts_are_not_hair():
    rng = np.random.default_rng(3)
    head = _head()
    few = _cards(MIN_CARDS - 1, _top_roots(MIN_CARDS - 1, rng), 0.12, rng)
    v, f = _join(*head, *few)
    assert not hair_cards(v, f).any()
    bolt = trimesh.creation.icosphere(1)
    bolts = [(np.asarray(bolt.vertices) * 0.04 + r, bolt.faces) for r in _top_roots(40, rng)]  # closed
    v, f = _join(*head, *bolts)
    assert not hair_cards(v, f).any()


def test_scalp_motion_reads_the_closest_surface_point():
    g = np.linspace(0, 1, 5)
    x, z = np.meshgrid(g, g)
    plane = np.stack([x.ravel(), np.zeros(x.size), z.ravel()], 1)
    idx = np.arange(25).reshape(5, 5)
    pf = np.concatenate(
        [
            np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:]], -1).reshape(-1, 3),
            np.stack([idx[:-1, :-1], idx[1:, 1:], idx[:-1, 1:]], -1).reshape(-1, 3),
        ]
    )
    card = np.array([[0.3, 0.1, 0.6], [0.7, 0.2, 0.2]])
    v = np.concatenate([plane, card])
    deltas = np.zeros((2, len(v), 3), np.float32)
    deltas[0, :25, 1] = plane[:, 0]  # linear in x: the closest point's value is its x
    deltas[1, :25, 2] = 2 * plane[:, 2]
    deltas[:, 25:] = 99.0
    cards = np.zeros(len(v), bool)
    cards[25:] = True
    out = scalp_motion(v, pf, deltas, cards)
    np.testing.assert_allclose(out[0, 25:, 1], card[:, 0], atol=1e-6)
    np.testing.assert_allclose(out[1, 25:, 2], 2 * card[:, 2], atol=1e-6)
    np.testing.assert_array_equal(out[:, :25], deltas[:, :25])
    assert deltas[0, 25, 0] == 99.0  # the input is not modified
