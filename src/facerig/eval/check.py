"""``facerig check``: audit a blendshape rig on its own head, with no ground truth.

Each check gives a number per shape (or per Left/Right pair), a threshold and PASS / FAIL, or
"n/a" with the reason when it does not apply (a shape the rig lacks, a head without eyes,
eyes closed at neutral). Distances are in units of the head's eye distance ``S`` (see
:mod:`facerig.eval.check_parts`), so thresholds hold for any units. Shapes are posed at weight 1.

=================  ==========================================================================
check              value (pass when ``value op threshold``; see :data:`THRESHOLDS`)
=================  ==========================================================================
eyelid_closure     eyeBlinkLeft/Right: 1 - (eye opening after) / (opening at neutral); the
                   opening is the share of rays along -Z over the eyeball's front disc that
                   hit the eyeball first (through the lids), or, for a face mask without
                   eyeballs, that pass through the eye hole
mouth_open         jawOpen: gap between the lips along the mid-line (the longest run of rays
                   that see into the mouth: nothing, teeth / tongue, or skin hidden from the
                   front at neutral, bounded by skin above and below), minus that at neutral, / S
mouth_close        mouthClose with jawOpen at 1 (as ARKit defines it): 1 - gap / jawOpen's gap
mirror             each Left shape vs its Right shape reflected across the mid-plane (vertices
                   matched by nearest reflected neutral): |dL - mirror(dR)| / mean(|dL|, |dR|)
side               a one-sided shape (eyeBlinkLeft, mouthSmileLeft, ...) moves its own side: share
                   of the squared motion on the named side (character's left = +X)
rigidity           eyeballs (eyelid shapes excepted: stylised rigs deform an eye cap to blink)
                   and teeth (mouth parts with <= 2 % of the vertices; tongueOut excepted): RMS
                   residual of the best rigid motion (Kabsch) / RMS motion, worst part; parts
                   moving < 0.001 S skipped
interpenetration   :func:`facerig.eval.metrics.interpenetration` (skin through eyeballs / teeth,
                   lids through the eyeball), at the 63 mm eye-distance scale
stretch            largest edge length ratio posed / neutral among edges lengthened by > 0.01 S
                   and not shorter than half the median edge (tiny edges of lid and lip corners
                   stretch many times in the authors' own rigs)
far_motion         largest motion of vertices far from the face (more than 4 S below the eyes, or
                   2.5 S behind them) / largest motion of the shape
=================  ==========================================================================

The thresholds are calibrated so that every author's rig in the shared data passes every check
that applies to it (``benchmarks/check_calibration.py``; table in BENCHMARKS.md, "Rig check").
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import FacerigError
from facerig.eval.check_parts import Eye, Layout, find_layout
from facerig.eval.check_rays import Grid, first_hits
from facerig.io.rig import Rig

# check -> (op, threshold); see the module docstring and BENCHMARKS.md "Rig check"
THRESHOLDS: dict[str, tuple[str, float]] = {
    "eyelid_closure": (">=", 0.8),
    "mouth_open": (">=", 0.05),
    "mouth_close": (">=", 0.5),
    "mirror": ("<=", 1.0),
    "side": (">=", 0.6),
    "rigidity": ("<=", 0.15),
    "interpenetration": ("<=", 0.05),
    "stretch": ("<=", 5.0),
    "far_motion": ("<=", 0.2),
}
CHECKS = tuple(THRESHOLDS)

# one-sided shapes: their motion belongs on the side their name says
_SIDED = ("eyeBlink", "eyeSquint", "eyeWide", "browDown", "browOuterUp", "cheekSquint", "noseSneer",
          "mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch", "mouthPress", "mouthLowerDown",
          "mouthUpperUp")
_LID_SHAPES = ("eyeBlink", "eyeSquint", "eyeWide")  # stylised rigs close an eye cap by deforming it
_TEETH_MAX_SHARE = 0.02  # a mouth part with more of the vertices is a mouth bag or a tongue, not teeth
_EYE_OPEN_MIN = 0.1  # eye opening at neutral below this share of the window: eye closed, n/a


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


def read_rig(path: str | os.PathLike, head: str | os.PathLike | None = None) -> Rig:
    """Read a rig for checking: NPZ (facerig's, an external rig's ``arkit_names``, or a
    ``NAME.blendshapes.npz`` with deltas only and ``head`` for the mesh), GLB/glTF, or OBJ folder.

    Args:
        path: the rig. head: optional mesh (OBJ, ...) whose vertices / faces are the rig's
            neutral (used where the rig has none; must have the rig's vertex count).

    Returns:
        :class:`Rig` with canonical ARKit names where they match (others kept as they are),
        ``faces`` set, ``meta["mm_per_unit"]`` when the file gives it.

    Raises:
        FacerigError: unreadable rig, no faces, or a head with another vertex count.
    """
    p = Path(path)
    if not p.exists():
        raise FacerigError(f"{p}: no such rig")
    mesh = None
    if head is not None:
        from facerig.io import load_mesh

        mesh = load_mesh(head, allow_degenerate=True, allow_unreferenced=True)
    if p.is_dir():
        from facerig.io.objset import load_rig_obj_folder

        rig = load_rig_obj_folder(p)
    elif p.suffix.lower() in (".glb", ".gltf"):
        from facerig.io.gltf import load_rig_gltf

        rig = load_rig_gltf(p)
    elif p.suffix.lower() == ".npz":
        rig = _read_npz(p, mesh)
    else:
        raise FacerigError(f"{p}: not a rig (expected .npz, .glb, .gltf or an OBJ folder)")
    if mesh is not None:
        if mesh.num_vertices != rig.num_vertices:
            raise FacerigError(f"{head}: {mesh.num_vertices} vertices, the rig {p.name} has {rig.num_vertices}")
        if rig.faces is None:
            rig.faces = mesh.faces
    if rig.faces is None or len(rig.faces) == 0:
        raise FacerigError(f"{p}: the rig has no faces; pass the head mesh with --head")
    rig.names = [canonical_name(n) or n for n in rig.names]
    return rig


def _read_npz(p: Path, mesh) -> Rig:
    try:
        z = np.load(p, allow_pickle=False)
        keys = set(z.files)
    except Exception as e:  # noqa: BLE001
        raise FacerigError(f"{p}: not a rig NPZ ({e.__class__.__name__}: {e})") from None
    if "deltas" not in keys or ("names" not in keys and "arkit_names" not in keys):
        raise FacerigError(f"{p}: rig NPZ lacks deltas or names")
    if "neutral" in keys:
        neutral = z["neutral"]
    elif mesh is not None:
        neutral = mesh.vertices
    else:
        raise FacerigError(f"{p}: the NPZ has no neutral; pass the head mesh with --head")
    names = [str(n) for n in (z["arkit_names"] if "arkit_names" in keys else z["names"])]
    meta: dict[str, Any] = {}
    if "meta" in keys:
        import json

        try:
            meta = json.loads(str(z["meta"]))
        except ValueError:
            meta = {}
    if "mm_per_unit" in keys:
        meta["mm_per_unit"] = float(z["mm_per_unit"])
    deltas = z["deltas"]
    if deltas.ndim != 3 or deltas.shape[1:] != (len(neutral), 3) or deltas.shape[0] != len(names):
        raise FacerigError(f"{p}: deltas {deltas.shape} do not match {len(names)} names x {len(neutral)} vertices")
    faces = z["faces"] if "faces" in keys else None
    return Rig(names=names, deltas=deltas, neutral=neutral, faces=faces, meta=meta)


# ----------------------------------------------------------------------------- eyes


def _inside_polygon(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points (x, y) (any shape) inside the XY polygon poly (L, 2) (even-odd rule)."""
    inside = np.zeros(x.shape, bool)
    px, py = poly[:, 0], poly[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    for ax, ay, bx, by in zip(px, py, qx, qy):
        cross = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= cross & (x < xi)
    return inside


def eye_opening(vertices: np.ndarray, faces: np.ndarray, eye: Eye, neutral: np.ndarray, skin_faces: np.ndarray,
                n: int = 41) -> tuple[int, int]:
    """How much of an eye is seen from the front: ``(open rays, rays in the window)``.

    Args:
        vertices: (V, 3) posed vertices. faces: (F, 3). eye: the eye (window from the neutral).
        neutral: (V, 3) neutral vertices (for the hole's outline). skin_faces: (Fs,) rows of
            ``faces`` that are skin. n: rays across the window.

    An eyeball's window is the disc of 0.9 x its radius around its centre; a ray is open when
    it meets the eyeball before the skin (other parts are ignored). A hole's window is the hole's outline at neutral; a
    ray is open when it hits nothing or only surfaces more than the hole's radius behind it.
    """
    c, r = eye.center, eye.radius
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    if eye.kind == "eyeball":
        window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.9 * r) ** 2
        # the skin and this eyeball only: lashes, tear films and occlusion shells are no lids
        sub = np.concatenate([skin_faces, eye.faces])
        hit, _ = first_hits(vertices, faces[sub], grid)
        opened = hit >= len(skin_faces)
    else:
        ring = neutral[eye.loop]
        window = _inside_polygon(X, Y, ring[:, :2])
        hit, depth = first_hits(vertices, faces, grid)
        opened = (hit < 0) | (depth < ring[:, 2].mean() - r)
    return int((opened & window).sum()), int(window.sum())


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
        before, total = eye_opening(v0, f, eye, v0, skin_faces)
        if total == 0 or before < _EYE_OPEN_MIN * total:
            rows.append(_row("eyelid_closure", name, None,
                             f"eye closed at neutral ({before / max(total, 1):.0%} of the {eye.kind} seen)"))
            continue
        after, _ = eye_opening(v0 + d[name], f, eye, v0, skin_faces)
        rows.append(_row("eyelid_closure", name, 1.0 - after / before, f"{eye.kind}: {before} -> {after} rays open"))
    return rows


# ----------------------------------------------------------------------------- mouth


def _mouth_grid(lay: Layout, v0: np.ndarray, half_width: float, posed: np.ndarray | None = None) -> Grid:
    """Rays over the mid-line strip from below the chin (neutral or posed) to just under the eyes."""
    S = lay.scale
    skin = lay.labels == lay.skin
    sv = v0[skin]
    bottom = float(sv[:, 1].min()) if posed is None else min(float(sv[:, 1].min()), float(posed[skin, 1].min()))
    top = lay.eye_y - 0.3 * S if lay.eye_y is not None else float(sv[:, 1].max())
    return Grid.around(lay.mid_x - half_width, lay.mid_x + half_width, bottom - 0.02 * S, top, S / 150)


def lip_gap(vertices: np.ndarray, faces: np.ndarray, lay: Layout, seen0: np.ndarray, v0: np.ndarray) -> float:
    """Gap between the lips along the mid-line (median over 5 columns within 0.15 S of it), in units.

    Args:
        vertices: (V, 3) posed. faces: (F, 3). lay: the head's layout. seen0: (F,) bool faces seen
            from the front at neutral. v0: (V, 3) neutral (for the scan's extent).

    A ray sees into the mouth when it hits nothing, a mouth part, or a face hidden at neutral;
    the gap is the longest run of such rays with a seen-at-neutral hit at both ends.
    """
    grid = _mouth_grid(lay, v0, 0.15 * lay.scale, vertices)
    hit, _ = first_hits(vertices, faces, grid)
    f_part = lay.face_part
    mouth = np.isin(f_part, lay.mouth_parts)
    into = (hit < 0) | mouth[hit] | ~seen0[hit]
    cols = np.linspace(0, grid.nx - 1, 5).round().astype(int)
    gaps = []
    for c in cols:
        col = into[:, c]
        best, run, bounded = 0, 0, False
        for j in range(grid.ny):
            if col[j]:
                run += 1
            else:
                if bounded and run > best:
                    best = run
                run, bounded = 0, True
        gaps.append(best * grid.step)
    return float(np.median(gaps))


def _seen_at_neutral(v0: np.ndarray, faces: np.ndarray, lay: Layout) -> np.ndarray:
    grid = _mouth_grid(lay, v0, 0.25 * lay.scale)
    fine = Grid(grid.x0, grid.y0, grid.step / 2, 2 * grid.nx, 2 * grid.ny)
    hit, _ = first_hits(v0, faces, fine)
    seen = np.zeros(len(faces), bool)
    seen[hit[hit >= 0]] = True
    return seen


def _mouth_rows(rig: Rig, v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    f = np.asarray(rig.faces, np.int64)
    if "jawOpen" not in d:
        return [_row("mouth_open", "jawOpen", None, "shape not in the rig"),
                _row("mouth_close", "mouthClose", None, "jawOpen not in the rig")]
    seen0 = _seen_at_neutral(v0, f, lay)
    g0 = lip_gap(v0, f, lay, seen0, v0)
    gj = lip_gap(v0 + d["jawOpen"], f, lay, seen0, v0)
    rows = [_row("mouth_open", "jawOpen", (gj - g0) / lay.scale, f"lip gap {g0 / lay.scale:.3f} -> {gj / lay.scale:.3f} S")]
    if "mouthClose" not in d:
        rows.append(_row("mouth_close", "mouthClose", None, "shape not in the rig"))
    elif gj - g0 < THRESHOLDS["mouth_open"][1] * lay.scale:
        rows.append(_row("mouth_close", "mouthClose", None, "jawOpen opens no gap to close"))
    else:
        gc = lip_gap(v0 + d["jawOpen"] + d["mouthClose"], f, lay, seen0, v0)
        rows.append(_row("mouth_close", "mouthClose", 1.0 - (gc - g0) / (gj - g0),
                         f"gap with jawOpen {gj / lay.scale:.3f} S -> with mouthClose {gc / lay.scale:.3f} S"))
    return rows


# ----------------------------------------------------------------------------- symmetry


def _mirror_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    from scipy.spatial import cKDTree

    refl = v0.copy()
    refl[:, 0] = 2 * lay.mid_x - refl[:, 0]
    dist, j = cKDTree(v0).query(refl)
    valid = dist < 0.02 * lay.scale
    rows = []
    flip = np.array([-1.0, 1.0, 1.0])
    for name in ARKIT52:
        if "Left" not in name or name not in d:
            continue
        other = name.replace("Left", "Right")
        pair = f"{name}/{other}"
        if other not in d:
            rows.append(_row("mirror", pair, None, f"{other} not in the rig"))
            continue
        dl = d[name][valid]
        dr = d[other][j[valid]] * flip
        scale = 0.5 * (np.linalg.norm(dl) + np.linalg.norm(dr))
        if scale < 1e-6 * lay.scale:
            rows.append(_row("mirror", pair, None, "neither side moves"))
            continue
        rows.append(_row("mirror", pair, float(np.linalg.norm(dl - dr) / scale),
                         f"{valid.mean():.0%} of vertices have a mirror image"))
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


def _rigidity_rows(v0: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    V = len(v0)
    teeth = [p for p in lay.mouth_parts if (lay.labels == p).sum() <= _TEETH_MAX_SHARE * V]
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
            if m < 1e-3 * lay.scale:
                continue
            res = kabsch_residual(v0[pi], v0[pi] + dk[pi]) / m
            if worst is None or res > worst:
                worst, where = res, f"{kind} {p} ({len(pi)} vertices)"
        if worst is not None:
            rows.append(_row("rigidity", name, worst, where))
    return rows


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


def _interp_rows(v0: np.ndarray, faces: np.ndarray, d: dict[str, np.ndarray], lay: Layout) -> list[dict]:
    from facerig.eval.metrics import interpenetration

    names = list(d)
    if not names:
        return []
    deltas = np.stack([d[n] for n in names])
    ratio = interpenetration(v0, faces, deltas, lay.labels, mm_per_unit=63.0 / lay.scale)
    return [_row("interpenetration", n, float(r)) for n, r in zip(names, ratio)]


# ----------------------------------------------------------------------------- driver


def check_rig(rig: Rig, *, up: str = "+y", forward: str = "+z", checks: tuple[str, ...] | None = None) -> dict[str, Any]:
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
        FacerigError: no faces, or an unknown check.
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
    v0 = np.asarray(rig.neutral, np.float64) @ R.T
    faces = np.asarray(rig.faces, np.int64)
    d: dict[str, np.ndarray] = {}
    for i, n in enumerate(rig.names):
        c = canonical_name(n)
        if c is not None and c not in d:
            d[c] = np.asarray(rig.deltas[i], np.float64) @ R.T
    lay = find_layout(v0, faces)
    rows: list[dict] = []
    if "eyelid_closure" in want:
        rows += _eyelid_rows(rig, v0, d, lay)
    if "mouth_open" in want or "mouth_close" in want:
        rows += [r for r in _mouth_rows(rig, v0, d, lay) if r["check"] in want]
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
    summary = summarize(rows, want)
    return {
        "rows": rows,
        "summary": summary,
        "passed": all(s["status"] != "fail" for s in summary.values()),
        "layout": {
            "vertices": int(len(v0)), "shapes": len(d), "eye_distance": lay.scale,
            "eyes": [{"side": e.side, "kind": e.kind, "center": e.center.tolist(), "radius": e.radius} for e in lay.eyes],
            "skin_part": lay.skin, "eyeball_parts": lay.eyeball_parts, "mouth_parts": lay.mouth_parts,
            "parts": int(lay.labels.max()) + 1 if lay.labels.size else 0,
        },
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
        out[c] = {"op": op, "threshold": thr, "worst": worst["value"] if worst else None,
                  "worst_shape": worst["shape"] if worst else None,
                  "status": "fail" if n_fail else ("pass" if n_pass else "n/a"),
                  "pass": n_pass, "fail": n_fail, "na": len(rs) - n_pass - n_fail,
                  "note": "" if vals or not rs else rs[0]["note"]}
    return out
