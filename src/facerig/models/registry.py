"""The one interface every rigging method goes through.

A method is a function ``fn(mesh: Mesh, **options) -> MethodOutput`` registered under a
name. Modules are imported lazily (torch is only imported by methods that need it).

Methods:

- ``zero``  the zero rig (all deltas 0): the scale of the problem.
- ``dt``    deformation transfer (Sumner & Popovic 2004) from the ICT FaceKit template,
            given landmark correspondences (``landmarks=`` JSON path), plus non-rigid registration.
- ``raf``   the RigAnyFace network with the shipped weights.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facerig import __version__
from facerig.errors import FacerigError
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig
from facerig.io.validate import DEFAULT_MAX_VERTICES


@dataclass
class MethodOutput:
    """What a method returns.

    names: (K,) ARKit names; deltas: (K, V, 3) in the input mesh's units and vertex order;
    meta: method-specific notes (e.g. ``missing`` shapes it cannot produce).
    """

    names: list[str]
    deltas: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


# name -> "module:function"
METHODS: dict[str, str] = {
    "zero": "facerig.models.zero:rig_zero",
    "dt": "facerig.models.deformation_transfer:rig_deformation_transfer",
    "raf": "facerig.models.raf.method:rig_raf",
}


# Methods in order of preference for ``facerig rig`` without ``--method``. On the validation set
# (BENCHMARKS.md) raf is far better than deformation transfer on heads from other authors and
# families (the external rigs), several times faster end to end, and needs nothing but its
# shipped weights; dt is still more accurate on ICT-derived heads, so `--method dt` remains for
# ICT-like heads when the ICT FaceKit data is present.
PREFERENCE: tuple[str, ...] = ("raf", "dt")


def method_available(name: str) -> bool:
    """Whether ``name`` can run on this machine (weights / template data present)."""
    if name == "raf":
        from facerig.models.raf.weights import weights_available

        return bool(weights_available())
    if name == "dt":
        from facerig.config import ict_dir

        try:
            return ict_dir(required=False) is not None
        except Exception:  # noqa: BLE001 - a misconfigured path just means "not available"
            return False
    return name in METHODS


def default_method() -> str:
    """The first available method of :data:`PREFERENCE` (``zero`` if none is)."""
    for name in PREFERENCE:
        if method_available(name):
            return name
    return "zero"


def get_method(name: str) -> Callable[..., MethodOutput]:
    if name not in METHODS:
        raise FacerigError(f"unknown method {name!r}; choose one of: {', '.join(METHODS)}")
    mod, fn = METHODS[name].split(":")
    return getattr(importlib.import_module(mod), fn)


#: Fewest vertices ``rig_mesh`` rigs with a head check on (``raf`` unless ``head_check=False`` or
#: ``face_frame=False``): the face probe needs room for two eyes and a mouth (the 468-vertex
#: MediaPipe face mask is the smallest public head it rigs; a 42-vertex sphere passes the
#: probe's check by chance).
MIN_HEAD_VERTICES = 100

#: Meshes whose bounding-box diagonal lies outside this range are rigged at a power-of-two
#: rescale (exact in floating point) and the deltas scaled back: a head modelled in
#: light years or in femtometres gets the rig it gets in millimetres.
COMPUTE_DIAGONAL = (1e-3, 1e6)


def _refuse_body(work: Mesh, source: str, options: dict) -> None:
    """Raise ``NotAHeadError`` naming the axes of a refused mesh that is a body lying in other axes
    (:func:`facerig.models.raf.head_crop.body_axes`); return when it is not one."""
    from facerig.models.raf.head_crop import body_axes
    from facerig.models.raf.probe import NotAHeadError

    with np.errstate(all="ignore"):
        axes = body_axes(work, options)
    if axes is not None:
        raise NotAHeadError(
            f"{source or 'mesh'}: looks like a body lying in other axes, with its head on top with --up {axes[0]} "
            f"--forward {axes[1]}; rig it with those"
        ) from None


def _rig_found(fn, work: Mesh, options: dict):
    """``--auto-orient``: ``(MethodOutput, meta)`` of the ``raf`` method ``fn`` on ``work`` in the axes
    found for it: a body's (:func:`facerig.models.raf.head_crop.body_axes`, its head's crop rigged),
    else a head's (:func:`facerig.models.raf.orientation.rig_oriented`). Raises ``NotAHeadError``."""
    from facerig.models.raf.head_crop import body_axes, rig_head_on_body
    from facerig.models.raf.orientation import rig_oriented

    ta = time.perf_counter()
    with np.errstate(all="ignore"):
        axes = body_axes(work, options)
        found_in = round(time.perf_counter() - ta, 3)
        body = rig_head_on_body(fn, work, **{**options, "up": axes[0], "forward": axes[1]}) if axes else None
    if body is not None:
        body[1]["orientation"] = {"found": True, "up": axes[0], "forward": axes[1], "body": True, "seconds": found_in}
        return body
    return rig_oriented(fn, work, auto_orient=True, **options)


