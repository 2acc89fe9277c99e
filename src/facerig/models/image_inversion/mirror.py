"""Mirror test-time augmentation: read a frame and its horizontal mirror image, swap the mirror's Left / Right
weights back and average.

Mirroring an image of a face shows the same face with its sides exchanged: ``eyeBlinkLeft`` of the mirror
image is ``eyeBlinkRight`` of the original (:func:`facerig.arkit.mirror_permutation`). In a camera-space
normal map the x component changes sign on the head (R -> 1 - R in the ``(n + 1) / 2`` encoding), and
only there: the background keeps its colour (the training's mirroring, :func:`facerig.train.image_inversion.augment_batch`).
"""

from __future__ import annotations

import numpy as np

from facerig.arkit import mirror_permutation

#: A normal-map pixel is on the head when its decoded length is within this of 1.
UNIT_TOLERANCE = 0.15


def normals_foreground(normals: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) normal map(s) in [0, 1] (RGB = (n + 1) / 2) -> (..., H, W) float32, 1 where the pixel
    decodes to a unit normal (the head), else 0."""
    n = np.asarray(normals, np.float32) * 2 - 1
    return (np.abs(np.linalg.norm(n, axis=-1) - 1) < UNIT_TOLERANCE).astype(np.float32)


def mirror_images(
    rgb: np.ndarray | None, normals: np.ndarray | None, foreground: np.ndarray | None = None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Horizontal mirror images of a batch.

    Args:
        rgb: (B, S, S, 3) in [0, 1] or None.
        normals: (B, S, S, 3) camera-space normal maps in [0, 1] or None.
        foreground: (B, S, S) soft head mask of the normal maps in [0, 1] (default :func:`normals_foreground`):
            R -> 1 - R is blended in by it (antialiased edges), the background keeps its colour.

    Returns:
        (rgb (B, S, S, 3) or None, normals (B, S, S, 3) or None), new arrays.
    """
    out_rgb = None if rgb is None else np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
    out_n = None
    if normals is not None:
        n = np.array(np.asarray(normals)[:, :, ::-1], dtype=np.float32)
        m = normals_foreground(n) if foreground is None else np.asarray(foreground, np.float32)[:, :, ::-1]
        n[..., 0] = m * (1 - n[..., 0]) + (1 - m) * n[..., 0]
        out_n = n
    return out_rgb, out_n


def unmirror_weights(weights: np.ndarray, names=None) -> np.ndarray:
    """(..., K) weights read on mirror images -> the weights of the original frames (Left <-> Right columns
    swapped; ``names`` the K shape names, default ARKit-52 order)."""
    perm = mirror_permutation() if names is None else mirror_permutation(names)
    return np.asarray(weights)[..., perm]


def combine_head_logits(logit: np.ndarray, logit_mirror: np.ndarray) -> np.ndarray:
    """(N,) head-presence logits of the frames and of their mirror images -> (N,) one logit: their mean (the two
    readings averaged, as the weights are; the lower of the two flagged real heads on the held-out set)."""
    return 0.5 * (np.asarray(logit) + np.asarray(logit_mirror))
