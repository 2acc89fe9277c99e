"""facerig.models.carved_eyes: on a head with no eyeballs and no eye holes whose blinks spread over
the crown, the eyes are found where the eye shapes all move, and the eye falloff confines the eye
shapes around them; a head with eyeballs keeps the blinks' eyes."""

from __future__ import annotations

import numpy as np
import trimesh

from facerig.models.carved_eyes import CARVED_FALLOFF, carved_eyes, eyes_from_eye_shapes
from facerig.models.eye_falloff import eye_falloff

EYES = np.array([[0.32, 0.25, 0.91], [-0.32, 0.25, 0.91]])  # on the unit sphere's front, left at +X
MOUTH = np.array([0.0, -0.45, 0.89])
SIDE_SHAPES = ("eyeBlink", "eyeSquint", "eyeWide", "eyeLookDown", "eyeLookIn", "eyeLookOut", "eyeLookUp")


def _bump(v: np.ndarray, c: np.ndarray, r: float) -> np.ndarray:
    """(V, 3) deltas along -Y, a smooth bump of radius r at c (3,)."""
    w = np.clip(1.0 - np.linalg.norm(v - c, axis=1) / r, 0.0, None) ** 2
    return np.stack([np.zeros_like(w), -w, np.zeros_like(w)], 1)


def _head(eyeballs: bool = False):
    """A closed sphere head (no eyeball, no hole), with two small eyeball spheres if ``eyeballs``."""
    s = trimesh.creation.icosphere(subdivisions=5)
    v, f = np.asarray(s.vertices), np.asarray(s.faces)
    if eyeballs:
        for e in EYES:
            b = trimesh.creation.icosphere(subdivisions=2, radius=0.1)
            f = np.concatenate([f, np.asarray(b.faces) + len(v)])
            v = np.concatenate([v, np.asarray(b.vertices) + e * 0.97])
    return v, f


def _rig(v: np.ndarray, spread: bool):
    """Names and deltas (K, V, 3): each eye shape a bump at its eye; with ``spread`` each also moves a
    far region (a different one per shape: the crown, the back, the neck ...) by 0.5 of its peak,
    over many more vertices than the eye's bump."""
    far = [np.array(p, float) for p in ([0.0, 1.0, 0.0], [0, 0.2, -1], [0.9, 0.4, -0.2], [0, -1, 0], [-0.6, 0.6, 0.5])]
    names, deltas = [], []
    for side, eye in (("Left", EYES[0]), ("Right", EYES[1])):
        for i, n in enumerate(SIDE_SHAPES):
            d = _bump(v, eye, 0.25)
            if spread:
                c = far[(i + (side == "Right")) % len(far)] * np.array([1 if side == "Left" else -1, 1, 1])
                d = d + 0.5 * _bump(v, c / np.linalg.norm(c), 1.5)
            names.append(n + side)
            deltas.append(d)
    names += ["mouthFunnel", "mouthPucker"]
    deltas += [_bump(v, MOUTH, 0.3), _bump(v, MOUTH, 0.3)]
    return names, np.stack(deltas).astype(np.float32)


def _share_near(v: np.ndarray, d: np.ndarray, eye: np.ndarray, radius: float) -> float:
    m = np.linalg.norm(d, axis=1)
    return float(m[np.linalg.norm(v - eye, axis=1) <= radius].sum() / m.sum())


def test_eye_shapes_peaks_find_the_carved_eyes():
    v, _ = _head()
    names, d = _rig(v, spread=True)
    eyes = eyes_from_eye_shapes(v, d, names)
    assert np.linalg.norm(eyes - EYES, axis=1).max() < 0.08  # eye distance 0.64


def test_statue_blink_is_confined_around_its_eyes():
    v, f = _head()
    names, d = _rig(v, spread=True)
    eyes, info = carved_eyes(v, f, d, names)
    assert eyes is not None and info["blink_check"]  # the blinks' centroids did not look like a face
    assert np.linalg.norm(eyes - EYES, axis=1).max() < 0.08
    before, info_before = eye_falloff(v, d, names)  # eyes from the blinks' centroids
    assert "eyes" not in info_before
    after, fall = eye_falloff(v, d, names, eyes=eyes, **CARVED_FALLOFF)
    assert np.allclose(fall["eyes"], eyes, atol=1e-5)
    k = names.index("eyeBlinkLeft")
    iod = float(np.linalg.norm(EYES[0] - EYES[1]))
    near_before = _share_near(v, before[k], EYES[0], iod)
    near_after = _share_near(v, after[k], EYES[0], iod)
    assert near_before < 0.2 and near_after > 0.5  # (0.12 -> 0.60: the far bumps are wide, their near parts stay)
    m = np.linalg.norm(after[k], axis=1)
    assert (
        m[np.linalg.norm(v - EYES[0], axis=1) > (CARVED_FALLOFF["outer"] + 0.1) * fall["face_size"]].max() == 0.0
    )  # the crown is still
    assert np.allclose(
        m[np.linalg.norm(v - EYES[0], axis=1) < 0.1],
        np.linalg.norm(d[k], axis=1)[np.linalg.norm(v - EYES[0], axis=1) < 0.1],
    )  # the eye's own motion is kept
    for n in names[:-2]:  # no eye shape moves the other eye's side (the last far bump lies there)
        other = v[:, 0] <= eyes.mean(0)[0] if n.endswith("Left") else v[:, 0] >= eyes.mean(0)[0]
        assert np.abs(after[names.index(n)][other]).max() < 1e-6, n  # (the plane between the found eyes)


def test_heads_with_eyeballs_or_local_blinks_keep_the_blinks_eyes():
    v, f = _head(eyeballs=True)
    names, d = _rig(v, spread=True)
    assert carved_eyes(v, f, d, names) == (None, {})  # eyeballs: the eyelid step's eyes
    v, f = _head()
    names, d = _rig(v, spread=False)
    assert carved_eyes(v, f, d, names) == (None, {})  # the blinks already look like a face


def test_carved_eyes_in_the_inputs_axes():
    from facerig.geometry.frame import orientation_matrix

    v, f = _head()
    names, d = _rig(v, spread=True)
    rot = orientation_matrix("+z", "-y")  # canonical = rot @ input (Blender's axes)
    eyes, _ = carved_eyes(v @ rot, f, d @ rot, names, up="+z", forward="-y")
    assert eyes is not None and np.linalg.norm(eyes - EYES @ rot, axis=1).max() < 0.08