def _rig_raf(fn, work: Mesh, source: str, options: dict, *, auto_orient: bool, turn: bool, head_check: bool):
    """``(MethodOutput, meta)`` of the ``raf`` method ``fn`` on ``work`` with the head check's
    orientation logic and heads on a body (:func:`rig_mesh`'s list). With ``turn`` (no axes given
    or declared), a mesh refused in ``options``' axes is rigged in the axes the check names, else
    in those the ``--auto-orient`` search finds (``meta["orientation"]["turned_from"]``); where
    that finds no head either, the first refusal is raised."""
    from facerig.models.raf.head_crop import rig_head_on_body
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.raf.probe import NotAHeadError

    if auto_orient:
        return _rig_found(fn, work, options)
    try:
        with np.errstate(all="ignore"):
            body = rig_head_on_body(fn, work, **options)
        if body is not None:
            return body
        if not head_check:
            with np.errstate(all="ignore"):  # a method's own arithmetic never prints warnings
                return fn(work, **options), {}
        try:
            return rig_oriented(fn, work, turn=turn, **options)
        except NotAHeadError:
            if not turn:
                _refuse_body(work, source, options)  # a body lying in other axes: name them
            raise
    except NotAHeadError as refusal:
        if not turn:
            raise
        try:
            out, meta = _rig_found(fn, work, options)
        except NotAHeadError:
            raise refusal from None
        if not (meta.get("orientation") or {}).get("found"):
            raise refusal from None
        meta["orientation"]["turned_from"] = [options.get("up", "+y"), options.get("forward", "+z")]
        return out, meta


def _declared_axes(mesh: Mesh, options: dict, auto_orient: bool) -> tuple[dict, str | None]:
    """``options`` with ``up`` / ``forward`` filled in: the caller's, else (neither given, no
    ``auto_orient``) the axes the file declares (``mesh.info["axes"]``: a VRM avatar,
    :func:`facerig.io.vrm.vrm_axes`), else +y / +z. Returns (options, the declaration's note or None)."""
    up, forward = options.get("up"), options.get("forward")
    declared = mesh.info.get("axes") if up is None and forward is None and not auto_orient else None
    if isinstance(declared, dict) and declared.get("up") and declared.get("forward"):
        return {**options, "up": declared["up"], "forward": declared["forward"]}, str(declared.get("why", ""))
    return {**options, "up": up or "+y", "forward": forward or "+z"}, None


