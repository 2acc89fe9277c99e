"""Robustness sweep: realistic variants of the public heads through ``facerig rig`` and ``facerig check``.

Each head (``../shared/data/heads/*.obj`` and the bundled ``examples/ict_head/head.obj``) is turned
into variants a user could bring (each still a valid head), and every variant goes through the CLI
as a user runs it: ``facerig rig VARIANT -o rig.npz`` (no flags) and ``facerig check rig.npz --head
VARIANT --json``. Recorded per run: exit code, the error line, wall time, vertex count, NaN in the
output, and whether the eyelid-closure (blink) and mouth-open (jaw) checks still pass where they
pass on the unmodified head. A variant that a head cannot have (one eyeball on a head without
eyeballs) is skipped.

Variants: units (x0.01, x10, x1000), far from the origin (1e3, 1e5), Blender axes (Z up, -Y
forward: a refusal naming ``--up +z --forward -y`` is the right answer, and the sweep then reruns
with those flags as the user would), tilted 15 / 10 / 20 degrees (pitch, roll, yaw: a scan not
quite upright; the rig is rotated back before the check so the check judges the rig, not the
tilt), welded (coincident vertices merged), split along ~30 patch seams (as exporters split UV
islands), loose junk (a stray triangle cluster far away; a floor plane; hair cards), a hole
around one ear, duplicate and zero-area faces, non-manifold fins, half the faces flipped,
quads / n-gons in the OBJ, decimated to ~1k and subdivided to <= 150k vertices, as GLB and PLY
(trimesh export), eyes and teeth removed, one eyeball removed, on a body (``on_bust``: a flattened
capsule for shoulders and chest below the head; ``on_body``: a tall capsule body;
:func:`facerig.data.bodies.on_body`).

A run fails when: a valid head is refused (exit 2) or crashes (any other non-zero exit, or a
traceback), an upright head gets an orientation refusal or warning (or the Blender head is not
refused with the right flags), the rig takes > 20 s on a head of <= 150k vertices, the output has
NaN or a wrong vertex count, or blink / jaw passed on the unmodified head and fails on the variant.

    nice python benchmarks/robustness_sweep.py [--heads core|all|a,b] [--variants a,b] [--tag T] [--src DIR]
    python benchmarks/robustness_sweep.py --rejudge RESULTS.json        # recompute failures
    python benchmarks/robustness_sweep.py --compare BEFORE.json AFTER.json   # Markdown table

writes ``benchmarks/results/robustness_sweep[_T].json``; ``--src`` runs the CLI from another
source tree (the "before" run: a copy of ``src/`` at 82723af). ``core`` (default) = the example head,
lps_leeperrysmith, mediapipe_canonical_face, rocketbox_female_adult_01, weboji_boy,
weboji_kangaroo (eyeballs + teeth, a split-seam scan, a face mask, a game avatar, a cartoon head
with a mouth interior, a creature), to keep the sweep under ~25 minutes on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
CORE = (
    "ict_head",
    "lps_leeperrysmith",
    "mediapipe_canonical_face",
    "rocketbox_female_adult_01",
    "weboji_boy",
    "weboji_kangaroo",
)
SLOW_S = 20.0


# --------------------------------------------------------------------------- variants


def _rot(axis: str, deg: float) -> np.ndarray:
    """(3, 3) rotation by ``deg`` degrees about a coordinate axis ("x", "y" or "z")."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler(axis, deg, degrees=True).as_matrix()


