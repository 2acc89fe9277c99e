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
#: :func:`body_axes` asks the face probe about the crops of at most this many up axes, the widest
#: head first (a hand the locator takes for a head on an arm is narrower than the head).
PROBED_UPS = 2
#: :func:`body_axes` finds the mesh's mirror axis on this many of its surface samples.
MIRROR_SAMPLES = 4000


def body_axes(mesh, options: dict | None = None) -> tuple[str, str] | None:
    """``(up, forward)`` of a body lying in other axes than the ones given, or None: of the 24
    axis-aligned orientations, those in which :func:`~facerig.geometry.head_locate.locate_head` finds
    a head on a body (at most :data:`BODY_FRACTION` of the height), the one in which the face probe
    finds the most plausible face (:func:`facerig.models.raf.orientation.probe_candidates`; at most
    :data:`BODY_SCORE`) on the head's crop. For the head check's refusal
    (:func:`facerig.models.registry.rig_mesh`) and ``--auto-orient``: a body in Blender's axes is
    named as one, not mistaken for a turned head. mesh: vertices (V, 3), faces (F, 3).

    What it costs (the locator's cheap test first, the probe's network passes last):

    - where the mesh has a clear mirror plane (:data:`facerig.models.raf.orientation.MIRROR_CLEAR`,
      on :data:`MIRROR_SAMPLES` samples), only the orientations whose left-right axis crosses it are
      searched (a standing body's hands, found as "heads" on its arms along +-x, are not);
    - an up axis with a head found is one crop; the crops are probed widest head first, at most
      :data:`PROBED_UPS` of them, and the search stops at the first with a plausible face.

    A mesh the locator finds no body in (every head of the validation set and of
    ``FACERIG_DATA/heads``) costs its surface samples and the locator's width profiles, no network pass."""
    from facerig.geometry.head_locate import SAMPLES, crop_vertices, locate_in_samples, turn_points
    from facerig.geometry.orient import candidate_matrix, surface_samples, symmetry_residuals
    from facerig.models.raf.orientation import MIRROR_CLEAR, probe_candidates

    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    pts, _ = surface_samples(v, f, n=SAMPLES, seed=0)  # once; turned for each orientation
    if len(pts) == 0 or not np.isfinite(pts).all():
        return None
    sym = symmetry_residuals(pts[:: max(1, len(pts) // MIRROR_SAMPLES)])
    order = np.argsort(sym)
    clear = float(sym[order[1]] / max(float(sym[order[0]]), 1e-12)) >= MIRROR_CLEAR
    ups = []
    for up in AXES:
        found = []
        for fw in (a for a in AXES if a[1] != up[1]):
            if clear and int(np.argmax(np.abs(candidate_matrix(up, fw)[0]))) != int(order[0]):
                continue  # its left-right axis is not the mirror axis
            region = locate_in_samples(turn_points(pts, up, fw))
            if region is not None and region.fraction <= BODY_FRACTION:
                found.append((fw, region))
        if found:
            ups.append((up, found))
    ups.sort(key=lambda u: -max(r.head_width for _, r in u[1]))  # the widest head first (stable)
    probed = 0
    for up, found in ups:
        if probed == PROBED_UPS:
            break
        crop = _crop(mesh, crop_vertices(v, f, found[0][1], up, found[0][0]))  # one crop per up axis
        if crop.num_vertices < 100:
            continue
        probed += 1
        best = None
        for c, (check, score) in probe_candidates(crop, [(up, fw) for fw, _ in found], options or {}).items():
            if check == "ok" and score <= BODY_SCORE and (best is None or score < best[0]):
                best = (score, c)
        if best is not None:
            return best[1]
    return None
