"""``facerig check``: audit a blendshape rig on its own head, with no ground truth.

Each check gives a number per shape (or per Left/Right pair), a threshold and PASS / FAIL, or
"n/a" with the reason when it does not apply (a shape the rig lacks, a head without eyes,
eyes closed at neutral). Distances are in units of the head's eye distance ``S`` (see
:mod:`facerig.geometry.face_parts`), so thresholds hold for any units. Shapes are posed at weight 1.

=================  ==========================================================================
check              value (pass when ``value op threshold``; see :data:`THRESHOLDS`)
=================  ==========================================================================
eyelid_closure     eyeBlinkLeft/Right: 1 - (eye opening after) / (opening at neutral); the
                   opening is the share of rays along -Z over the eyeball's front disc that
                   hit the eyeball first (through the lids), or, for a face mask without
                   eyeballs, that pass through the eye hole
mouth_open         jawOpen: gap between the lips along the mid-line (the longest run of rays
                   that see into the mouth: nothing, teeth / tongue, or skin hidden from the
                   front at neutral, bounded by skin above and below), minus that at neutral, / S;
                   n/a on a head with no mouth opening (no hole or fold between the lips,
                   :func:`facerig.geometry.mouth.find_mouth`: a statue, lips joined by faces)
mouth_close        mouthClose with jawOpen at 1 (as ARKit defines it): 1 - gap / jawOpen's gap
jaw_teeth          jawOpen moves the lower teeth / tongue with the jaw: the largest RMS motion of
                   a mouth part / the 99th percentile of the skin's motion (the chin)
mirror             each Left shape vs its Right shape reflected across the mid-plane (vertices
                   matched by nearest reflected neutral): |dL - mirror(dR)| / mean(|dL|, |dR|);
                   n/a where < 5 % of the vertices have a mirror image (an asymmetric head)
side               a one-sided shape (eyeBlinkLeft, mouthSmileLeft, ...) moves its own side: share
                   of the squared motion on the named side (character's left = +X)
rigidity           eyeballs (eyelid shapes excepted: stylised rigs deform an eye cap to blink)
                   and teeth (mouth parts with <= 2 % of the vertices; tongueOut excepted): RMS
                   residual of the best rigid motion (Kabsch) / RMS motion, worst part; parts
                   moving < 0.005 S RMS skipped
interpenetration   share of the vertices near an eyeball or a tooth (lids, lips, tongue) that a
                   shape pushes through it (:mod:`facerig.eval.check_contact`)
stretch            largest edge length ratio posed / neutral among edges lengthened by > 0.01 S
                   and not shorter than half the median edge (tiny edges of lid and lip corners
                   stretch many times in the authors' own rigs)
far_motion         largest motion of vertices far from the face (more than 4 S below the eyes, or
                   2.5 S behind them) / largest motion of the shape
lip_tear           every shape, on a head with a mouth opening: the largest spike along the lip
                   line, / S: a vertex near the line whose motion sticks out from both its
                   neighbours along the line (the smaller difference; :mod:`facerig.geometry.lip_tear`),
                   the lips torn into fangs where a clean opening is a step across the line
folds              every shape (mouthClose on top of jawOpen, as ARKit defines it): area of the
                   skin's triangles the shape turns over (posed normal against the neutral one,
                   :func:`facerig.geometry.untangle.folded_faces`), / S^2: dark creases, the chin
                   folded under itself
=================  ==========================================================================

The thresholds are calibrated so that every author's rig in the shared data passes every check
that applies to it (``benchmarks/check_calibration.py``; table in BENCHMARKS.md, "Rig check").
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import FacerigError
from facerig.geometry.eye_closure import EYE_OPEN_MIN as _EYE_OPEN_MIN  # noqa: F401 - kept for callers
from facerig.geometry.eye_closure import blink_open_rays
from facerig.geometry.eye_closure import eye_front as _eye_front  # noqa: F401 - kept for callers
from facerig.geometry.eye_closure import eye_open_rays as eye_opening  # noqa: F401 - part of the check API
from facerig.geometry.face_parts import Layout, find_layout
from facerig.geometry.lip_gap import lip_gap, opening, opening_measure, seen_at_neutral  # noqa: F401 - part of the check API
from facerig.io.rig import Rig

# check -> (op, threshold); see the module docstring and BENCHMARKS.md "Rig check"
THRESHOLDS: dict[str, tuple[str, float]] = {
    # author rigs' worst (benchmarks/results/check_calibration.json), then the margin chosen
    "eyelid_closure": (">=", 0.7),  # worst 0.735 (MakeHuman): 70 % of the eye seen at neutral covered
    "mouth_open": (
        ">=",
        0.1,
    ),  # worst 0.187 S (Weboji kangaroo; 0.133 before a fold's walls counted): lips 0.1 S (~6 mm) apart
    "mouth_close": (">=", 0.7),  # worst 0.97 (ICT): at most 30 % of jawOpen's gap left
    "jaw_teeth": (">=", 0.3),  # worst 0.64 (MakeHuman): a mouth part follows the chin at least 30 %
    "mirror": ("<=", 1.0),  # worst 0.79 (Rocketbox, hand-sculpted); two disjoint sides give ~1.4
    "side": (">=", 0.6),  # worst 0.64 (johnsmith)
    "rigidity": ("<=", 0.15),  # worst 0.12 (MakeHuman's autogenerated eyeLook: a linear rotation)
    "interpenetration": ("<=", 0.15),  # worst 0.11 (MakeHuman hm08: lids and lips against eyes and teeth)
    "stretch": ("<=", 15.0),  # worst 12.2 (ICT jawOpen: inner lip corners)
    "far_motion": ("<=", 0.2),  # worst 0.03 (ICT)
    # worst 0.158 (Weboji tiger mouthPucker; boy jawOpen 0.143); facerig's torn facecustom jawOpen 0.29
    "lip_tear": ("<=", 0.2),
    # worst 0.133 S^2 (Weboji boy jawOpen; then its brows 0.076); facerig's facecustom jawOpen 0.28 before untangling
    "folds": ("<=", 0.15),
}
CHECKS = tuple(THRESHOLDS)

# one-sided shapes: their motion belongs on the side their name says
_SIDED = (
    "eyeBlink",
    "eyeSquint",
    "eyeWide",
    "browDown",
    "browOuterUp",
    "cheekSquint",
    "noseSneer",
    "mouthSmile",
    "mouthFrown",
    "mouthDimple",
    "mouthStretch",
    "mouthPress",
    "mouthLowerDown",
    "mouthUpperUp",
)
_LID_SHAPES = ("eyeBlink", "eyeSquint", "eyeWide")  # stylised rigs close an eye cap by deforming it
#: mirror: n/a on a head where fewer vertices have a mirror image (within 0.02 S of a reflected
#: vertex): too few to compare left and right (the author rigs' heads: >= 15 %, ICT remeshed; the
#: flat-shaded, lopsided robot helmet heads/robot_expressive_head: 2 %)
MIRROR_MIN_MATCHED = 0.05
_RIGID_MIN_MOTION = 0.005  # parts moving less (RMS, in eye distances; 0.3 mm at human scale) are not scored


def _row(check: str, shape: str | None, value: float | None, note: str = "") -> dict[str, Any]:
    op, thr = THRESHOLDS[check]
    if value is None or not np.isfinite(value):
        status = "n/a"
        value = None
    else:
        ok = value >= thr if op == ">=" else value <= thr
        status = "pass" if ok else "fail"
        value = float(value)
    return {"check": check, "shape": shape, "value": value, "op": op, "threshold": thr, "status": status, "note": note}


# ----------------------------------------------------------------------------- reading rigs


def _read_rig(path: str | os.PathLike, head: str | os.PathLike | None = None) -> Rig:
    """A rig for checking, through the one rig loader (:func:`facerig.io.rigfile.read_rig`;
    ``head`` for a rig stored without its neutral or faces), with canonical ARKit names.

    Raises:
        FacerigError: unreadable rig, no faces, or a head with another vertex count.
    """
    from facerig.io.rigfile import read_rig

    rig = read_rig(path, head=head)
    if rig.faces is None or len(rig.faces) == 0:
        raise FacerigError(f"{path}: the rig has no faces; pass the head mesh with --head")
    rig.names = [canonical_name(n) or n for n in rig.names]
    return rig


# ----------------------------------------------------------------------------- eyes


def _eyelid_rows(rig: Rig, v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    rows = []
    f = np.asarray(rig.faces, np.int64)
    skin_faces = np.flatnonzero(lay.face_part == lay.skin)
    for side in ("Left", "Right"):
        name = f"eyeBlink{side}"
        if name not in d:
            rows.append(_row("eyelid_closure", name, None, "shape not in the rig"))
            continue
        eye = next((e for e in lay.eyes if e.side == side), None)
        if eye is None:
            rows.append(_row("eyelid_closure", name, None, "no eyeball or eye hole found"))
            continue
        # the check's measure of an eye (facerig.geometry.eye_closure), shared with the rig's eyelid step
        before, after, total = blink_open_rays(v0, f, eye, skin_faces, d[name])
        if after is None:
            rows.append(
                _row(
                    "eyelid_closure",
                    name,
                    None,
                    f"eye closed at neutral ({before / max(total, 1):.0%} of the {eye.kind} seen)",
                )
            )
            continue
        rows.append(_row("eyelid_closure", name, 1.0 - after / before, f"{eye.kind}: {before} -> {after} rays open"))
    return rows


# ----------------------------------------------------------------------------- mouth


def _mouth_rows(rig: Rig, v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout, mouth=None, why="") -> list[dict]:
    """mouth_open / mouth_close rows; ``mouth``, ``why``: :func:`facerig.geometry.mouth.find_mouth` of the head."""
    f = np.asarray(rig.faces, np.int64)
    if "jawOpen" not in d:
        return [
            _row("mouth_open", "jawOpen", None, "shape not in the rig"),
            _row("mouth_close", "mouthClose", None, "jawOpen not in the rig"),
        ]
    if mouth is None:  # a statue's lips, a face mesh whose lips are joined by faces: nothing to open
        return [_row("mouth_open", "jawOpen", None, why), _row("mouth_close", "mouthClose", None, why)]
    seen0 = seen_at_neutral(v0, f, lay)
    g0 = lip_gap(v0, f, lay, seen0, v0, mouth.inside)
    gj = lip_gap(v0 + d["jawOpen"], f, lay, seen0, v0, mouth.inside)
    note = f"lip gap {g0 / lay.scale:.3f} -> {gj / lay.scale:.3f} S"
    if gj <= 0:
        note += " (the lips do not part: not moved apart, or one connected sheet of skin)"
    rows = [_row("mouth_open", "jawOpen", (gj - g0) / lay.scale, note)]
    if "mouthClose" not in d:
        rows.append(_row("mouth_close", "mouthClose", None, "shape not in the rig"))
    elif gj - g0 < THRESHOLDS["mouth_open"][1] * lay.scale:
        rows.append(_row("mouth_close", "mouthClose", None, "jawOpen opens no gap to close"))
    else:
        gc = lip_gap(v0 + d["jawOpen"] + d["mouthClose"], f, lay, seen0, v0, mouth.inside)
        rows.append(
            _row(
                "mouth_close",
                "mouthClose",
                1.0 - (gc - g0) / (gj - g0),
                f"gap with jawOpen {gj / lay.scale:.3f} S -> with mouthClose {gc / lay.scale:.3f} S",
            )
        )
    return rows


def _jaw_teeth_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    if "jawOpen" not in d:
        return [_row("jaw_teeth", "jawOpen", None, "shape not in the rig")]
    if not lay.mouth_parts:
        return [_row("jaw_teeth", "jawOpen", None, "no teeth or tongue found")]
    m = np.linalg.norm(d["jawOpen"], axis=1)
    chin = float(np.percentile(m[lay.labels == lay.skin], 99))
    if chin <= 0:
        return [_row("jaw_teeth", "jawOpen", 0.0, "jawOpen does not move the skin")]
    best, where = 0.0, ""
    for p in lay.mouth_parts:
        r = float(np.sqrt((m[lay.labels == p] ** 2).mean())) / chin
        if r > best:
            best, where = r, f"part {p} ({int((lay.labels == p).sum())} vertices)"
    return [_row("jaw_teeth", "jawOpen", best, where)]


# ----------------------------------------------------------------------------- symmetry


def _fro(x: np.ndarray) -> float:
    """Frobenius norm without BLAS (np.linalg.norm's dot stalls when BLAS threads contend)."""
    return float(np.sqrt((x * x).sum()))


def _mirror_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    from scipy.spatial import cKDTree

    refl = v0.copy()
    refl[:, 0] = 2 * lay.mid_x - refl[:, 0]
    dist, j = cKDTree(v0).query(refl)
    valid = dist < 0.02 * lay.scale
    rows = []
    flip = np.array([-1.0, 1.0, 1.0])
    lopsided = valid.mean() < MIRROR_MIN_MATCHED
    for name in ARKIT52:
        if "Left" not in name or name not in d:
            continue
        other = name.replace("Left", "Right")
        pair = f"{name}/{other}"
        if lopsided:
            rows.append(
                _row(
                    "mirror",
                    pair,
                    None,
                    f"head not mirror-symmetric ({valid.mean():.0%} of vertices have a mirror image)",
                )
            )
            continue
        if other not in d:
            rows.append(_row("mirror", pair, None, f"{other} not in the rig"))
            continue
        dl = d[name][valid]
        dr = d[other][j[valid]] * flip
        scale = 0.5 * (_fro(dl) + _fro(dr))
        if scale < 1e-6 * lay.scale:
            rows.append(_row("mirror", pair, None, "neither side moves"))
            continue
        rows.append(_row("mirror", pair, _fro(dl - dr) / scale, f"{valid.mean():.0%} of vertices have a mirror image"))
    for name in ARKIT52:
        if not name.startswith(_SIDED) or name not in d:
            continue
        sign = 1.0 if "Left" in name else -1.0
        m2 = (d[name] ** 2).sum(1)
        total = m2.sum()
        if total <= 0:
            rows.append(_row("side", name, None, "shape does not move"))
            continue
        x = sign * (v0[:, 0] - lay.mid_x)
        rows.append(_row("side", name, float(m2[x > 0].sum() / total)))
    return rows


# ----------------------------------------------------------------------------- rigid parts


def kabsch_residual(p: np.ndarray, q: np.ndarray) -> float:
    """RMS distance of ``q`` (N, 3) to the best rigid motion (rotation + translation) of ``p`` (N, 3)."""
    pc, qc = p - p.mean(0), q - q.mean(0)
    u, _, vt = np.linalg.svd(pc.T @ qc)
    dsign = np.sign(np.linalg.det(u @ vt)) or 1.0
    r = u @ np.diag([1.0, 1.0, dsign]) @ vt
    return float(np.sqrt(((pc @ r - qc) ** 2).sum(1).mean()))


def _teeth(lay: Layout, v0: np.ndarray) -> list[int]:
    """Labels of the mouth parts small enough to be teeth (:func:`facerig.geometry.rigid.teeth_parts`)."""
    from facerig.geometry.rigid import teeth_parts

    return teeth_parts(lay, v0)


def _rigidity_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    teeth = _teeth(lay, v0)
    parts = [("eyeball", p) for p in lay.eyeball_parts] + [("teeth", p) for p in teeth]
    if not parts:
        return [_row("rigidity", None, None, "no eyeballs or teeth found")]
    idx = {p: np.flatnonzero(lay.labels == p) for _, p in parts}
    rows = []
    for name, dk in d.items():
        worst, where = None, ""
        for kind, p in parts:
            if (kind == "teeth" and name == "tongueOut") or (kind == "eyeball" and name.startswith(_LID_SHAPES)):
                continue
            pi = idx[p]
            m = float(np.sqrt((dk[pi] ** 2).sum(1).mean()))
            if m < _RIGID_MIN_MOTION * lay.scale:
                continue
            res = kabsch_residual(v0[pi], v0[pi] + dk[pi]) / m
            if worst is None or res > worst:
                worst, where = res, f"{kind} {p} ({len(pi)} vertices)"
        if worst is not None:
            rows.append(_row("rigidity", name, worst, where))
    return rows or [_row("rigidity", None, None, "no shape moves the eyeballs or teeth")]


# ----------------------------------------------------------------------------- whole-shape checks


def _edges(faces: np.ndarray) -> np.ndarray:
    f = np.asarray(faces, np.int64)
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    return np.unique(e, axis=0)


def _stretch_rows(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    e = _edges(faces)
    l0 = np.linalg.norm(v0[e[:, 0]] - v0[e[:, 1]], axis=1)
    ok = l0 > max(0.5 * float(np.median(l0)), 1e-6 * lay.scale)
    e, l0 = e[ok], l0[ok]
    rows = []
    for name, dk in d.items():
        p = v0 + dk
        ln = np.linalg.norm(p[e[:, 0]] - p[e[:, 1]], axis=1)
        grown = ln - l0 > 0.01 * lay.scale
        ratio = float((ln[grown] / l0[grown]).max()) if grown.any() else 1.0
        rows.append(_row("stretch", name, ratio, f"{int(grown.sum())} edges lengthened > 0.01 S"))
    return rows


def _far_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    if lay.eye_y is None:
        return [_row("far_motion", None, None, "no eyes found: no face frame")]
    far = (v0[:, 1] < lay.eye_y - 4 * lay.scale) | (v0[:, 2] < lay.eye_z - 2.5 * lay.scale)
    if not far.any():
        return [_row("far_motion", None, None, "no vertex far from the face")]
    rows = []
    for name, dk in d.items():
        m = np.linalg.norm(dk, axis=1)
        top = float(m.max())
        if top <= 0:
            continue
        rows.append(_row("far_motion", name, float(m[far].max()) / top, f"{int(far.sum())} far vertices"))
    return rows


def _tear_rows(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray], lay: Layout, mouth, why: str) -> list[dict]:
    """lip_tear rows, one per shape (n/a without a mouth opening: ``why``)."""
    from facerig.geometry.lip_tear import along_line_edges, along_line_pairs, lip_tear

    if mouth is None:
        return [_row("lip_tear", None, None, why)]
    skin = faces[lay.face_part == lay.skin]
    triples = along_line_pairs(v0, along_line_edges(v0, skin, mouth, lay.scale), mouth)
    if not len(triples):
        return [_row("lip_tear", None, None, "no edges along the lip line")]
    names = list(d)
    vals = lip_tear(np.stack([d[n] for n in names]), triples, lay.scale)
    return [
        _row("lip_tear", n, float(x), f"{len(triples)} vertex pairs along the lip line") for n, x in zip(names, vals)
    ]


def _interp_rows(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    from facerig.eval.check_contact import penetration_ratios

    names = list(d)
    blockers = lay.eyeball_parts + _teeth(lay, v0)
    if not names or not blockers:
        return [_row("interpenetration", None, None, "no eyeballs or teeth found" if names else "no shapes")]
    ratio, n = penetration_ratios(v0, faces, np.stack([d[k] for k in names]), lay.labels, blockers, lay.scale)
    if n == 0:
        return [_row("interpenetration", None, None, "nothing lies near the eyeballs or teeth")]
    return [_row("interpenetration", k, float(r), f"{n} vertices near eyeballs / teeth") for k, r in zip(names, ratio)]


def _fold_rows(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    """folds rows, one per shape: folded skin area / S^2 (mouthClose posed on jawOpen)."""
    from facerig.geometry.untangle import folded_faces

    skin = lay.face_part == lay.skin
    if not skin.any():
        return [_row("folds", None, None, "no skin part")]
    c = np.cross(v0[faces[:, 1]] - v0[faces[:, 0]], v0[faces[:, 2]] - v0[faces[:, 0]])
    area = 0.5 * np.linalg.norm(c, axis=1) * skin / lay.scale**2
    rows = []
    for name, dk in d.items():
        note = "skin triangles turned over"
        if name == "mouthClose" and "jawOpen" in d:
            dk, note = dk + d["jawOpen"], note + " (with jawOpen)"
        fold = folded_faces(v0, faces, dk[None])[0]
        rows.append(_row("folds", name, float(area[fold].sum()), f"{int((fold & skin).sum())} {note}"))
    return rows


# ----------------------------------------------------------------------------- driver


def _head_of_body(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray]):
    """A rig of a body or bust (:func:`facerig.geometry.head_locate.locate_head` on the upright
    neutral (V, 3)): ``(idx, faces, info)``: the crop's vertices (N,), its faces (F', 3) indexing
    them (the checks judge the head, as ``facerig rig`` rigs it) and ``info`` (the region, the
    crop's vertex count and the largest motion outside it); None for a head."""
    from facerig.geometry.head_locate import crop_vertices, locate_head

    region = locate_head(v0, faces)
    if region is None:
        return None
    inside = crop_vertices(v0, faces, region)
    idx = np.flatnonzero(inside)
    if len(idx) == 0:
        return None
    index = np.full(len(v0), -1, np.int64)
    index[idx] = np.arange(len(idx))
    outside = max((float(np.abs(x[~inside]).max()) for x in d.values() if (~inside).any()), default=0.0)
    info = {**region.as_dict(), "vertices": int(len(idx)), "of": int(len(v0)), "outside_motion": outside}
    return idx, index[faces[inside[faces].all(1)]], info


def check_rig(
    rig: Rig, *, up: str = "+y", forward: str = "+z", checks: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Audit ``rig`` on its own neutral (see module doc).

    Args:
        rig: names (K,), deltas (K, V, 3), neutral (V, 3), faces (F, 3) required.
        up, forward: the rig's axes pointing up and out of the face (as for ``facerig rig``).
        checks: only these checks (default all of :data:`CHECKS`).

    Returns:
        JSON-able dict: ``rows`` (one per check and shape: check, shape, value, op, threshold,
        status pass/fail/n/a, note), ``summary`` (per check: worst value, status, counts),
        ``passed`` (no row failed), ``layout`` (what was found), ``missing`` (ARKit shapes the
        rig lacks), ``seconds``.

    Raises:
        FacerigError: no faces, no ARKit-named shape, NaN / inf values, or an unknown check.
    """
    from facerig.geometry.frame import orientation_matrix

    t0 = time.perf_counter()
    want = tuple(checks) if checks else CHECKS
    bad = [c for c in want if c not in THRESHOLDS]
    if bad:
        raise FacerigError(f"unknown check {bad[0]!r}: use {', '.join(CHECKS)}")
    if rig.faces is None or len(rig.faces) == 0:
        raise FacerigError("the rig has no faces: cannot check it")
    R = orientation_matrix(up, forward)
    same = np.array_equal(R, np.eye(3))

    def rot(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float64) if same else np.asarray(x, np.float64) @ R.T

    v0 = rot(rig.neutral)
    faces = np.asarray(rig.faces, np.int64)
    d: dict[str, np.ndarray] = {}
    for i, n in enumerate(rig.names):
        c = canonical_name(n)
        if c is not None and c not in d:
            d[c] = rot(rig.deltas[i])
    if not d:
        raise FacerigError("the rig has no ARKit-named shapes: nothing to check")
    bad_shape = next((n for n, x in d.items() if not np.isfinite(x).all()), None)
    if not np.isfinite(v0).all() or bad_shape:
        raise FacerigError(
            f"the rig has NaN or infinite values ({'in ' + bad_shape if bad_shape else 'in the neutral'})"
        )
    body = _head_of_body(v0, faces, d)  # a body or bust: the checks judge its head's crop
    if body is not None:
        idx, faces, body = body
        v0, d = v0[idx], {k: x[idx] for k, x in d.items()}
        rig = dataclasses.replace(
            rig,
            deltas=rig.deltas[:, idx],
            neutral=rig.neutral[idx],
            faces=faces,
            parts=None if rig.parts is None else np.asarray(rig.parts)[idx],
        )
    lay = find_layout(v0, faces)
    mouth, mouth_note = None, "not looked for"
    if "mouth_open" in want or "mouth_close" in want or "lip_tear" in want:
        from facerig.geometry.mouth import find_mouth

        mouth, mouth_note = find_mouth(v0, faces, lay, d.get("jawOpen"))
    rows: list[dict] = []
    if "eyelid_closure" in want:
        rows += _eyelid_rows(rig, v0, d, lay)
    if "mouth_open" in want or "mouth_close" in want:
        rows += [r for r in _mouth_rows(rig, v0, d, lay, mouth, mouth_note) if r["check"] in want]
    if "jaw_teeth" in want:
        rows += _jaw_teeth_rows(v0, d, lay)
    if "mirror" in want or "side" in want:
        rows += [r for r in _mirror_rows(v0, d, lay) if r["check"] in want]
    if "rigidity" in want:
        rows += _rigidity_rows(v0, d, lay)
    if "interpenetration" in want:
        rows += _interp_rows(v0, faces, d, lay)
    if "stretch" in want:
        rows += _stretch_rows(v0, faces, d, lay)
    if "far_motion" in want:
        rows += _far_rows(v0, d, lay)
    if "lip_tear" in want:
        rows += _tear_rows(v0, faces, d, lay, mouth, mouth_note)
    if "folds" in want:
        rows += _fold_rows(v0, faces, d, lay)
    summary = summarize(rows, want)
    return {
        "rows": rows,
        "summary": summary,
        "passed": all(s["status"] != "fail" for s in summary.values()),
        "layout": {
            "vertices": len(v0),
            "shapes": len(d),
            "eye_distance": lay.scale,
            "eyes": [
                {"side": e.side, "kind": e.kind, "center": e.center.tolist(), "radius": e.radius} for e in lay.eyes
            ],
            "skin_part": lay.skin,
            "eyeball_parts": lay.eyeball_parts,
            "mouth_parts": lay.mouth_parts,
            "mouth": {"found": mouth is not None, "note": mouth_note}
            | (
                {"kind": mouth.kind, "lip_y": float(mouth.y[mouth.mid]), "corners": list(mouth.corners)}
                if mouth
                else {}
            ),
            "parts": int(lay.labels.max()) + 1 if lay.labels.size else 0,
        }
        | ({"head_on_body": body} if body is not None else {}),
        "missing": [n for n in ARKIT52 if n not in d],
        "seconds": time.perf_counter() - t0,
    }


def summarize(rows: list[dict], checks: tuple[str, ...] = CHECKS) -> dict[str, dict[str, Any]]:
    """Per check: ``worst`` value (lowest for >= checks, highest for <=), ``worst_shape``,
    ``status`` (fail if any row fails, n/a if none applies, else pass), ``pass``/``fail``/``na`` counts."""
    out = {}
    for c in checks:
        rs = [r for r in rows if r["check"] == c]
        op, thr = THRESHOLDS[c]
        vals = [r for r in rs if r["value"] is not None]
        worst = (min if op == ">=" else max)(vals, key=lambda r: r["value"]) if vals else None
        n_fail = sum(r["status"] == "fail" for r in rs)
        n_pass = sum(r["status"] == "pass" for r in rs)
        out[c] = {
            "op": op,
            "threshold": thr,
            "worst": worst["value"] if worst else None,
            "worst_shape": worst["shape"] if worst else None,
            "status": "fail" if n_fail else ("pass" if n_pass else "n/a"),
            "pass": n_pass,
            "fail": n_fail,
            "na": len(rs) - n_pass - n_fail,
            "note": "" if vals or not rs else rs[0]["note"],
        }
    return out


EVAL_CHECKS = tuple(c for c in CHECKS if c != "interpenetration")  # facerig eval has its own interp columns


def check_summary(rig: Rig, faces: np.ndarray | None = None, checks: tuple[str, ...] = EVAL_CHECKS) -> dict[str, Any]:
    """Compact check of one rig for ``facerig eval``'s JSON: ``{"passed", "seconds", "checks": {check:
    {"worst", "worst_shape", "status"}}}`` (interpenetration left to eval's own columns).

    Args:
        rig: the rig (neutral (V, 3), deltas (K, V, 3)); faces: (F, 3) used when ``rig.faces`` is None.
    """
    if rig.faces is None and faces is not None:
        rig = Rig(rig.names, rig.deltas, rig.neutral, faces, rig.parts, rig.meta)
    res = check_rig(rig, checks=checks)
    return {
        "passed": res["passed"],
        "seconds": res["seconds"],
        "checks": {c: {k: s[k] for k in ("worst", "worst_shape", "status")} for c, s in res["summary"].items()},
    }


def check_pass_rates(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per check over eval head records carrying ``check``: heads passing / failing / n-a."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        for c, s in (r.get("check") or {}).get("checks", {}).items():
            o = out.setdefault(c, {"pass": 0, "fail": 0, "na": 0})
            o["pass" if s["status"] == "pass" else "fail" if s["status"] == "fail" else "na"] += 1
    for o in out.values():
        n = o["pass"] + o["fail"]
        o["pass_rate"] = o["pass"] / n if n else None
    return out
