"""The head check's orientation logic for :func:`facerig.models.registry.rig_mesh` (``raf``).

The face probe (:func:`facerig.models.raf.probe.face_landmarks`) judges a face by where it puts
the eyes and the mouth; on a head unlike its training heads (a statue, a robot, a creature) it
can misjudge an upright head, and in a wrong orientation it can now and then find a plausible
face. The shape prior of :mod:`facerig.geometry.orient` ranks the 24 axis-aligned orientations
in milliseconds; the probe (~0.2 s each) then only looks at the first :data:`PROBED` of them:

- :func:`judge_orientation`: when the probe rejects the head in the orientation given, the head
  is refused only if one of the prior's first candidates passes the check (the error names its
  ``--up``/``--forward``), or as no head at all if every candidate fails outright; otherwise it
  is rigged in the orientation given, with a warning.
- :func:`find_orientation` (``--auto-orient``): of the prior's first :data:`AUTO_PROBED`
  candidates, the one whose probed face scores best (:func:`choose`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

#: Candidates of :func:`facerig.geometry.orient.rank_orientations` the face probe looks at: in
#: the head check (the orientation given and the prior's first others, up to this many in all),
#: and for ``--auto-orient`` (:data:`AUTO_PROBED`).
PROBED = 3
AUTO_PROBED = 2


def choose(candidates, probes: dict) -> tuple[str, str]:
    """``--auto-orient``'s pick among the prior's first candidates: the one whose probed face
    scores best (:func:`facerig.models.raf.probe.face_check_score`; ties: the prior's order).
    ``benchmarks/orientation.py`` compared this with "the best that passes, else the prior's
    first" and "the best that passes, else the first that does not fail outright" over the public
    heads: fewer misses (BENCHMARKS.md, "Head check and orientation")."""
    return min(candidates, key=lambda c: (probes[c][1], list(candidates).index(c)))


def probe_candidates(mesh, candidates, options: dict) -> dict[tuple[str, str], tuple[str, float]]:
    """``{(up, forward): (check, score)}`` of the face probe in each candidate orientation
    (:func:`facerig.models.raf.probe.suggest_orientation` on those only, on a proxy of the
    probe's size, :data:`~facerig.models.raf.probe.FACE_PROBE_VERTICES`)."""
    from facerig.models.raf.probe import FACE_PROBE_VERTICES, suggest_orientation

    kw = {k: options[k] for k in ("weld", "weights") if k in options}
    # the probe's own resolution straight from the mesh: no rig-sized proxy to build first
    rows = suggest_orientation(mesh, orientations=tuple(candidates), proxy_vertices=FACE_PROBE_VERTICES, **kw)
    return {(u, f): (st, float(sc)) for u, f, st, sc in rows}


def _ranked(mesh) -> list[tuple[str, str, float]]:
    from facerig.geometry.orient import rank_orientations

    with np.errstate(all="ignore"):
        return rank_orientations(np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64))


def find_orientation(mesh, options: dict) -> tuple[str, str, dict]:
    """``(up, forward, info)``: the orientation of ``mesh`` (V, 3) / (F, 3) by the shape prior
    and the face probe (module doc); ``info`` holds the candidates' checks and the seconds."""
    t0 = time.perf_counter()
    ranked = _ranked(mesh)
    cands = [(u, f) for u, f, _ in ranked[:AUTO_PROBED]]
    probes = probe_candidates(mesh, cands, options)
    best = choose(cands, probes)
    info = {
        "found": True,
        "up": best[0],
        "forward": best[1],
        "seconds": round(time.perf_counter() - t0, 3),
        "candidates": [[c[0], c[1], probes[c][0], round(probes[c][1], 4)] for c in cands],
    }
    return best[0], best[1], info


def judge_orientation(mesh, up: str, forward: str, options: dict) -> tuple[str, tuple[str, str] | None, dict]:
    """What to do with a head the probe rejected in (``up``, ``forward``): ``("refuse", better,
    info)`` when another of the prior's first candidates passes the check (``better``), or
    ``("refuse", None, info)`` when every one fails outright (no head), else ``("rig", None,
    info)``."""
    t0 = time.perf_counter()
    ranked = _ranked(mesh)
    cands = [(u, f) for u, f, _ in ranked[:PROBED] if (u, f) != (up, forward)][: PROBED - 1]
    probes = probe_candidates(mesh, cands, options)
    info = {
        "candidates": [[c[0], c[1], probes[c][0], round(probes[c][1], 4)] for c in cands],
        "prior_rank": next(i for i, r in enumerate(ranked) if r[:2] == (up, forward)),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    ok = [c for c in cands if probes[c][0] == "ok"]
    if ok:
        return "refuse", min(ok, key=lambda c: probes[c][1]), info
    if all(probes[c][0] == "error" for c in cands):
        return "refuse", None, info
    return "rig", None, info


def rig_oriented(fn, mesh, *, auto_orient: bool = False, **options: Any):
    """Run the ``raf`` method ``fn`` on ``mesh`` with the orientation logic of the module doc
    (the head check's part only where ``options`` leave it on: ``head_check`` and ``face_frame``
    not False): ``(MethodOutput, meta)`` with ``meta["orientation"]`` when orientation was
    searched or judged. Raises :class:`facerig.models.raf.probe.NotAHeadError` with the
    refusal's one line."""
    from facerig.models.raf.probe import NotAHeadError

    head_check = options.get("head_check", True) is not False and options.get("face_frame", True) is not False

    meta: dict[str, Any] = {}
    name = mesh.source or "mesh"
    if auto_orient:
        up, forward, info = find_orientation(mesh, options)
        if all(c[2] == "error" for c in info["candidates"]):
            raise NotAHeadError(
                f"{name}: in no axis-aligned orientation does it look like a head to the network "
                f"(best: --up {up} --forward {forward})"
            )
        options = {**options, "up": up, "forward": forward}
        meta["orientation"] = info
        with np.errstate(all="ignore"):
            try:
                return fn(mesh, **options), meta
            except NotAHeadError:  # the prior and the probe agreed on it: rig it, with the probe's warning
                return fn(mesh, **{**options, "head_check": False}), meta
    if not head_check:
        with np.errstate(all="ignore"):
            return fn(mesh, **options), meta
    up, forward = options.get("up", "+y"), options.get("forward", "+z")
    with np.errstate(all="ignore"):
        try:
            out = fn(mesh, **options)
        except NotAHeadError as e:
            verdict, better, info = judge_orientation(mesh, up, forward, options)
            if verdict == "refuse":
                hint = (
                    f"it does with --up {better[0]} --forward {better[1]}"
                    if better
                    else "if it is one, give its orientation with --up/--forward"
                )
                raise NotAHeadError(
                    f"{name}: does not look like a head ({e}); {hint}, or rig it anyway with --no-head-check"
                ) from None
            out = fn(mesh, **{**options, "head_check": False})
            meta["orientation"] = {
                **info,
                "up": up,
                "forward": forward,
                "warning": "the face probe found no plausible face, but no other orientation looks more like a head",
            }
            return out, meta
    face = (out.meta.get("raf") or {}).get("face_frame") or {}
    if face.get("check") == "warn":
        better = clearly_better(mesh, up, forward, options)
        if better is not None:
            raise NotAHeadError(
                f"{name}: does not look like a head with --up {up} --forward {forward} "
                f"({'; '.join(face.get('check_reasons', []))}); it does with --up {better[0]} "
                f"--forward {better[1]}, or rig it anyway with --no-head-check"
            )
    return out, meta


def clearly_better(mesh, up: str, forward: str, options: dict) -> tuple[str, str] | None:
    """For a head the probe finds odd (``warn``) in (``up``, ``forward``): the prior's first
    candidate when it is another orientation and the probe finds a plausible face there
    (``ok``) scoring under half of the given one's, else None."""
    first = _ranked(mesh)[0][:2]
    if first == (up, forward):
        return None
    probes = probe_candidates(mesh, [first, (up, forward)], options)
    if probes[first][0] == "ok" and probes[first][1] < 0.5 * probes[(up, forward)][1]:
        return first
    return None
