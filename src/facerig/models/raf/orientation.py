"""The head check's orientation logic for :func:`facerig.models.registry.rig_mesh` (``raf``).

The face probe (:func:`facerig.models.raf.probe.face_landmarks`) judges a face by where it puts
the eyes and the mouth; on a head unlike its training heads (a statue, a robot, a creature) it
can misjudge an upright head, and in a wrong orientation it can now and then find a plausible
face. The shape prior of :mod:`facerig.geometry.orient` (mirror symmetry, then shape cues) ranks
the 24 axis-aligned orientations in a fraction of a second:

- :func:`judge_orientation` (the head check, when the probe finds no plausible face or an odd
  one in the orientation given): the prior decides (:func:`verdict`), so the check costs
  the prior and, only where the prior ranks another orientation first without being sure of it
  (:func:`unsure_first`), one face probe there: refused as turned when the given
  orientation's left-right axis is not the head's mirror axis, or the prior is sure of another
  orientation, or the probe finds a plausible face in the prior's unsure first (the error names
  it where the prior is sure or the probe agrees); refused as no
  head when a rejected mesh has no clear mirror plane; else rigged, with the probe's warning.
- :func:`find_orientation` (``--auto-orient``): the face probe on the prior's first
  :data:`AUTO_PROBED` candidates, a plausible face weighed with the prior (:func:`choose`); the
  mesh is refused only where the probe finds no face in any and it has no clear mirror plane
  (:func:`no_head_found`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

#: Candidates of :func:`facerig.geometry.orient.rank_orientations` the face probe looks at for
#: ``--auto-orient``.
AUTO_PROBED = 3

#: :func:`choose`: a candidate in which the face probe finds a plausible face (``"ok"``) gains
#: ``PROBE_WEIGHT`` x -log(probe score) (the score floored at :data:`PROBE_FLOOR`; an ideal face
#: scores 0, the warn limits 1) on top of its prior score (log-odds); an odd face or none
#: (``"warn"``, ``"error"``) counts for nothing. On heads unlike its training heads the probe
#: rejects the upright head (a robot with no mouth: 11.0; a statue: 2.8) as readily as a turned
#: one, and finds an odd face in a turned one, so only a plausible face is evidence.
PROBE_WEIGHT = 2.0
PROBE_FLOOR = 0.05

#: :func:`verdict`: the mirror axis counts when its residual is this many times smaller than the
#: next axis's (1.7 to 7.3 on the public and validation heads; about 1 for a sphere or a box).
MIRROR_CLEAR = 1.5

#: :func:`verdict`: a rejected or odd head is refused as turned when the prior ranks the
#: orientation given this much below its first, and its first this much above its second (prior
#: log-odds: odds of about 7 to 1; in the prior's cross-validation on 400 generated heads one of
#: the six wrong firsts led by more, 3.05, ``benchmarks/results/orientation_fit.json``, and the
#: eye test of :func:`verdict` guards the naming).
JUDGE_GAP = 2.0

#: :func:`judge_orientation`: where the prior is not sure of its first orientation
#: (:func:`unsure_first`), the face probe decides: a plausible face there scoring at most this
#: (:func:`facerig.models.raf.probe.face_check_score`; as :data:`facerig.models.raf.pitch.MAX_SCORE`)
#: names it.
CONFIRM_SCORE = 0.45


def choose(candidates, probes: dict, prior: dict) -> tuple[str, str]:
    """``--auto-orient``'s pick among the prior's first candidates ``[(up, forward), ...]``: the
    largest ``prior[c]`` plus ``PROBE_WEIGHT * -log(max(probe score, PROBE_FLOOR))`` where the
    probe finds a plausible face (``probes[c]`` = ``(check, score)`` of
    :func:`probe_candidates`; ties: the prior's order). The probe alone (the best face) is fooled
    by heads it misreads (a robot with no mouth, a llama it sees facing up), and its rejections
    mislead on heads it cannot read (the robot, the bust), so they weigh nothing."""
    cands = list(candidates)

    def value(c):
        check, sc = probes[c][0], float(probes[c][1])
        bonus = PROBE_WEIGHT * -np.log(max(sc, PROBE_FLOOR)) if check == "ok" and np.isfinite(sc) else 0.0
        return (float(prior[c]) + max(bonus, 0.0), -cands.index(c))

    return max(cands, key=value)


def probe_candidates(mesh, candidates, options: dict) -> dict[tuple[str, str], tuple[str, float]]:
    """``{(up, forward): (check, score)}`` of the face probe in each candidate orientation
    (:func:`facerig.models.raf.probe.suggest_orientation` on those only, on a proxy of the
    probe's size, :data:`~facerig.models.raf.probe.FACE_PROBE_VERTICES`)."""
    from facerig.models.raf.probe import FACE_PROBE_VERTICES, suggest_orientation

    kw = {k: options[k] for k in ("weld", "weights") if k in options}
    # the probe's own resolution straight from the mesh: no rig-sized proxy to build first
    rows = suggest_orientation(mesh, orientations=tuple(candidates), proxy_vertices=FACE_PROBE_VERTICES, **kw)
    return {(u, f): (st, float(sc)) for u, f, st, sc in rows}


def _prior(mesh, options: dict | None = None) -> tuple[list[tuple[str, str, float]], dict]:
    """The prior's ranking of ``mesh`` and its features (seams stitched as the rig does)."""
    from facerig.geometry.orient import orientation_features, rank_orientations

    kw = {"weld": float(options["weld"])} if options and "weld" in options else {}
    v, f = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64)
    with np.errstate(all="ignore"):
        feats = orientation_features(v, f, **kw)
        return rank_orientations(v, f, features=feats), feats


def find_orientation(mesh, options: dict) -> tuple[str, str, dict]:
    """``(up, forward, info)``: the orientation of ``mesh`` (V, 3) / (F, 3) by the shape prior
    and the face probe (module doc); ``info`` holds the candidates' checks and the seconds."""
    from facerig.geometry.orient import mirror_axis

    t0 = time.perf_counter()
    ranked, feats = _prior(mesh, options)
    prior = {(u, f): s for u, f, s in ranked[:AUTO_PROBED]}
    cands = list(prior)
    probes = probe_candidates(mesh, cands, options)
    best = choose(cands, probes, prior)
    info = {
        "found": True,
        "up": best[0],
        "forward": best[1],
        "seconds": round(time.perf_counter() - t0, 3),
        "candidates": [[c[0], c[1], probes[c][0], round(probes[c][1], 4), round(prior[c], 2)] for c in cands],
        "mirror_clarity": round(mirror_axis(feats)[1], 2),
    }
    return best[0], best[1], info


def no_head_found(info: dict) -> bool:
    """Whether ``--auto-orient`` refuses the mesh (``info`` of :func:`find_orientation`): the probe
    found no face in any candidate and the mesh has no clear mirror plane (:data:`MIRROR_CLEAR`).
    A clearly mirror-symmetric mesh is rigged in the prior's choice even when the probe rejects
    every candidate (a robot with no mouth, a statue)."""
    return all(c[2] == "error" for c in info["candidates"]) and info.get("mirror_clarity", 0.0) < MIRROR_CLEAR


def verdict(ranked, features: dict, up: str, forward: str, check: str) -> tuple[str, tuple[str, str] | None]:
    """The head check's decision for a head the probe found ``check`` (``"error"``: no plausible
    face; ``"warn"``: an odd one; ``"ok"``: a plausible one, where only the mirror axis can
    overrule it) in (``up``, ``forward``), from the prior alone (``ranked`` of
    :func:`facerig.geometry.orient.rank_orientations`, ``features`` of
    :func:`~facerig.geometry.orient.orientation_features`):

    - ``("refuse", None)``: rejected and no clear mirror plane (:data:`MIRROR_CLEAR`): no head;
    - ``("turned", better)``: the given orientation's left-right axis is not the clear mirror axis
      (the head is turned about its up or forward axis), or, for a rejected or odd face, the prior
      is sure of another orientation and ranks the given one :data:`JUDGE_GAP` below it;
      ``better`` is the prior's first where the prior is sure (its first leads its second by
      :data:`JUDGE_GAP` and puts the head's eyeball-like parts, if any, above its middle), else
      None (a creature it may see upside down);
    - ``("rig", None)``: else (rigged with the probe's warning)."""
    from facerig.geometry.orient import candidate_matrix, mirror_axis

    axis, clear = mirror_axis(features)
    if check == "error" and clear < MIRROR_CLEAR:
        return "refuse", None
    first = tuple(ranked[0][:2])
    if first == (up, forward):
        return "rig", None
    sure = ranked[0][2] - ranked[1][2] >= JUDGE_GAP and _eyes_above_middle(features, first)
    right = int(np.argmax(np.abs(candidate_matrix(up, forward)[0])))
    if clear >= MIRROR_CLEAR and right != axis:
        return "turned", first if sure else None
    given = next(s for u, f, s in ranked if (u, f) == (up, forward))
    if check in ("error", "warn") and sure and ranked[0][2] - given >= JUDGE_GAP:
        return "turned", first
    return "rig", None


def _eyes_above_middle(features: dict, orientation: tuple[str, str]) -> bool:
    """Whether ``orientation`` puts the eyeball-like parts of ``features`` (``eyes``) above the
    head's middle (True for a head with none): eyes sit in the upper half of every head."""
    from facerig.geometry.orient import candidate_matrix

    eyes = np.asarray(features.get("eyes", np.zeros(3)), np.float64)
    return not eyes.any() or float((candidate_matrix(*orientation) @ eyes)[1]) > 0


def judge_orientation(
    mesh, up: str, forward: str, options: dict, check: str = "error"
) -> tuple[str, tuple[str, str] | None, dict]:
    """What to do with a head the probe found ``check`` in (``up``, ``forward``): :func:`verdict`
    of the shape prior, ``(decision, better, info)``; ``info`` holds the prior's rank of the given
    orientation, the mirror axis's clarity and the seconds (the check's whole cost)."""
    from facerig.geometry.orient import mirror_axis

    t0 = time.perf_counter()
    ranked, feats = _prior(mesh, options)
    decision, better = verdict(ranked, feats, up, forward, check)
    info = {
        "prior": [[u, f, round(s, 2)] for u, f, s in ranked[:3]],
        "prior_rank": next(i for i, r in enumerate(ranked) if r[:2] == (up, forward)),
        "mirror_clarity": round(mirror_axis(feats)[1], 2),
    }
    first = tuple(ranked[0][:2])
    if decision == "rig" and first != (up, forward) and unsure_first(ranked, feats, up, forward, check):
        probe = probe_candidates(mesh, [first], options)[first]  # the one network pass the judge may take
        info["first_probed"] = [probe[0], round(probe[1], 3)]
        if probe[0] == "ok" and probe[1] <= CONFIRM_SCORE:
            decision, better = "turned", first
    info["seconds"] = round(time.perf_counter() - t0, 3)
    return decision, better, info


def unsure_first(ranked, features: dict, up: str, forward: str, check: str) -> bool:
    """Whether :func:`judge_orientation` asks the face probe about the prior's first orientation: a
    head the probe found odd or faceless (``check``) in (``up``, ``forward``), which the prior ranks
    :data:`JUDGE_GAP` below its first, whose first leads its second by less than :data:`JUDGE_GAP`
    (``benchmarks/robustness_sweep.py``: the face mask in Blender's axes, which the prior cannot
    tell up from down, and the kangaroo, whose eyes sit a little below its area's centroid, under
    its long ears, so that :func:`verdict` names nothing). The probe's plausible face has its mouth
    below its eyes (:func:`facerig.models.raf.probe.face_check`), which stands in for the eye test
    of :func:`verdict`. ``features`` as there."""
    given = next(s for u, f, s in ranked if (u, f) == (up, forward))
    return check in ("error", "warn") and ranked[0][2] - given >= JUDGE_GAP and ranked[0][2] - ranked[1][2] < JUDGE_GAP


def rig_oriented(fn, mesh, *, auto_orient: bool = False, turn: bool = False, **options: Any):
    """Run the ``raf`` method ``fn`` on ``mesh`` with the orientation logic of the module doc
    (the head check's part only where ``options`` leave it on: ``head_check`` and ``face_frame``
    not False): ``(MethodOutput, meta)`` with ``meta["orientation"]`` when orientation was
    searched or judged. With ``turn`` (the caller gave no axes: ``up`` / ``forward`` are the
    defaults), a head the check finds turned and whose axes it names is rigged in those axes
    (:func:`rig_turned`) instead of refused. Raises :class:`facerig.models.raf.probe.NotAHeadError`
    with the refusal's one line."""
    from facerig.models.raf.probe import NotAHeadError

    head_check = options.get("head_check", True) is not False and options.get("face_frame", True) is not False

    meta: dict[str, Any] = {}
    name = mesh.source or "mesh"
    if auto_orient:
        up, forward, info = find_orientation(mesh, options)
        if no_head_found(info):
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
    mirror = _mirror_turned_beside(mesh, up, forward, options.get("threads"))  # (the check below may ask)
    with mirror, np.errstate(all="ignore"):
        try:
            out = fn(mesh, **options)
        except NotAHeadError as e:
            decision, better, info = judge_orientation(mesh, up, forward, options)
            if decision != "rig":
                if better:
                    hint = f"it does with --up {better[0]} --forward {better[1]} (or find them with --auto-orient)"
                elif decision == "turned":
                    hint = "it looks turned: give its orientation with --up/--forward or find it with --auto-orient"
                else:
                    hint = "if it is one, give its orientation with --up/--forward"
                refusal = NotAHeadError(
                    f"{name}: does not look like a head ({e}); {hint}, or rig it anyway with --no-head-check"
                )
                if turn and decision == "turned":
                    return rig_turned(fn, mesh, better, info, refusal, **options)
                raise refusal from None
            if turn and info.get("prior_rank", 0) > 0:  # no axes given, the prior prefers others: search
                try:
                    return rig_turned(fn, mesh, None, info, e, **options)
                except NotAHeadError:
                    pass
            out = fn(mesh, **{**options, "head_check": False})
            meta["orientation"] = {
                **info,
                "up": up,
                "forward": forward,
                "warning": "the face probe found no plausible face, and the head's shape does not say it is turned",
            }
            return out, meta
        face = (out.meta.get("raf") or {}).get("face_frame") or {}
        check = face.get("check")
        leveled = bool((out.meta.get("raf") or {}).get("leveled_deg"))  # its mirror plane is 8-30 degrees off
        turned = check == "ok" and not leveled and mirror.result()
    if check == "warn" or turned:
        decision, better, info = judge_orientation(mesh, up, forward, options, check=check)
        if check == "warn":
            meta["orientation"] = {**info, "up": up, "forward": forward}
            if turn and decision != "turned" and info.get("prior_rank", 0) > 0:  # as for a rejected face above
                try:
                    return rig_turned(fn, mesh, None, info, NotAHeadError(name), **options)
                except NotAHeadError:
                    pass
        if decision == "turned":
            hint = (
                f"it does with --up {better[0]} --forward {better[1]} (or find them with --auto-orient)"
                if better
                else "it looks turned: give its orientation with --up/--forward or find it with --auto-orient"
            )
            reasons = "; ".join(face.get("check_reasons", [])) or "its mirror plane is not left-right"
            refusal = NotAHeadError(
                f"{name}: does not look like a head with --up {up} --forward {forward} "
                f"({reasons}); {hint}, or rig it anyway with --no-head-check"
            )
            if turn:
                return rig_turned(fn, mesh, better, info, refusal, **options)
            raise refusal
    return out, meta


def rig_turned(fn, mesh, axes: tuple[str, str] | None, info: dict, refusal: Exception, **options: Any):
    """Rig ``mesh`` with the method ``fn`` in the ``axes`` (up, forward) the head check named for
    a head it judged in ``options``' axes, or (``axes`` None: the check named none) in those
    :func:`find_orientation` finds, rigged there as ``--auto-orient`` does (without the probe's
    consent where the prior and the probe agreed on them): ``(MethodOutput, meta)`` with
    ``meta["orientation"]`` saying so (``found``, ``turned_from``, ``seconds``). Raises ``refusal``
    where the search finds no head or only the axes given, or the method finds no head in the
    named axes."""
    from facerig.models.raf.probe import NotAHeadError

    t0 = time.perf_counter()
    given = [options.get("up", "+y"), options.get("forward", "+z")]
    searched = axes is None
    with np.errstate(all="ignore"):
        if searched:
            up, forward, found = find_orientation(mesh, options)
            if no_head_found(found) or [up, forward] == given:
                raise refusal from None
            axes, info = (up, forward), {**info, "search": found}
        turned = {**options, "up": axes[0], "forward": axes[1]}
        try:
            out = fn(mesh, **turned)
        except NotAHeadError:
            if not searched:
                raise refusal from None
            out = fn(mesh, **{**turned, "head_check": False})
    meta = {
        "orientation": {
            **info,
            "found": True,
            "up": axes[0],
            "forward": axes[1],
            "turned_from": given,
            "seconds": round(float(info.get("seconds", 0.0)) + time.perf_counter() - t0, 3),
        }
    }
    return out, meta


class _Beside:
    """:func:`mirror_turned` of a mesh, computed in a forked child while the rig runs
    (:func:`facerig.parallel.fork_beside`), or here when asked where it does not fork: ``result()``
    (within its ``with`` block: leaving it kills and reaps a child whose result was not asked for)."""

    def __init__(self, mesh, up: str, forward: str, job):
        self._args, self._job = (mesh, up, forward), job

    def result(self) -> bool:
        return bool(self._job.result()) if self._job is not None else mirror_turned(*self._args)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._job is not None:
            self._job.cancel()


def _mirror_turned_beside(mesh, up: str, forward: str, threads: int | None) -> _Beside:
    """:func:`mirror_turned` started beside the rig (a forked child where a core is idle, with ``threads``
    (default: the CPU count) of 2 or more; the rig's first steps use one core), for the head check after it."""
    import os

    from facerig.parallel import fork_beside

    job = fork_beside(mirror_turned, mesh, up, forward) if int(threads or os.cpu_count() or 1) >= 2 else None
    return _Beside(mesh, up, forward, job)


def mirror_turned(mesh, up: str, forward: str) -> bool:
    """Whether ``mesh`` (V, 3) / (F, 3) is clearly mirror-symmetric (:data:`MIRROR_CLEAR`) across
    a plane other than the left-right one of (``up``, ``forward``): the head check's cheap test
    of a head the probe passed (surface samples and three mirror residuals, a few hundredths of a
    second), turned about its up or forward axis."""
    from facerig.geometry.orient import candidate_matrix, surface_samples, symmetry_residuals

    with np.errstate(all="ignore"):
        sym = symmetry_residuals(surface_samples(mesh.vertices, mesh.faces)[0])
    order = np.argsort(sym)
    clear = float(sym[order[1]] / max(float(sym[order[0]]), 1e-12))
    return clear >= MIRROR_CLEAR and int(order[0]) != int(np.argmax(np.abs(candidate_matrix(up, forward)[0])))