def _compact(v: np.ndarray, polys: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Drop vertices no polygon uses; (V', 3) and the polygons reindexed."""
    used = np.zeros(len(v), bool)
    for p in polys:
        used[p] = True
    new = np.cumsum(used) - 1
    return v[used], [new[p] for p in polys]


def _tri_polys(f: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(t) for t in f]


def _layout(v: np.ndarray, f: np.ndarray):
    from facerig.geometry.face_parts import find_layout

    return find_layout(v, f)


def _remove_parts(v: np.ndarray, f: np.ndarray, labels: np.ndarray, parts: list[int]):
    keep = ~np.isin(labels[f[:, 0]], parts)
    return _compact(v, _tri_polys(f[keep]))


def _head_size(v: np.ndarray) -> float:
    return float(np.linalg.norm(np.ptp(v, axis=0)))


def _skin_mask(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """(V,) True on the largest part (by bounding box) of the welded head."""
    from facerig.geometry.face_parts import part_labels

    labels = part_labels(v, f)
    ids = np.unique(labels[f.ravel()])
    diag = [np.linalg.norm(np.ptp(v[labels == p], axis=0)) for p in ids]
    return labels == ids[int(np.argmax(diag))]


def _quads_ngons(f: np.ndarray, rng) -> list[np.ndarray]:
    """Triangles merged into quads (pairs sharing an edge) and n-gons (fans of 3-4 triangles about a
    vertex), each polygon listed so that a fan triangulation from its first corner gives back the
    same triangles."""
    n = len(f)
    used = np.zeros(n, bool)
    edge_face: dict[tuple[int, int], int] = {}
    for i, (a, b, c) in enumerate(f.tolist()):
        for e in ((a, b), (b, c), (c, a)):
            edge_face[e] = i
    polys: list[np.ndarray] = []
    order = rng.permutation(n)
    for i in order:
        if used[i]:
            continue
        a, b, c = f[i].tolist()
        # grow a fan about corner a: (a, b, c) then the triangle across (c, a) -> (a, c, e), ...
        fan = [a, b, c]
        used[i] = True
        want = 2 if rng.random() < 0.7 else int(rng.integers(3, 5))  # triangles in the polygon
        cur = c
        while len(fan) - 1 < want:
            j = edge_face.get((a, cur))
            if j is None or used[j]:
                break
            t = f[j].tolist()
            k = t.index(a)
            nxt = t[(k + 2) % 3] if t[(k + 1) % 3] == cur else None
            if nxt is None or nxt in fan:
                break
            used[j] = True
            fan.append(nxt)
            cur = nxt
        polys.append(np.asarray(fan))
    return polys


def make_variants(name: str, v: np.ndarray, f: np.ndarray, seed: int = 0) -> dict:
    """Variants of one head: {variant: (kind, payload)}; kind "mesh" -> (V,3), polygons list;
    "skip" -> reason. Extra keys per variant in payload dict: rotation (3,3) applied, fmt (obj/glb/ply),
    flags expected."""
    rng = np.random.default_rng(seed)
    tris = _tri_polys(f)
    size = _head_size(v)
    lo, hi = v.min(0), v.max(0)
    out: dict[str, dict] = {"base": {"v": v, "polys": tris}}
    for s in (0.01, 10.0, 1000.0):
        out[f"units_x{s:g}"] = {"v": v * s, "polys": tris}
    for d in (1e3, 1e5):
        out[f"far_{d:.0e}"] = {"v": v + d * np.array([0.8, -0.5, 0.33]), "polys": tris}
    blender = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # +Y up -> +Z up, +Z forward -> -Y
    out["blender_axes"] = {
        "v": v @ blender.T,
        "polys": tris,
        "rotation": blender,
        "flags": ["--up", "+z", "--forward", "-y"],
    }
    for axis, deg, tag in (("x", 15.0, "pitch15"), ("z", 10.0, "roll10"), ("y", 20.0, "yaw20")):
        r = _rot(axis, deg)
        c = 0.5 * (lo + hi)
        out[f"tilt_{tag}"] = {"v": (v - c) @ r.T + c, "polys": tris, "rotation": r}
    # welded: coincident vertices merged (one surface where the file had seams)
    key = np.round(v / (size * 1e-7)).astype(np.int64)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    wf = inv[f]
    wf = wf[(wf[:, 0] != wf[:, 1]) & (wf[:, 1] != wf[:, 2]) & (wf[:, 0] != wf[:, 2])]
    out["welded"] = {"v": v[first], "polys": _tri_polys(wf)}
    # split along seams: ~30 patches by face-centroid clustering, each with its own vertices
    from scipy.cluster.vq import kmeans2

    cen = v[f].mean(1)
    _, lab = kmeans2(cen, 30, seed=seed, minit="++")
    nv, nf = [], []
    base = 0
    for p in np.unique(lab):
        pf = f[lab == p]
        ids, loc = np.unique(pf, return_inverse=True)
        nv.append(v[ids])
        nf.append(loc.reshape(-1, 3) + base)
        base += len(ids)
    out["split_seams"] = {"v": np.concatenate(nv), "polys": _tri_polys(np.concatenate(nf))}
    # junk: a stray cluster of 20 small triangles 8 head sizes away
    tri = rng.normal(size=(20, 3, 3)) * size * 0.01 + (hi + 8 * size * np.array([1.0, 0.3, -0.2]))
    out["junk_stray"] = _append(v, tris, tri.reshape(-1, 3), np.arange(60).reshape(-1, 3))
    # junk: a floor plane (10 x 10 quads, 3 head widths) just below the head
    g = np.linspace(-1.5, 1.5, 11) * (hi[0] - lo[0])
    gx, gz = np.meshgrid(g + 0.5 * (lo[0] + hi[0]), g + 0.5 * (lo[2] + hi[2]))
    pv = np.stack([gx.ravel(), np.full(gx.size, lo[1] - 0.02 * size), gz.ravel()], 1)
    idx = np.arange(121).reshape(11, 11)
    quads = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], -1).reshape(-1, 4)
    out["junk_floor"] = _append(v, tris, pv, quads)
    # junk: 400 hair cards (open quads, 6 % of the head size) on the top of the skin
    skin = _skin_mask(v, f)
    top = np.flatnonzero(skin & (v[:, 1] > lo[1] + 0.8 * (hi[1] - lo[1])))
    if len(top):
        roots = v[rng.choice(top, 400)]
        d1 = rng.normal(size=(400, 3))
        d1 /= np.linalg.norm(d1, axis=1, keepdims=True)
        d2 = np.cross(d1, rng.normal(size=(400, 3)))
        d2 /= np.linalg.norm(d2, axis=1, keepdims=True)
        s = 0.06 * size
        cards = np.stack([roots, roots + s * d1, roots + s * (d1 + 0.3 * d2), roots + s * 0.3 * d2], 1)
        out["junk_hair"] = _append(v, tris, cards.reshape(-1, 3), np.arange(1600).reshape(-1, 4))
    # a hole around the +X ear: faces within 7 % of the head height of the skin's widest point at mid height
    band = np.flatnonzero(skin & (np.abs(v[:, 1] - 0.5 * (lo[1] + hi[1])) < 0.15 * (hi[1] - lo[1])))
    ear = v[band[np.argmax(v[band, 0])]]
    near = np.linalg.norm(v - ear, axis=1) < 0.07 * (hi[1] - lo[1])
    keep = ~near[f].any(1)
    out["hole_ear"] = dict(zip(("v", "polys"), _compact(v, _tri_polys(f[keep]))))
    # duplicate and zero-area faces: 3 % duplicated, 1 % (a, a, b), 1 % (a, b, midpoint of ab)
    n = len(f)
    dup = f[rng.choice(n, max(1, n // 33))]
    pick = f[rng.choice(n, max(1, n // 100))]
    deg = pick[:, [0, 0, 1]]
    pick2 = f[rng.choice(n, max(1, n // 100))]
    mids = 0.5 * (v[pick2[:, 0]] + v[pick2[:, 1]])
    col = np.stack([pick2[:, 0], pick2[:, 1], len(v) + np.arange(len(pick2))], 1)
    out["dup_zero_faces"] = {
        "v": np.concatenate([v, mids]),
        "polys": tris + _tri_polys(np.concatenate([dup, deg, col])),
    }
    # non-manifold fins: 1 % of the edges get a third triangle standing off the surface
    pick = f[rng.choice(n, max(1, n // 100))]
    a, b, c = v[pick[:, 0]], v[pick[:, 1]], v[pick[:, 2]]
    nrm = np.cross(b - a, c - a)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-30)
    tip = 0.5 * (a + b) + nrm * np.linalg.norm(b - a, axis=1, keepdims=True)
    fins = np.stack([pick[:, 1], pick[:, 0], len(v) + np.arange(len(pick))], 1)
    out["nonmanifold"] = {"v": np.concatenate([v, tip]), "polys": tris + _tri_polys(fins)}
    # half the faces flipped
    flip = rng.random(n) < 0.5
    ff = f.copy()
    ff[flip] = ff[flip][:, ::-1]
    out["flipped_half"] = {"v": v, "polys": _tri_polys(ff)}
    out["quads_ngons"] = {"v": v, "polys": _quads_ngons(f, rng)}
    # decimated to ~1k vertices (quadric, fast_simplification)
    if len(v) > 1500:
        import fast_simplification

        dv, df = fast_simplification.simplify(v.astype(np.float32), f.astype(np.int32), 1.0 - 1000 / len(v))
        out["decimate_1k"] = {"v": dv.astype(np.float64), "polys": _tri_polys(df)}
    else:
        out["decimate_1k"] = {"skip": f"{len(v)} vertices already"}
    # subdivided (midpoint, the same surface) to the most vertices <= 150k
    sv, sf = v, f
    while True:
        import trimesh

        nv2, nf2 = trimesh.remesh.subdivide(sv, sf)
        if len(nv2) > 150_000:
            break
        sv, sf = nv2, nf2
    out["subdivide_150k"] = {"v": sv, "polys": _tri_polys(sf)} if len(sv) > len(v) else {"skip": "too large"}
    out["as_glb"] = {"v": v, "polys": tris, "fmt": "glb"}
    out["as_ply"] = {"v": v, "polys": tris, "fmt": "ply"}
    lay = _layout(v, f)
    if lay.eyeball_parts or lay.mouth_parts:
        out["no_eyes_teeth"] = dict(
            zip(("v", "polys"), _remove_parts(v, f, lay.labels, lay.eyeball_parts + lay.mouth_parts))
        )
    else:
        out["no_eyes_teeth"] = {"skip": "no eyeballs or teeth found"}
    if lay.eyeball_parts:
        out["one_eyeball"] = dict(zip(("v", "polys"), _remove_parts(v, f, lay.labels, lay.eyeball_parts[:1])))
    else:
        out["one_eyeball"] = {"skip": "no eyeballs"}
    from facerig.data.bodies import on_body

    for kind in ("bust", "body"):  # the head on shoulders and chest, or on a tall body (a separate piece)
        bv, bf = on_body(v, f, kind)
        out[f"on_{kind}"] = {"v": bv, "polys": _tri_polys(bf)}
    return out


def _append(v, polys, nv, nf) -> dict:
    return {"v": np.concatenate([v, nv]), "polys": polys + [np.asarray(p) + len(v) for p in nf]}


def write_variant(path: Path, var: dict) -> Path:
    """Write a variant as OBJ (%.6f, as Blender writes), or GLB / PLY through trimesh."""
    v, polys = var["v"], var["polys"]
    fmt = var.get("fmt", "obj")
    if fmt != "obj":
        import trimesh

        tri = np.array([p for p in polys if len(p) == 3])
        m = trimesh.Trimesh(v, tri, process=False)
        path = path.with_suffix("." + fmt)
        m.export(path)
        return path
    path = path.with_suffix(".obj")
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += ["f " + " ".join(str(i + 1) for i in p) for p in polys]
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- runs


def _cli(args: list[str], timeout: float, env: dict) -> dict:
    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "facerig.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return {"rc": "timeout", "seconds": timeout, "stdout": "", "stderr": ""}
    return {"rc": p.returncode, "seconds": time.perf_counter() - t0, "stdout": p.stdout, "stderr": p.stderr}


def _message(r: dict) -> str:
    text = (r["stderr"] or "").strip().splitlines()
    return text[-1][:300] if text else ""


def _check_rows(path: Path) -> dict:
    rows = json.loads(path.read_text())["rows"]
    out = {}
    for key, check in (("blink", "eyelid_closure"), ("jaw", "mouth_open"), ("close", "mouth_close")):
        st = [r["status"] for r in rows if r["check"] == check]
        out[key] = "fail" if "fail" in st else ("pass" if "pass" in st else "n/a")
    out["failed_checks"] = sorted({r["check"] for r in rows if r["status"] == "fail"})
    out["eye_notes"] = [r.get("note", "") for r in rows if r["check"] == "eyelid_closure"][:2]
    return out


def run_variant(path: Path, var: dict, work: Path, timeout: float, env: dict) -> dict:
    rec: dict = {}
    rig = work / "rig.npz"
    rig.unlink(missing_ok=True)
    r = _cli(["rig", str(path), "-o", str(rig)], timeout, env)
    flags = var.get("flags")
    rec.update(rc=r["rc"], seconds=round(r["seconds"], 2), message=_message(r) if r["rc"] else "")
    rec["traceback"] = "Traceback" in r["stderr"]
    m = re.search(r"rigged: 52 shapes in ([\d.]+)s", r["stdout"])
    rec["rig_seconds"] = float(m.group(1)) if m else None
    rec["warnings"] = [ln.strip() for ln in r["stdout"].splitlines() if "warning" in ln or "note" in ln]
    if flags:  # rigged in the right axes (a note names them) or refused naming them; rerun as the user would
        rec["refused_with_flags"] = r["rc"] == 2 and " ".join(flags) in rec["message"]
        rec["rigged_without_flags"] = r["rc"] == 0
        if r["rc"] == 0 and rig.exists():
            z = np.load(rig, allow_pickle=False)
            orient = (json.loads(str(z["meta"])) if "meta" in z else {}).get("orientation") or {}
            rec["rigged_in_flags_axes"] = ["--up", orient.get("up"), "--forward", orient.get("forward")] == list(flags)
        r = _cli(["rig", str(path), "-o", str(rig), *flags], timeout, env)
        rec.update(rc_with_flags=r["rc"], seconds_with_flags=round(r["seconds"], 2))
        if r["rc"]:
            rec["message_with_flags"] = _message(r)
    if r["rc"] != 0 or not rig.exists():
        return rec
    z = dict(np.load(rig, allow_pickle=False))
    rec["nan"] = bool(not np.isfinite(z["deltas"]).all())
    rec["vertices_out"] = int(z["neutral"].shape[0])
    meta = json.loads(str(z["meta"])) if "meta" in z else {}
    raf = meta.get("raf") or {}
    ff = raf.get("face_frame") or {}
    rec["face_check"] = ff.get("check")
    rec["face_factor"] = ff.get("factor")
    rec["eyelids"] = (
        (raf.get("eyelids") or {}).get("mode") if isinstance(raf.get("eyelids"), dict) else raf.get("eyelids")
    )
    rot = var.get("rotation")
    if rot is not None:  # judge the rig in the upright frame
        c = z["neutral"].mean(0)
        z["neutral"] = ((z["neutral"] - c) @ rot + c).astype(z["neutral"].dtype)
        z["deltas"] = (z["deltas"] @ rot).astype(z["deltas"].dtype)
        np.savez(rig, **z)
    cj = work / "check.json"
    cj.unlink(missing_ok=True)
    # turned upright: the check in +y/+z (not the axes the rig's meta says it was made in)
    head = ["--head", str(path)] if rot is None else ["--up", "+y", "--forward", "+z"]
    c = _cli(["check", str(rig), *head, "--json", str(cj)], timeout, env)
    rec["check_rc"] = c["rc"]
    rec["check_seconds"] = round(c["seconds"], 2)
    if cj.exists():
        rec.update(_check_rows(cj))
    else:
        rec["check_message"] = _message(c)
    return rec


def judge(variant: str, rec: dict, base: dict | None, n_vertices: int) -> list[str]:
    """Reasons this run is a failure (empty: fine)."""
    why = []
    if rec.get("traceback"):
        why.append("traceback")
    if variant == "blender_axes":
        if rec.get("rigged_without_flags") and not rec.get("rigged_in_flags_axes"):
            why.append("turned head rigged without flags in other axes than the right ones")
        elif rec["rc"] != 0 and not rec.get("refused_with_flags"):
            why.append(f"refused without naming the flags: {rec['message']}")
        if rec.get("rc_with_flags") not in (0, None):
            why.append(f"refused with the named flags: {rec.get('message_with_flags')}")
    elif rec["rc"] == "timeout":
        why.append("timeout")
    elif rec["rc"] != 0:
        why.append(f"exit {rec['rc']}: {rec['message']}")
    if variant != "blender_axes" and any("orientation" in w or "looks odd" in w for w in rec.get("warnings", [])):
        why.append("orientation warning on an upright head")
    t = rec.get("rig_seconds")
    if (t or 0) > SLOW_S and n_vertices <= 150_000:
        why.append(f"slow: {t:.1f}s")
    if rec.get("nan"):
        why.append("NaN in deltas")
    if rec.get("vertices_out") not in (None, n_vertices):
        why.append("vertex count changed")
    if base:
        for k in ("blink", "jaw"):
            if base.get(k) == "pass" and rec.get(k) == "fail":
                why.append(f"{k} fails (passes on the unmodified head)")
    return why


def summarise(results: list[dict]) -> dict[str, dict]:
    """Per variant: runs, ok, fail, fail_not_slow (failures other than time alone: the shared VM's
    load inflates times), skipped; and the rig time relative to the same head's unmodified one."""
    per_variant: dict[str, dict] = {}
    base_t = {r["head"]: r.get("rig_seconds") for r in results if r["variant"] == "base"}
    for r in results:
        s = per_variant.setdefault(
            r["variant"], {"runs": 0, "ok": 0, "fail": 0, "fail_not_slow": 0, "skipped": 0, "time_vs_base": []}
        )
        if "skipped" in r:
            s["skipped"] += 1
            continue
        s["runs"] += 1
        s["fail" if r["fail"] else "ok"] += 1
        s["fail_not_slow"] += bool([w for w in r["fail"] if not w.startswith("slow")])
        if r.get("rig_seconds") and base_t.get(r["head"]):
            s["time_vs_base"].append(round(r["rig_seconds"] / base_t[r["head"]], 2))
    return per_variant


def rejudge(path: Path) -> None:
    """Recompute the failures and the summary of a results file with this script's :func:`judge`."""
    out = json.loads(path.read_text())
    base: dict = {}
    for r in out["runs"]:
        if "skipped" in r:
            continue
        if r["variant"] == "base":
            base[r["head"]] = r
        r["fail"] = judge(r["variant"], r, base.get(r["head"]) if r["variant"] != "base" else None, r["vertices"])
    out["per_variant"] = summarise(out["runs"])
    out["failures"] = sum(s["fail"] for s in out["per_variant"].values())
    out["failures_not_slow"] = sum(s["fail_not_slow"] for s in out["per_variant"].values())
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"{path}: {out['failures']} failures ({out['failures_not_slow']} other than time alone)")


def compare(before: Path, after: Path) -> None:
    """Print a Markdown table of failures per variant, before and after (two results files)."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    print("| variant | runs | failures before | after | after, other than time alone |")
    print("|---|---|---|---|---|")
    for name, s in b["per_variant"].items():
        o = a["per_variant"].get(name, {})
        print(f"| {name} | {s['runs']} | {o.get('fail', '-')} | {s['fail']} | {s['fail_not_slow']} |")
    print(
        f"| all | {sum(s['runs'] for s in b['per_variant'].values())} | {a['failures']} | {b['failures']} "
        f"| {b['failures_not_slow']} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heads", default="core")
    ap.add_argument("--variants", default="")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--tag", default="")
    ap.add_argument("--keep", default="", help="folder to keep the variant files in")
    ap.add_argument(
        "--src", default=str(ROOT / "src"), help="the facerig source tree the CLI runs (a snapshot: before/after)"
    )
    ap.add_argument("--rejudge", default="", help="recompute failures and summary of an existing results file")
    ap.add_argument("--compare", nargs=2, default=None, help="BEFORE AFTER results files: a Markdown table")
    args = ap.parse_args()
    if args.compare:
        compare(*map(Path, args.compare))
        return
    if args.rejudge:
        rejudge(Path(args.rejudge))
        return
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.config import data_root
    from facerig.io import read_mesh

    heads_dir = data_root() / "heads"
    all_heads = {"ict_head": ROOT / "examples" / "ict_head" / "head.obj"}
    all_heads.update({p.stem: p for p in sorted(heads_dir.glob("*.obj"))})
    names = {"core": list(CORE), "all": list(all_heads)}.get(args.heads, args.heads.split(","))
    only = set(filter(None, args.variants.split(",")))
    env = dict(os.environ, PYTHONPATH=str(Path(args.src).resolve()))
    results: list[dict] = []
    t_all = time.perf_counter()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="facerig_sweep_"))
    tmp.mkdir(parents=True, exist_ok=True)
    for name in names:
        mesh = read_mesh(all_heads[name])
        variants = make_variants(name, mesh.vertices, mesh.faces)
        base = None
        for vname, var in variants.items():
            if only and vname not in only and vname != "base":
                continue
            rec: dict = {"head": name, "variant": vname}
            if "skip" in var:
                rec["skipped"] = var["skip"]
                results.append(rec)
                continue
            work = tmp / name / vname
            work.mkdir(parents=True, exist_ok=True)
            path = write_variant(work / "head", var)
            rec["vertices"] = int(len(var["v"]))
            rec.update(run_variant(path, var, work, args.timeout, env))
            rec["fail"] = judge(vname, rec, base, rec["vertices"])
            if vname == "base":
                base = rec
            results.append(rec)
            status = "FAIL " + "; ".join(rec["fail"]) if rec["fail"] else "ok"
            print(
                f"{name:28s} {vname:16s} V={rec['vertices']:>7,} rc={rec['rc']} {rec['seconds']:6.1f}s "
                f"blink={rec.get('blink')} jaw={rec.get('jaw')} {status}",
                flush=True,
            )
    per_variant = summarise(results)
    out = {
        **run_meta(),
        "command": " ".join(sys.argv),
        "src": str(Path(args.src).resolve()),
        "seconds": round(time.perf_counter() - t_all, 1),
        "heads": names,
        "per_variant": per_variant,
        "failures": sum(s["fail"] for s in per_variant.values()),
        "failures_not_slow": sum(s["fail_not_slow"] for s in per_variant.values()),
        "runs": results,
    }
    dest = ROOT / "benchmarks" / "results" / f"robustness_sweep{'_' + args.tag if args.tag else ''}.json"
    dest.write_text(json.dumps(out, indent=1, default=str))
    print(f"{out['failures']} failures in {sum(s['runs'] for s in per_variant.values())} runs, {out['seconds']:.0f}s")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
