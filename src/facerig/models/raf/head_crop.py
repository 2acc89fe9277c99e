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
    from facerig.models.raf.probe import NotAHeadError
    from facerig.models.registry import MethodOutput

    up, forward = options.get("up", "+y"), options.get("forward", "+z")
    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    region = locate_head(v, f, up, forward)
    if region is None:
        return None
    inside = crop_vertices(v, f, region, up, forward)
    idx = np.flatnonzero(inside)
    crop = _crop(mesh, inside)
    try:
        out, meta = rig_oriented(fn, crop, **options)
    except NotAHeadError as e:
        raise NotAHeadError(f"found a head on a body (the top {len(idx):,} of {len(v):,} vertices), but: {e}") from None
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


def _crop(mesh, inside: np.ndarray):
    """The sub-mesh of ``mesh`` on the vertices ``inside`` (V,) bool: its faces wholly inside."""
    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    idx = np.flatnonzero(inside)
    index = np.full(len(v), -1, np.int64)
    index[idx] = np.arange(len(idx))
    return dataclasses.replace(
        mesh,
        vertices=v[idx],
        faces=index[f[inside[f].all(1)]],
        polygons=None,
        uv=None,
        uv_faces=None,
        normals=None,
        groups=None,
        group_names=[],
        info={},
    )


AXES = ("+x", "-x", "+y", "-y", "+z", "-z")

#: :func:`body_axes`: a body lying in other axes is named only where its head is at most this share
#: of its height (a standing body: about 1/7) and the face probe finds a plausible face on the head's
#: crop scoring at most :data:`BODY_SCORE` (as :data:`facerig.models.raf.orientation.CONFIRM_SCORE`).
BODY_FRACTION = 0.3
BODY_SCORE = 0.45


def body_axes(mesh, options: dict | None = None) -> tuple[str, str] | None:
    """``(up, forward)`` of a body lying in other axes than the ones given, or None: of the 24
    axis-aligned orientations, those in which :func:`~facerig.geometry.head_locate.locate_head` finds
    a head on a body (at most :data:`BODY_FRACTION` of the height; one crop per up axis), the one in
    which the face probe finds the most plausible face on that crop (:func:`facerig.models.raf.orientation.probe_candidates`;
    at most :data:`BODY_SCORE`). For the head check's refusal (:func:`facerig.models.registry.rig_mesh`):
    a body in Blender's axes is named as one, not mistaken for a turned head. mesh: vertices (V, 3), faces (F, 3)."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.head_locate import SAMPLES, crop_vertices, locate_in_samples
    from facerig.geometry.orient import surface_samples
    from facerig.models.raf.orientation import probe_candidates

    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    pts, _ = surface_samples(v, f, n=SAMPLES, seed=0)  # once; turned for each orientation
    best = None
    for up in AXES:
        found = []
        for fw in (a for a in AXES if a[1] != up[1]):
            region = locate_in_samples(pts @ orientation_matrix(up, fw).T)
            if region is not None and region.fraction <= BODY_FRACTION:
                found.append((fw, region))
        if not found:
            continue
        crop = _crop(mesh, crop_vertices(v, f, found[0][1], up, found[0][0]))  # one crop per up axis
        if crop.num_vertices < 100:
            continue
        for c, (check, score) in probe_candidates(crop, [(up, fw) for fw, _ in found], options or {}).items():
            if check == "ok" and score <= BODY_SCORE and (best is None or score < best[0]):
                best = (score, c)
    return None if best is None else best[1]
