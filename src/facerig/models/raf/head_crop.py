"""Rig the head of a body or bust (``raf``): crop it, rig the crop, put the rig back.

A whole character (MakeHuman, Mixamo, VRM) or a head-and-shoulders bust reaches the network as it
is: the face probe measured the whole body as a head and the rig moved the wrong places.
:func:`rig_head_on_body` finds the head from the mesh's shape
(:func:`facerig.geometry.head_locate.locate_head`, in the ``up`` / ``forward`` axes given), rigs
the crop (the head, the neck and the top of the shoulders, with the separate parts inside it:
eyeballs, teeth, tongue, lashes; :func:`~facerig.geometry.head_locate.crop_vertices`) through the
head check's orientation logic (:func:`facerig.models.raf.orientation.rig_oriented`), and scatters
the crop's deltas back into the whole mesh: every vertex outside the crop keeps exactly zero, and
the crop's motion is faded to zero at its lower end (:data:`CUT_FADE`; the rig's far-from-face
falloff, :func:`facerig.models.finish.face_falloff`, has already faded it there on a body).

A mesh the locator takes for a head (every head of the validation set and of ``FACERIG_DATA/heads``)
does not come here: its rig is the one it had before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

#: The crop's motion rises from zero at its lower end to full over this many head heights.
CUT_FADE = 0.25


def rig_head_on_body(fn, mesh, **options: Any):
    """``(MethodOutput, meta)`` for the whole ``mesh`` (deltas (K, V, 3), zero outside the head),
    with ``meta["head_on_body"]`` (the region found, the crop's vertex count), or None when
    :func:`~facerig.geometry.head_locate.locate_head` finds no body under a head (then rig the mesh
    as it is). ``fn`` is the ``raf`` method, ``options`` its options (``up``, ``forward`` ...).
    Raises :class:`~facerig.models.raf.probe.NotAHeadError` when the crop is refused."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.head_locate import crop_vertices, locate_head
    from facerig.models.finish import _fade
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.registry import MethodOutput

    up, forward = options.get("up", "+y"), options.get("forward", "+z")
    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    region = locate_head(v, f, up, forward)
    if region is None:
        return None
    inside = crop_vertices(v, f, region, up, forward)
    idx = np.flatnonzero(inside)
    index = np.full(len(v), -1, np.int64)
    index[idx] = np.arange(len(idx))
    sub_faces = index[f[inside[f].all(1)]]
    crop = dataclasses.replace(
        mesh,
        vertices=v[idx],
        faces=sub_faces,
        polygons=None,
        uv=None,
        uv_faces=None,
        normals=None,
        groups=None,
        group_names=[],
        info={},
    )
    out, meta = rig_oriented(fn, crop, **options)
    height = (v[idx] @ orientation_matrix(up, forward).T)[:, 1]
    w = 1.0 - _fade(height - region.cut, 0.0, CUT_FADE * region.head_height)  # 0 at the cut, 1 above
    d = np.asarray(out.deltas, np.float32)
    full = np.zeros((d.shape[0], len(v), 3), np.float32)
    full[:, idx] = d * w[None, :, None].astype(np.float32)
    meta = {
        **meta,
        "head_on_body": {**region.as_dict(), "vertices": int(len(idx)), "of": int(len(v))},
    }
    return MethodOutput(names=list(out.names), deltas=full, meta=dict(out.meta)), meta