def rig_mesh(
    mesh: Mesh,
    method: str | None = None,
    parts: np.ndarray | None = None,
    *,
    strict: bool = False,
    max_vertices: int | None = DEFAULT_MAX_VERTICES,
    falloff: bool = True,
    untangle: bool | None = None,
    auto_orient: bool = False,
    **options: Any,
) -> Rig:
    """Rig ``mesh`` (as read from a file, e.g. :func:`facerig.io.read_mesh`) with ``method``: the
    :class:`Rig` ``facerig rig`` writes, in the input's units, vertex order and faces.

    Args:
        mesh: vertices (V, 3), faces (F, 3); validated here (:func:`facerig.io.validate.validate_mesh`).
        method: a name of :data:`METHODS` (default :func:`default_method`).
        parts: (V,) part labels stored in the rig (default: connected components of the kept faces).
        strict: refuse degenerate / duplicate faces and vertices no face uses instead of
            handling them (``--strict``).
        max_vertices: refuse larger meshes (None: no limit).
        falloff: fade the motion out far from the face (:func:`facerig.models.finish.face_falloff`
            in the rig's up / forward axes; a bust's base, a robot's casing stay still), and each eye
            shape out far from its own eye (:func:`facerig.models.eye_falloff.eye_falloff`; ``meta["eye_falloff"]``;
            carved eyes, no eyeball or eye hole: :func:`facerig.models.carved_eyes.carved_eyes`).
        untangle: smooth away the triangles a shape turns over (:func:`facerig.models.finish.untangle_folds`;
            ``meta["untangled"]``). Default (None): only in shapes whose folds cover
            :data:`~facerig.models.finish.UNTANGLE_TRIGGER` face sizes^2, past any of facerig's rigs of
            the validation heads (a chin folded under itself on a head unlike the training families);
            True: in every shape folding :data:`~facerig.models.finish.UNTANGLE_MIN_AREA` (on the
            validation set that moves some mouth shapes of in-family heads 0.2-0.5 mm further from their
            ground truth); False: never.
        auto_orient: find ``up``/``forward`` (``raf``; :func:`facerig.models.raf.orientation.find_orientation`).
        options: passed to the method (``up``, ``forward``, ``landmarks``, ``weld`` ...). Without
            ``up`` and ``forward`` (or with both None), a file that declares its axes (a VRM
            avatar: ``mesh.info["axes"]``) is rigged in those (``meta["input"]["axes_from"]``), any
            other in +y / +z.

    What the method gets and what comes back:

    - degenerate and duplicate triangles are skipped, vertices no kept triangle uses are left
      out; those vertices then move with the surface next to them
      (:func:`facerig.models.finish.fill_unused`) and ``meta["repairs"]`` says how many;
    - loose pieces that are not part of the head (stray geometry far away, a floor or backdrop
      plane: :func:`facerig.geometry.junk.loose_junk`) are left out and keep zero deltas
      (``meta["loose_pieces"]``);
    - hair cards (many small open sheets above or behind the eyes:
      :func:`facerig.geometry.hair.hair_cards`, in the ``up`` / ``forward`` axes; not with
      ``auto_orient``) are left out of the method's input and move with the closest point of the
      rigged surface (``meta["hair_cards"]``);
    - triangles wound against their neighbours (flipped normals in part of the mesh) reach the
      method re-wound consistently and outward (:func:`facerig.geometry.winding.consistent_winding`;
      ``meta["rewound_faces"]``); the rig keeps the file's faces;
    - vertices at the same position get the same deltas (unless ``weld=0``, which keeps slits
      open: :func:`facerig.models.finish.share_coincident`);
    - ARKit rigs are padded to the 52 shapes (``meta["missing"]``);
    - a head on a body or bust (``raf``: :func:`facerig.models.raf.head_crop.rig_head_on_body`;
      with ``auto_orient``, in the axes of :func:`~facerig.models.raf.head_crop.body_axes`) is
      rigged on the crop of its head and neck; everything below keeps zero deltas
      (``meta["head_on_body"]``);
    - with a head check (``raf``), a mesh of fewer than :data:`MIN_HEAD_VERTICES` vertices is
      refused, and a head the face probe rejects is turned only when another orientation fits
      it better (:func:`facerig.models.raf.orientation.judge_orientation`), else rigged with
      ``meta["orientation"]["warning"]``. When the caller gave no ``up`` / ``forward`` and the file
      declares none, a turned head (or a body lying in other axes) is rigged in the axes the check
      names, else in those the ``--auto-orient`` search finds (``meta["orientation"]``: ``found``,
      ``turned_from``), and refused only where the search finds no head; with axes given it is
      refused (the error names the right ones where it can).

    Raises:
        FacerigError (``MeshError``, ``NotAHeadError``): one line naming the problem.
    """
    from facerig.geometry.components import connected_components
    from facerig.geometry.hair import hair_cards, scalp_motion
    from facerig.geometry.junk import loose_junk
    from facerig.geometry.winding import consistent_winding, winding_beside
    from facerig.io.validate import validate_mesh
    from facerig.models import finish

    method = method or default_method()
    fn = get_method(method)
    # no axes given or declared: a head the check finds turned is rigged in the axes it names
    turn = not auto_orient and options.get("up") is None and options.get("forward") is None
    options, axes_from = _declared_axes(mesh, options, auto_orient)
    turn = turn and axes_from is None
    t0 = time.perf_counter()
    checked = validate_mesh(mesh, max_vertices, allow_degenerate=not strict, allow_unreferenced=not strict)
    V = mesh.num_vertices
    faces = np.asarray(checked.faces, np.int64)
    repairs = {**(mesh.info.get("repairs") or {}), **(checked.info.get("repairs") or {})}
    # the winding test of all faces (below) in a forked child beside the junk and hair tests, where the
    # host allows: its answer is the method's when they find neither (as on most heads)
    winding = winding_beside(np.asarray(mesh.vertices, np.float64), faces)
    with winding:
        # loose pieces that are not the head (stray triangles far away, a floor): left out, kept still
        junk = loose_junk(np.asarray(mesh.vertices, np.float64), faces)
        # hair cards: left out of the network's input, moved with the scalp under them (found in the
        # head's axes: not with auto_orient, whose axes are not known yet)
        hair = np.zeros(V, bool)
        if not auto_orient:
            up, forward = options.get("up", "+y"), options.get("forward", "+z")
            hair = hair_cards(np.asarray(mesh.vertices, np.float64), faces, up, forward, junk)
        junk_or_hair = junk | hair
        method_faces = faces[~junk_or_hair[faces].any(1)] if junk_or_hair.any() else faces
        # triangles wound every which way (flipped normals): the method sees them re-wound consistently
        if junk_or_hair.any():
            method_faces, rewound = consistent_winding(np.asarray(mesh.vertices, np.float64), method_faces)
        else:
            method_faces, rewound = winding.result()
    used = np.zeros(V, bool)
    used[method_faces.ravel()] = True
    head_check = method == "raf" and options.get("head_check", True) and options.get("face_frame", True)
    if head_check and used.sum() < MIN_HEAD_VERTICES:
        from facerig.models.raf.probe import NotAHeadError

        raise NotAHeadError(
            f"{mesh.source or 'mesh'}: does not look like a head ({int(used.sum())} vertices, too few "
            f"for eyes and a mouth; a head needs {MIN_HEAD_VERTICES}); rig it anyway with "
            "--no-head-check"
        )
    # the method rigs the used vertices only, at a workable scale
    keep = np.flatnonzero(used)
    index = np.full(V, -1, np.int64)
    index[keep] = np.arange(len(keep))
    verts = np.asarray(mesh.vertices, np.float64)
    diag = float(np.linalg.norm(verts[keep].max(0) - verts[keep].min(0)))
    factor = 1.0
    if not COMPUTE_DIAGONAL[0] <= diag <= COMPUTE_DIAGONAL[1]:
        factor = float(2.0 ** -np.round(np.log2(diag)))  # exact: a power of two
    info = {k: v for k, v in checked.info.items() if k != "dropped_faces"}
    if len(keep) == V and not rewound:
        work = dataclasses.replace(checked, vertices=verts * factor if factor != 1.0 else checked.vertices, info=info)
    else:  # per-vertex attributes and polygons index the file's vertices: not the method's
        work = dataclasses.replace(
            checked,
            vertices=verts[keep] * factor,
            faces=index[method_faces],
            polygons=None,
            uv=None,
            uv_faces=None,
            normals=None,
            info=info,
        )
    meta_extra: dict[str, Any] = {}
    if method == "raf":
        out, meta_extra = _rig_raf(
            fn, work, mesh.source, options, auto_orient=auto_orient, turn=turn, head_check=head_check
        )
    else:
        with np.errstate(all="ignore"):  # a method's own arithmetic never prints warnings
            out = fn(work, **options)
    seconds = time.perf_counter() - t0
    deltas = np.asarray(out.deltas, dtype=np.float32)
    if deltas.shape != (len(out.names), work.num_vertices, 3):
        raise RuntimeError(f"method {method} returned deltas {deltas.shape} for {work.num_vertices} vertices")
    if factor != 1.0:
        deltas = deltas * np.float32(1.0 / factor)
    if len(keep) < V:
        full = np.zeros((len(out.names), V, 3), np.float32)
        full[:, keep] = deltas
        deltas = finish.fill_unused(verts, faces, used, full, checked.info.get("dropped_faces"))
        deltas[:, junk] = 0.0
        if hair.any():
            deltas = scalp_motion(verts, method_faces, deltas, hair)
    if options.get("weld", 1.0) != 0:
        deltas = finish.share_coincident(verts, deltas, faces)
    fade_info: dict = {}
    eye_info: dict = {}
    up = meta_extra.get("orientation", {}).get("up", options.get("up", "+y"))
    forward = meta_extra.get("orientation", {}).get("forward", options.get("forward", "+z"))
    if falloff:
        w, fade_info = finish.face_falloff(
            verts, deltas, list(out.names), up=up, forward=forward, faces=faces, per_shape=True
        )
        if w is not None and (w < 1).any():
            deltas = deltas * w[:, :, None].astype(np.float32)
        from facerig.models.carved_eyes import CARVED_FALLOFF, carved_eyes  # no eyeball, no eye hole
        from facerig.models.eye_falloff import eye_falloff  # eye shapes stay at their eye (a statue's blink)

        eyes, carved = carved_eyes(verts, faces, deltas, list(out.names), up=up, forward=forward)
        radii = CARVED_FALLOFF if eyes is not None else {}
        deltas, eye_info = eye_falloff(verts, deltas, list(out.names), eyes=eyes, **radii)
        if carved and eye_info:
            eye_info["carved_eyes"] = carved
    untangled: dict = {}
    if untangle is not False:
        floor = finish.UNTANGLE_MIN_AREA if untangle else finish.UNTANGLE_TRIGGER
        deltas, untangled = finish.untangle_folds(
            verts,
            faces,
            deltas,
            list(out.names),
            fade_info.get("face_size") or None,
            floor,
            keep_motion=None if untangle else finish.UNTANGLE_KEEP_MOTION,
        )
    if parts is None:
        parts = connected_components(V, faces)
    meta = {
        "method": method,
        "facerig_version": __version__,
        "seconds": round(seconds, 3),
        "units": "input units (deltas are in the same units and frame as the input vertices)",
        "num_vertices": V,
        "source": mesh.source,
    }
    meta.update(out.meta)
    meta.update(meta_extra)
    meta["input"] = {"path": mesh.source, "up": up, "forward": forward}
    if axes_from:
        meta["input"]["axes_from"] = axes_from
    if repairs:
        meta["repairs"] = repairs
    if rewound:
        meta["rewound_faces"] = rewound
    if junk.any() or hair.any():
        pieces = connected_components(V, faces)
        if junk.any():
            meta["loose_pieces"] = {"vertices": int(junk.sum()), "pieces": int(np.unique(pieces[junk]).size)}
        if hair.any():
            meta["hair_cards"] = {"vertices": int(hair.sum()), "cards": int(np.unique(pieces[hair]).size)}
    if fade_info.get("vertices_faded"):
        meta["falloff"] = fade_info
    if eye_info:
        meta["eye_falloff"] = eye_info
    if untangled:
        meta["untangled"] = untangled
    if factor != 1.0:
        meta["computed_at_scale"] = factor
    rig = Rig(
        names=list(out.names),
        deltas=np.ascontiguousarray(deltas),
        neutral=mesh.vertices,
        faces=mesh.faces,
        parts=parts,
        meta=meta,
    )
    return finish.pad_to_arkit52(rig)
