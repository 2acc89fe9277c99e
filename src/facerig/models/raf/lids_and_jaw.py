"""The rig's eyelid and jaw steps on the network's shapes, one beside the other where the host allows.

:func:`lids_and_jaw` is what :func:`facerig.models.raf.method.rig_raf` does after the transfer to
the input's vertices: the eyeballs made rigid in every shape
(:func:`facerig.geometry.rigid.rigid_part_deltas`), eyeBlinks completed
(:func:`facerig.geometry.eyelids.close_blinks`), then a jawOpen that leaves the mouth closed turned
about a hinge (:func:`facerig.geometry.jaw.open_jaw`).

The two steps touch disjoint shapes: the eyelid step reads and writes the two eyeBlinks only, the
jaw step jawOpen and mouthClose only (both on the head's geometry and part layout, which neither
changes). So after the rigid eyeballs the jaw step can run in a forked child
(:func:`facerig.parallel.fork_call`, where the host process asked for it and a core is idle:
:func:`facerig.parallel.beside_allowed`; not by default) while
this process completes the blinks; its two shapes are then written into the result. The rig is the
same bit for bit either way (``tests/models/raf/test_lids_and_jaw.py``). On the 2-core VM the forks
(of a process grown large by the network) cost more CPU than the idle core gave back, so they are off
by default (BENCHMARKS.md "Rig speed end to end").
"""

from __future__ import annotations

import time

import numpy as np

#: The shapes :func:`facerig.geometry.jaw.open_jaw` may change (it reads no other).
JAW_SHAPES = ("jawOpen", "mouthClose")


def _jaw_rows(vertices: np.ndarray, faces: np.ndarray, names: list[str], deltas: np.ndarray, layout) -> tuple:
    """:func:`~facerig.geometry.jaw.open_jaw` of ``deltas`` (K, V, 3), returned as the rows it
    changed: ``({shape index: (V, 3) row}, report, seconds)`` (what a forked child sends back)."""
    from facerig.geometry.jaw import open_jaw

    t = time.perf_counter()
    out, report = open_jaw(vertices, faces, names, deltas, layout=layout)
    rows = {}
    if out is not deltas:
        rows = {names.index(n): np.array(out[names.index(n)]) for n in JAW_SHAPES if n in names}
    return rows, report, time.perf_counter() - t


def _blink_rows(vertices: np.ndarray, faces: np.ndarray, names: list[str], deltas: np.ndarray, layout, side: str):
    """:func:`~facerig.geometry.eyelids.close_blinks` of one eye (``side``) of ``deltas`` (K, V, 3),
    returned as its eyeBlink's row where the step changed the rig: ``({shape index: (V, 3) row}, report)``."""
    from facerig.geometry.eyelids import close_blinks

    out, report = close_blinks(vertices, faces, names, deltas, layout=layout, sides=(side,))
    k = names.index("eyeBlink" + side)
    return ({k: np.array(out[k])} if out is not deltas else {}), report


def lids_and_jaw(
    vertices: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    labels: np.ndarray,
    *,
    close_eyes: bool = True,
    open_mouth: bool = True,
    side_by_side: bool = False,
    timings: dict | None = None,
    layout=None,
) -> tuple[np.ndarray, dict | None, dict | None]:
    """The eyelid and jaw steps of a rig: ``(deltas (K, V, 3), eyelid report or None, jaw report or None)``.

    vertices (V, 3) neutral and faces (F, 3) in the canonical frame (the stitched head's), names (K,)
    of the deltas (K, V, 3) (the rig's own array: the eyeballs' rows are made rigid in place), labels
    (V,) the part of each vertex (seams stitched); ``deltas`` may be changed in place. ``close_eyes``: eyeballs rigid and eyeBlinks
    completed; ``open_mouth``: the jaw step. ``side_by_side``: with both, run the jaw step in a forked
    child beside the eyelid step where :func:`facerig.parallel.can_fork` (else in turn; same result).
    ``timings`` (optional dict): gets ``eyelids`` and ``jaw`` seconds. ``layout``: the head's
    :func:`~facerig.geometry.face_parts.find_layout` of these labels when already found (the rig's
    forked probe finds it)."""
    from facerig.geometry.face_parts import find_layout

    timings = {} if timings is None else timings
    moved, eyelids, jaw = deltas, None, None
    if close_eyes:
        from facerig.geometry.eyelids import close_blinks
        from facerig.geometry.rigid import rigid_part_deltas

        te = time.perf_counter()
        layout = find_layout(vertices, faces, labels) if layout is None else layout
        for p in layout.eyeball_parts:  # eyeballs turn in their sockets, they do not bend
            moved = rigid_part_deltas(vertices, moved, labels == p, copy=False)
        jobs, own_side = [], None  # forked children: the jaw step's, the second eye's
        if side_by_side:
            from facerig.parallel import beside_allowed, fork_call

            side_by_side = beside_allowed()  # (a fork only adds CPU time where every core is busy)
        if side_by_side:
            if open_mouth:
                jobs.append(fork_call(_jaw_rows, vertices, faces, names, moved, layout))
            sides = [e.side for e in layout.eyes if "eyeBlink" + e.side in names]
            if len(sides) == 2:  # the second eye in a child of its own
                jobs.append(fork_call(_blink_rows, vertices, faces, names, moved, layout, sides[1]))
                own_side = (sides[0],)
            if any(job is None for job in jobs):  # no fork here: all in turn
                for job in jobs:
                    if job is not None:
                        job.cancel()
                jobs = []
        if not jobs:
            moved, eyelids = close_blinks(vertices, faces, names, moved, layout=layout)
            timings["eyelids"] = time.perf_counter() - te
        else:
            import contextlib

            with contextlib.ExitStack() as stack:
                for job in jobs:
                    stack.enter_context(job)
                lids, own = close_blinks(vertices, faces, names, moved, layout=layout, sides=own_side)
                results = [job.result() for job in jobs]
            timings["eyelids"] = time.perf_counter() - te
            reports = dict(own)
            if open_mouth:
                rows, jaw, timings["jaw"] = results.pop(0)
                for k, row in rows.items():  # into the rig's own array, as open_jaw's copy would hold them
                    lids[k] = row
            for rows, report in results:  # the other eye's blink
                reports.update(report)
                for k, row in rows.items():
                    lids[k] = row
            # the report in the order close_blinks gives it: eyes in the layout's order
            eyelids = {n: reports[n] for n in ("eyeBlink" + e.side for e in layout.eyes) if n in reports}
            return lids, eyelids, jaw
    if open_mouth:
        from facerig.geometry.jaw import open_jaw

        tj = time.perf_counter()
        lay = find_layout(vertices, faces, labels) if layout is None else layout
        moved, jaw = open_jaw(vertices, faces, names, moved, layout=lay)
        timings["jaw"] = time.perf_counter() - tj
    return moved, eyelids, jaw
