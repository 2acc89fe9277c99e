"""Helpers of the RigAnyFace tests (imported by the test modules of this folder)."""

from __future__ import annotations

import numpy as np

from facerig.io.mesh import Mesh


def _head(tiny_head):
    """The tiny head with a little noise: a perfectly regular mesh has exact ties between nearest
    boundary/part vertices, where the local features' direction may flip with round-off."""
    v, f = tiny_head(8, 12)
    return v + np.random.default_rng(3).normal(0, 2e-3, v.shape), f


def _rig(v, f, weights, **kw):
    """``rig_raf`` without the head check by default: random weights find no face."""
    from facerig.models.raf.method import rig_raf

    kw.setdefault("head_check", False)
    return rig_raf(Mesh(vertices=v, faces=f), weights=weights, **kw)
