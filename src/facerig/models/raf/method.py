"""The ``raf`` rigging method: the RigAnyFace network with the shipped weights.

Pipeline for a mesh with V vertices (any size, any vertex order; the output keeps both):

1. rotate into the canonical frame (``up`` / ``forward`` options, default +Y / +Z);
2. :func:`facerig.geometry.proxy.prepare_head`: open seams stitched
   (:mod:`facerig.geometry.weld`), ~8k-vertex proxy (:data:`RIG_PROXY_VERTICES`; meshes up to
   9.6k vertices are used as they are), normalised head frame (translation + head-width scale);
   then, side by side on two cores, the proxy's operators and the face probe
   (:func:`~facerig.models.raf.probe.face_landmarks` on a ~2.5k-vertex decimation; in a forked
   child when the host allows it, :mod:`facerig.parallel`, else a thread), whose factor widens or
   narrows the frame (:func:`~facerig.models.raf.probe.face_frame_factor`, operators rescaled
   exactly);
3. the network (trunk + global encoder once, conditional blocks on the 52 one-hot queries), on
   the head and on its mirror image (the two passes side by side), averaged (:func:`predict_proxy`);
   A head whose mirror plane leans 8-30 degrees off the left-right plane (turned or rolled: a
   scan not quite upright) is first turned level (:func:`facerig.geometry.symmetry.level_rotation`;
   meta ``raf.leveled_deg``) and its rig turned back;
4. displacements back to the input: proxy -> input vertices within each part
   (:meth:`Proxy.to_full`), times the head scale, rotated back to the input's axes.

Shapes the weights were not trained for (``tongueOut`` with ICT-only training) are returned as
zeros and listed in ``meta["missing"]``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52
from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE
from facerig.io.mesh import Mesh
from facerig.models.raf.config import RIG_PROXY_VERTICES
from facerig.models.raf.probe import NotAHeadError, face_check, face_frame_factor, face_landmarks, probe_decimates
from facerig.models.raf.weights import load_model
from facerig.models.registry import MethodOutput
from facerig.parallel import Job, blas_threads, fork_call, per_worker


def predict_proxy(
    model,
    prep,
    queries: np.ndarray,
    chunk: int = 26,
    mirror: bool = True,
    threads: int | None = None,
    inputs: tuple | None = None,
    workers: int = 1,
) -> np.ndarray:
    """Network displacements in the head frame for a :class:`~facerig.geometry.proxy.PreparedHead`:
    queries (Q,K) -> (Q,P,3) float32. The per-head part runs once; queries go in chunks.

    ``mirror`` (default): also run the network on the head's mirror image (x -> -x in the head
    frame, whose origin is the nose tip and whose x axis points across the face), asking it for
    the mirrored queries (left and right shapes swapped, :func:`facerig.arkit.mirror_permutation`),
    reflect that answer back and average the two. The network is not exactly equivariant to
    reflections; averaging the two passes makes the rig so (the head's mirror image gets the
    mirror image of its rig, up to the proxy's decimation; eyeBlinkLeft and eyeBlinkRight of a
    symmetric head are each other's mirror images), and the passes' errors partly cancel: 2-6 % lower error on every
    validation group (BENCHMARKS.md). Costs a second network pass; the operators are reused
    (:meth:`~facerig.geometry.operators.Operators.mirrored`), and so are the local features
    (:func:`mirror_local_features`).

    ``inputs``: the head's ``(local, cross)`` network inputs when already computed
    (:func:`facerig.geometry.features.network_inputs` of ``prep.xyz``). ``workers`` > 1 runs the
    two passes side by side (without ``mirror``: the two halves of the queries, after the
    per-head part), each on half of ``threads`` BLAS threads (default: the CPU count; NumPy
    releases the GIL in its products): on two cores faster than one pass after the other on two
    BLAS threads, since much of a pass is single-threaded elementwise work. The result is the
    same either way."""
    from facerig.geometry.operators import SPECTRAL_GAP

    xyz, faces = prep.xyz, prep.proxy.faces
    if inputs is None:  # (the rig's come from its forked probe: no import of the features here then)
        from facerig.geometry.features import network_inputs

        inputs = network_inputs(xyz, faces, local=bool(model.n_local), cross=model.cross_part)
    local, cross = inputs
    side_by_side = workers > 1
    per = per_worker(threads, workers)
    t = per if side_by_side else threads  # sparse products side by side within a pass
    ops = prep.ops.for_network(k=model.k_eig, cross=cross, gap=SPECTRAL_GAP)  # cut at a gap: stable
    if not mirror:
        if side_by_side and len(queries) > 1:  # one pass: its queries in two halves side by side
            enc = model.encode(xyz, ops, local, t)
            half = (len(queries) + 1) // 2
            with blas_threads(per):
                other = Job(True, model, xyz, ops, queries[half:], local, chunk, enc, t)
                d = model(xyz, ops, queries[:half], local, chunk=chunk, enc=enc, threads=t)
                return np.concatenate([d, other.result()])
        return model(xyz, ops, queries, local, chunk=chunk, threads=t)
    from facerig.arkit import ARKIT52, mirror_permutation

    flip = np.array([-1.0, 1.0, 1.0])
    mxyz = xyz * flip
    mlocal = None if local is None else mirror_local_features(local)
    perm = mirror_permutation(ARKIT52[: queries.shape[1]])
    mq = np.ascontiguousarray(queries[:, perm])

    with blas_threads(per if side_by_side else None):  # the mirror pass on the worker thread, or in turn
        other = Job(side_by_side, model, mxyz, ops.mirrored(), mq, mlocal, chunk, None, t)
        d = model(xyz, ops, queries, local, chunk=chunk, threads=t)
        dm = other.result()
    d += dm * flip.astype(np.float32)
    d *= np.float32(0.5)
    return d


#: Columns of :func:`facerig.geometry.features.local_features` that change sign on the head's
#: mirror image (x -> -x, winding reversed): the x components of the normal and of the two
#: directions; distances do not change.
_MIRROR_LOCAL_SIGN = np.array([-1, 1, 1, 1, 1, -1, 1, 1, 1, 1, -1, 1, 1], np.float32)


def mirror_local_features(local: np.ndarray) -> np.ndarray:
    """The local features (V,13) of a head's mirror image from the head's own: (V,13) float32.

    A reflection keeps every distance, and the mirrored mesh's normals, boundary and other-part
    directions are the reflected ones, so only the x components change sign. Equal to
    recomputing them on the mirrored mesh up to ties between equidistant nearest vertices
    (``tests/models/raf/test_method.py``)."""
    local = np.asarray(local, np.float32)
    if local.shape[-1] != _MIRROR_LOCAL_SIGN.shape[0]:
        raise ValueError(f"expected (V, {_MIRROR_LOCAL_SIGN.shape[0]}) local features, got {local.shape}")
    return local * _MIRROR_LOCAL_SIGN


def _operators(prep, k: int, timings: dict):
    """Operators of a prepared head's normalised proxy (``prepare_head(..., operators=False)``),
    their stage timings added to ``timings``."""
    from facerig.geometry.operators import compute_operators

    t0 = time.perf_counter()
    ops = compute_operators(prep.xyz, prep.proxy.faces, k=k, timings=timings)
    timings["operators"] = time.perf_counter() - t0
    return ops


def _probe_and_inputs(
    model,
    prep,
    threads: int | None,
    face_frame: bool,
    skip_on_error: bool,
    probe_vertices: int | None = None,
    layout_of: tuple | None = None,
) -> tuple:
    """The face probe of a prepared head (with ``face_frame``: :func:`face_landmarks` and
    :func:`face_frame_factor`) and the network's local inputs on its proxy in the frame that
    measures: ``(landmarks or None, factor, (local, cross) or None, timings, layout or None)``. The
    inputs are skipped (None) when ``skip_on_error`` and the face fails :func:`face_check` (the rig
    is then refused). ``layout_of``: ``(vertices, faces, labels)`` of the stitched head, whose
    :func:`~facerig.geometry.face_parts.find_layout` (for the eyelid and jaw steps) is then computed
    too. Runs in a forked child beside the operators (:func:`rig_raf`)."""
    from facerig.geometry.features import network_inputs

    lm, factor, t = None, 1.0, {}
    if face_frame:
        tp = time.perf_counter()
        lm = face_landmarks(model, prep, threads=threads, probe_vertices=probe_vertices)
        factor = face_frame_factor(lm)
        t["face_probe"] = time.perf_counter() - tp
        if skip_on_error and face_check(lm)[0] == "error":
            return lm, factor, None, t, None
    tp = time.perf_counter()
    inputs = network_inputs(prep.xyz / factor, prep.proxy.faces, local=bool(model.n_local), cross=model.cross_part)
    t["network_inputs"] = time.perf_counter() - tp
    layout = None
    if layout_of is not None:
        from facerig.geometry.face_parts import find_layout

        layout = find_layout(*layout_of)
    return lm, factor, inputs, t, layout


def rig_raf(
    mesh: Mesh,
    *,
    up: str = "+y",
    forward: str = "+z",
    weights: str | None = None,
    proxy_vertices: int = RIG_PROXY_VERTICES,
    threads: int | None = None,
    queries: np.ndarray | None = None,
    weld: float = DEFAULT_WELD_TOLERANCE,
    mirror: bool = True,
    frame_scale: float = 1.0,
    face_frame: bool = True,
    head_check: bool = True,
    close_eyes: bool = True,
    open_mouth: bool = True,
    pitch: float | None = None,
    mouth_amplitude: bool = True,
    densify: bool = False,
    densify_below: int | None = None,
    probe_vertices: int | None = None,
    **_: Any,
) -> MethodOutput:
    """Rig ``mesh`` with the network: deltas (52,V,3) in the input's units, axes and vertex order.

    Options: ``up``/``forward`` input axes; ``weights`` path; ``proxy_vertices``; ``threads``
    (default: all cores): BLAS and sparse-product threads, and with 2 or more the operators are
    computed beside the face probe (in a forked child where the host process allowed forking,
    :func:`facerig.parallel.configure`, as the CLI does; else on a worker thread) and the two
    network passes run side by side (1: everything in turn; the rig is the same); ``queries`` (Q,52) FACS vectors to evaluate instead of the 52
    one-hot shapes (then ``names`` are ``query0..``); ``weld``: distance below which open seams
    are stitched, as a fraction of the bounding-box diagonal (0 = off); ``mirror``: average
    with the network's answer on the head's mirror image (default; see :func:`predict_proxy`);
    ``frame_scale``: multiply the head frame's width (a diagnostic, default 1: a value > 1 tells
    the network the head is smaller than its width at the nose says, and scales the rig's
    motion with it; ``benchmarks/frame_scale.py``); ``face_frame`` (default on): widen or
    narrow the head frame by :func:`face_frame_factor` of the face the network finds
    (:func:`face_landmarks`, one extra 4-shape pass), on top of ``frame_scale``; the shipped
    weights were trained in that frame (model card, "Face-measured frame"); ``head_check``
    (default on, with ``face_frame``): raise :class:`NotAHeadError` when the face the probe found
    is implausible past :data:`HEAD_CHECK`'s error limits (not a head, or a head not in the
    ``up``/``forward`` orientation given), record ``warn`` and its reasons in the meta past the
    warning limits (:func:`face_check`); ``close_eyes`` (default on): eyeballs (separate parts,
    :func:`facerig.geometry.face_parts.find_layout`) move rigidly in every shape
    (:func:`facerig.geometry.rigid.rigid_part_deltas`), and an eyeBlink whose lids stop short of
    meeting over an eyeball is completed about the eyeball's centre
    (:func:`facerig.geometry.eyelids.close_blinks`; meta ``raf.eyelids``); ``open_mouth`` (default
    on): a jawOpen that leaves the head's mouth opening closed turns the jaw about a hinge behind
    the mouth, and mouthClose closes the lips again (:func:`facerig.geometry.jaw.open_jaw`; meta
    ``raf.jaw``); ``pitch``: degrees to nod the head about its left-right axis before rigging
    (default None: 0, or where the head check finds an odd face or none, the pitch at which the
    face probe finds a plausible one, :func:`facerig.models.raf.pitch.find_pitch`; meta
    ``raf.pitched_deg``); ``mouth_amplitude`` (default on): on a head whose mouth is wider than the
    training heads' (the rig's own smile span), the mouth shapes are scaled up to it
    (:func:`facerig.models.raf.amplitude.scale_mouth`; meta ``raf.mouth_amplitude``); ``densify``:
    a head of fewer than ``densify_below`` vertices (default
    :data:`~facerig.models.raf.densify.DENSIFY_BELOW`) is rigged on its midpoint subdivision and its
    own vertices' rows kept (:mod:`facerig.models.raf.densify`; meta ``raf.densified``; the face
    probe then runs on the subdivided head itself); ``probe_vertices``: the size of the face probe's
    decimation (default :data:`~facerig.models.raf.probe.FACE_PROBE_VERTICES`; 0: the proxy as it
    is). Unknown options are ignored.
    """
    call = {k: v for k, v in locals().items() if k not in ("mesh", "_")}  # this call's options, to rig again
    from facerig.models.raf.densify import DENSIFY_BELOW, rig_densified

    below = DENSIFY_BELOW if densify_below is None else int(densify_below)
    if densify and len(mesh.vertices) < below:  # a coarse head: rigged on a subdivided copy
        return rig_densified(rig_raf, mesh, {**call, "densify": False}, below)
    import contextlib

    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.operators import SPECTRAL_GAP
    from facerig.geometry.proxy import prepare_head

    n_threads = int(threads) if threads else (os.cpu_count() or 1)
    workers = 2 if n_threads >= 2 else 1  # the rig's work splits two ways (see below)
    if threads:  # BLAS threads (``predict_proxy`` passes ``threads`` to the sparse products)
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(int(threads))
    else:
        limits = contextlib.nullcontext()
    with limits:
        t0 = time.perf_counter()
        model, meta = load_model(weights)
        R = orientation_matrix(up, forward)
        v = np.asarray(mesh.vertices, np.float64) @ R.T
        from facerig.geometry.symmetry import level_rotation

        level, tilt = level_rotation(v)  # a head turned or rolled 8-30 degrees: rig it level
        if level is not None:
            R = level @ R
            v = np.asarray(mesh.vertices, np.float64) @ R.T
        if pitch:  # a nod the face probe found (below): rig it upright
            from facerig.geometry.frame import pitch_matrix

            R = pitch_matrix(float(pitch)) @ R
            v = np.asarray(mesh.vertices, np.float64) @ R.T
        prep = prepare_head(
            v,
            mesh.faces,
            proxy_vertices=proxy_vertices,
            k=model.k_eig,
            weld=float(weld),
            frame_scale=float(frame_scale),
            operators=False,
        )
        # The proxy's operators (mostly the eigenbasis: one core) are computed here while a
        # forked child finds the face on a small decimation of the proxy and computes the
        # network's local inputs in the face-measured frame (a child rather than a thread: the
        # two share no GIL); the two network passes then run side by side (``predict_proxy``).
        # Without fork, a worker thread computes the operators; with one thread, all in turn.
        timings = prep.timings
        per = per_worker(threads, workers)
        job = None
        labels = prep.proxy.parts[prep.proxy.origin]  # the parts of the stitched head
        if workers > 1 and (not face_frame or probe_decimates(prep.proxy.num_vertices, probe_vertices)):
            lay_of = (v, mesh.faces, labels) if queries is None and (close_eyes or open_mouth) else None
            job = fork_call(
                _probe_and_inputs, model, prep, 1, face_frame, head_check, probe_vertices, lay_of
            )  # (+ the layout)
        if job is not None:
            with job, blas_threads(per):
                ops = _operators(prep, model.k_eig + 1 + SPECTRAL_GAP, timings)  # for spectral_cut
                lm, factor, inputs, t_face, layout = job.result()
            prep = prep.with_operators(ops)
        else:
            ops_job = Job(workers > 1, _operators, prep, model.k_eig + 1 + SPECTRAL_GAP, timings)
            with blas_threads(per if workers > 1 else None):
                if face_frame and not probe_decimates(prep.proxy.num_vertices, probe_vertices):  # probe on the proxy
                    prep = prep.with_operators(ops_job.result())
                lm, factor, inputs, t_face, layout = _probe_and_inputs(
                    model, prep, per if workers > 1 else threads, face_frame, head_check, probe_vertices
                )
                if prep.ops is None:
                    prep = prep.with_operators(ops_job.result())
        timings.update(t_face)
        face = None
        if lm is not None:
            face = {
                "factor": round(factor, 4),
                "iod": round(lm["iod"] * prep.scale, 6),
                "eye_mouth": round(lm["eye_mouth"] * prep.scale, 6),
            }
            status, reasons = face_check(lm)
            face["check"] = status
            if reasons:
                face["check_reasons"] = reasons
            if status != "ok" and head_check and pitch is None:  # a nodding head? (models/raf/pitch.py)
                from facerig.models.raf.pitch import find_pitch
                from facerig.models.raf.probe import face_check_score

                found, rows = find_pitch(
                    model,
                    prep.xyz,
                    prep.proxy.faces,
                    face_check_score(lm),
                    threads=threads,
                    probe_vertices=probe_vertices,
                )
                if found is not None:
                    out = rig_raf(mesh, **{**call, "pitch": found})
                    tried = [[d, c, round(x, 3)] for d, c, x in rows]
                    out.meta["raf"]["pitch_search"] = {"own": face, "tried": tried}
                    return out
            if status == "error" and head_check:
                raise NotAHeadError(
                    f"no plausible face found with up {up} and forward {forward}: " + "; ".join(reasons)
                )
        if factor != 1.0:
            prep = prep.rescaled(factor)
        t1 = time.perf_counter()
        K = model.num_shapes
        trained = meta.get("trained_shapes") or [n for n in ARKIT52 if n != "tongueOut"]
        missing: list[str] = []
        if queries is None:  # one-hot queries of the shapes the weights were trained for
            names = list(ARKIT52)
            missing = [n for n in names if n not in trained]
            keep = [i for i, n in enumerate(names[:K]) if n in trained]
            a = np.eye(K, dtype=np.float32)[keep]
        else:
            a = np.asarray(queries, np.float32)
            names = [f"query{i}" for i in range(a.shape[0])]
        d = predict_proxy(
            model, prep, a, mirror=bool(mirror), threads=threads, inputs=inputs, workers=workers
        )  # (Q,P,3)
        t2 = time.perf_counter()
        moved = prep.proxy.to_full(d)  # (Q,V,3) canonical axes: a new array (or d itself), scaled in place
        moved *= np.float32(prep.scale)
        amplitude = None
        if mouth_amplitude and queries is None:  # a mouth past the training range: its shapes sized to it
            from facerig.models.raf.amplitude import scale_mouth

            face_size = float(np.sqrt(face["iod"] * face["eye_mouth"])) if face else None
            moved, amplitude = scale_mouth(v, [names[i] for i in keep], moved, prep.scale, face_size)
        eyelids = jaw = None
        if queries is None and (close_eyes or open_mouth):  # eyelids and jaw (side by side where it may fork)
            from facerig.models.raf.lids_and_jaw import lids_and_jaw

            steps = dict(close_eyes=close_eyes, open_mouth=open_mouth, side_by_side=workers > 1, timings=timings)
            steps["layout"] = layout
            moved, eyelids, jaw = lids_and_jaw(v, mesh.faces, [names[i] for i in keep], moved, labels, **steps)
        R32 = R.astype(np.float32)  # back to input axes (R orthonormal)
        if queries is None:  # untrained shapes are zeros
            full = np.zeros((len(names),) + moved.shape[1:], np.float32)
            if keep and keep[-1] - keep[0] + 1 == len(keep):  # one run of shapes: turned straight into the rig
                np.matmul(moved, R32, out=full[keep[0] : keep[-1] + 1])
            else:
                full[keep] = moved @ R32
        else:
            full = moved @ R32
        t3 = time.perf_counter()
        info = {
            "proxy_vertices": prep.proxy.num_vertices,
            "head_scale": prep.scale,
            "seam_vertices_stitched": prep.welded,
            "mirror_averaged": bool(mirror),
            **({"leveled_deg": round(tilt, 2)} if level is not None else {}),
            **({"pitched_deg": float(pitch)} if pitch else {}),
            **({"frame_scale": float(frame_scale)} if frame_scale != 1 else {}),
            **({"face_frame": face} if face is not None else {}),
            **({"mouth_amplitude": amplitude} if amplitude and "factors" in amplitude else {}),
            **({"eyelids": eyelids} if eyelids else {}),
            **({"jaw": jaw} if jaw else {}),
            "timings": {
                "prepare": round(t1 - t0, 3),
                "network": round(t2 - t1, 3),
                "transfer": round(t3 - t2, 3),
                **{k: round(v, 3) for k, v in timings.items()},
            },
            "weights_step": meta.get("step"),
        }
        out_meta: dict[str, Any] = {"raf": info}
        if missing:
            out_meta["missing"] = missing
        return MethodOutput(names=names, deltas=np.ascontiguousarray(full, dtype=np.float32), meta=out_meta)
