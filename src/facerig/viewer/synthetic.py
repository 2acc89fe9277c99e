"""A tiny synthetic rig (an egg-shaped "head" with a few ARKit shapes) for tests and demos."""

from __future__ import annotations

import numpy as np

from facerig.io.rig import Rig


def egg_rig(rings: int = 24, segments: int = 32) -> Rig:
    """UV-sphere egg (+Y up, face toward +Z, ~20 units tall) with shapes that move visibly.

    Shapes: ``jawOpen`` (the lower front drops), ``jawLeft``, ``jawForward``, ``eyeBlinkLeft``,
    ``mouthSmileLeft``, ``browInnerUp`` and ``tongueOut`` (all zero: an "empty" shape).
    Vertex count: ``(rings - 1) * segments + 2``.
    """
    th = np.linspace(0, np.pi, rings + 1)[1:-1]  # polar angle from +Y
    ph = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    T, P = np.meshgrid(th, ph, indexing="ij")
    ring = np.stack([np.sin(T) * np.sin(P) * 8.0, np.cos(T) * 10.0, np.sin(T) * np.cos(P) * 9.0], -1)
    v = np.concatenate([[[0, 10.0, 0]], ring.reshape(-1, 3), [[0, -10.0, 0]]])
    faces = []
    idx = lambda r, s: 1 + r * segments + (s % segments)  # noqa: E731
    for s in range(segments):
        faces.append((0, idx(0, s + 1), idx(0, s)))
        faces.append((len(v) - 1, idx(rings - 2, s), idx(rings - 2, s + 1)))
    for r in range(rings - 2):
        for s in range(segments):
            a, b, c, d = idx(r, s), idx(r, s + 1), idx(r + 1, s), idx(r + 1, s + 1)
            faces += [(a, b, d), (a, d, c)]
    faces = np.array(faces, dtype=np.int64)
    # outward winding check: flip if the mean face normal points inward
    n = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    if np.einsum("ij,ij->", n, v[faces].mean(1)) < 0:
        faces = faces[:, ::-1].copy()

    x, y, z = v.T
    front = np.clip(z / 9.0, 0, 1)
    lower = np.clip(-y / 10.0, 0, 1)
    jaw = (front * lower) ** 0.7
    names = ["jawOpen", "jawLeft", "jawForward", "eyeBlinkLeft", "mouthSmileLeft", "browInnerUp", "tongueOut"]
    d = np.zeros((len(names), len(v), 3), dtype=np.float64)
    d[0, :, 1] = -6.0 * jaw
    d[0, :, 2] = -2.0 * jaw
    d[1, :, 0] = 3.0 * jaw
    d[2, :, 2] = 3.0 * jaw
    eye = np.exp(-((x - 3) ** 2 + (y - 2) ** 2) / 4.0) * front
    d[3, :, 2] = -1.5 * eye
    mouth = np.exp(-((x - 3) ** 2 + (y + 3) ** 2) / 3.0) * front
    d[4, :, 1] = 1.5 * mouth
    brow = np.exp(-(x ** 2 + (y - 5) ** 2) / 6.0) * front
    d[5, :, 1] = 1.2 * brow
    return Rig(names=names, deltas=d.astype(np.float32), neutral=v, faces=faces,
               meta={"method": "synthetic", "units": "cm", "source": "egg.obj", "missing": []})
