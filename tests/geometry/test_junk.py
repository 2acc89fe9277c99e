"""Loose pieces that are not the head: stray triangles far away and a floor are found; parts of
the head (eyeballs, hair cards, a neck piece) are not."""

import numpy as np
import trimesh

from facerig.geometry.junk import loose_junk


def _part(m, offset=(0, 0, 0), scale=1.0):
    return np.asarray(m.vertices) * scale + offset, np.asarray(m.faces)


def _join(*parts):
    vs, fs, n = [], [], 0
    for v, f in parts:
        vs.append(v)
        fs.append(f + n)
        n += len(v)
    return np.concatenate(vs), np.concatenate(fs)


def _head():
    head = _part(trimesh.creation.icosphere(3))  # radius 1
    eyes = [_part(trimesh.creation.icosphere(1), (s * 0.35, 0.2, 0.8), 0.15) for s in (-1, 1)]
    neck = _part(trimesh.creation.cylinder(0.4, 0.8), (0, -1.2, 0))
    card = _part(trimesh.creation.box((0.2, 0.2, 0.001)), (0.1, 1.05, 0.1))  # a hair card on top
    return [head, *eyes, neck, card]


def test_head_parts_are_not_junk():
    v, f = _join(*_head())
    assert not loose_junk(v, f).any()


def test_stray_pieces_and_a_floor_are_junk():
    parts = _head()
    stray = _part(trimesh.creation.icosphere(0), (30, 5, -4), 0.05)
    g = np.linspace(-4, 4, 6)
    x, z = np.meshgrid(g, g)
    fv = np.stack([x.ravel(), np.full(x.size, -1.7), z.ravel()], 1)
    idx = np.arange(36).reshape(6, 6)
    ff = np.concatenate(
        [
            np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:]], -1).reshape(-1, 3),
            np.stack([idx[:-1, :-1], idx[1:, 1:], idx[:-1, 1:]], -1).reshape(-1, 3),
        ]
    )
    v, f = _join(*parts, stray, (fv, ff))
    junk = loose_junk(v, f)
    n_head = sum(len(p[0]) for p in parts)
    assert not junk[:n_head].any()
    assert junk[n_head:].all()
