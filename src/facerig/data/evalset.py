"""The fixed validation set (``facerig data make-eval``), layout in ``docs/CONTRACTS.md``::

    DIR/index.json  {"version": 1, "heads": [{"id", "group", "mesh", "gt", "landmarks",
                                              "mm_per_unit", "info"}]}
    DIR/<group>/<id>.obj            the head (what a user would bring)
    DIR/<group>/<id>.gt.npz         names (K,), deltas (K,V,3) f32 mesh units, neutral (V,3),
                                    faces (F,3), parts (V,), mm_per_unit ()
                                    (+ regions (V,), region_names, landmarks68 (68,))
    DIR/<group>/<id>.landmarks.json landmarks for the dt baseline (ICT-derived heads only)

Groups (ICT heads use the held-out ``"eval"`` identity stream, see
:mod:`facerig.data.families`; head ``i`` of group ``g`` has seed ``seed + 1000 * g + i``):

- ``unseen``        held-out ICT identities, full head, cm, original quads + UVs.
- ``remeshed``      remeshed to 1k-50k vertices (log-uniform), cm.
- ``stylised``      smooth random space warp (half of them also exaggerated identities).
- ``parts_removed`` random interior parts removed (eyeballs, teeth/tongue, lashes, ...).
- ``reframed``      face mask only / no neck / back of head removed (head i gets framing i mod 3),
  random units + translation.
- ``external``      the rigs in ``external-rigs/`` (other topologies and authors).
  ``makehuman_hm08`` is in-family for a model trained on MakeHuman heads
  (``info.in_family_for_makehuman_training``).
- ``makehuman``     held-out MakeHuman identities (``eval`` stream), full head cut, decimetres, quads.
  Written by default when the MakeHuman data is present.

Landmarks: ICT-derived heads get exact landmarks from the ICT correspondence (the landmark's
vertex, or the closest new vertex in its part after remeshing; removed ones omitted). External
and MakeHuman heads have no ICT correspondence: their landmarks are placed automatically by
:func:`facerig.data.landmarks.auto_landmarks` (eye spheres + similarity ICP + non-rigid ICP;
about 1-2 mm mean error on unmodified ICT heads, ~5 mm on stylised/coarse ones). The landmarks
JSON's ``"source"`` and the index's ``info.landmarks_source`` say which; a head whose automatic
placement fails gets ``"landmarks": null`` (the dt baseline then skips it).

Everything is a pure function of ``seed``: two runs write identical GT.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from facerig.data.generator import FRAMINGS, Sample, SampleConfig, generate_sample

INDEX_VERSION = 1
DEFAULT_PER_GROUP = 4
DEFAULT_SEED = 0

_OFF = dict(p_exaggerate=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0, p_units=0.0)


def group_configs() -> dict[str, SampleConfig]:
    """Generator configuration of each synthetic group (all on the ``eval`` split)."""
    base = dict(_OFF, split="eval")
    return {
        "unseen": SampleConfig(**base),
        "remeshed": SampleConfig(**dict(base, p_remesh=1.0)),
        "stylised": SampleConfig(**dict(base, p_warp=1.0, p_exaggerate=0.5, warp_amplitude=(0.08, 0.2))),
        "parts_removed": SampleConfig(**dict(base, p_remove_parts=1.0)),
        "reframed": SampleConfig(**dict(base, p_reframe=1.0, p_units=1.0)),
    }


SYNTHETIC_GROUPS: tuple[str, ...] = ("unseen", "remeshed", "stylised", "parts_removed", "reframed")
GROUPS: tuple[str, ...] = SYNTHETIC_GROUPS + ("external", "makehuman")


def landmarks_json(sample: Sample, template_landmarks: np.ndarray) -> dict[str, Any]:
    """Landmarks JSON (contract) for an ICT-derived sample: pairs [template vertex, target vertex]
    for every landmark still present (``sample.landmarks68 >= 0``)."""
    pairs, names = [], []
    for i, (t, v) in enumerate(zip(template_landmarks, sample.landmarks68)):
        if v >= 0:
            pairs.append([int(t), int(v)])
            names.append(f"lmk{i}")
    return {"template": "ict-facekit", "pairs": pairs, "names": names, "source": "ict correspondence"}


def write_head(
    folder: Path,
    head_id: str,
    sample: Sample,
    *,
    template_landmarks: np.ndarray | None,
    header: str = "",
    auto_landmarks: bool = False,
) -> dict[str, Any]:
    """Write ``<id>.obj``, ``<id>.gt.npz`` (and ``<id>.landmarks.json``) -> index entry (paths
    relative to ``folder.parent``).

    Landmarks: from the ICT correspondence when ``template_landmarks`` is given (ICT-derived
    heads), else with ``auto_landmarks=True`` by :func:`facerig.data.landmarks.auto_landmarks`
    (skipped with a note in ``info`` if it fails), else none."""
    from facerig.io.atomic import atomic_path, write_text_atomic
    from facerig.io.obj import read_obj, write_obj

    folder.mkdir(parents=True, exist_ok=True)
    obj = folder / f"{head_id}.obj"
    if sample.polygons is not None:
        uv_ok = sample.uv is not None and sample.uv_faces is not None
        write_obj(
            obj,
            sample.vertices,
            sample.polygons,
            uv=sample.uv if uv_ok else None,
            uv_faces=sample.uv_faces if uv_ok else None,
            header=header,
        )
    else:
        write_obj(obj, sample.vertices, sample.faces, header=header)
    back = read_obj(obj)  # GT neutral/faces exactly as a reader sees the file
    if back.vertices.shape != sample.vertices.shape or not np.allclose(back.vertices, sample.vertices, atol=1e-9):
        raise RuntimeError(f"{obj}: written vertices do not read back")
    faces = np.asarray(back.faces, dtype=np.int64)
    if faces.shape != sample.faces.shape or not (faces == sample.faces).all():
        raise RuntimeError(f"{obj}: triangulation differs from the sample's")
    gt = folder / f"{head_id}.gt.npz"
    with atomic_path(gt, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                names=np.array(sample.names, dtype=str),
                deltas=sample.deltas.astype(np.float32),
                neutral=back.vertices.astype(np.float64),
                faces=faces.astype(np.int32),
                parts=sample.parts.astype(np.int32),
                mm_per_unit=np.float64(sample.mm_per_unit),
                regions=sample.regions.astype(np.int32),
                region_names=np.array(sample.region_names, dtype=str),
                landmarks68=sample.landmarks68.astype(np.int64),
            )
    lm_rel, lm_doc, lm_note = None, None, "none"
    if template_landmarks is not None and (sample.landmarks68 >= 0).any():
        lm_doc = landmarks_json(sample, template_landmarks)
        lm_note = "ict correspondence"
    elif auto_landmarks:
        from facerig.data.ict import LANDMARKS68_README
        from facerig.data.landmarks import auto_landmarks as place
        from facerig.errors import FacerigError

        try:
            lm_idx, lm_info = place(back.vertices, faces)
            lm_doc = {
                "template": "ict-facekit",
                "pairs": [[int(t), int(v)] for t, v in zip(LANDMARKS68_README, lm_idx)],
                "names": [f"lmk{i}" for i in range(68)],
                "source": lm_info["procedure"],
                "rms_fit_cm": lm_info["rms_fit_cm"],
            }
            lm_note = lm_info["procedure"]
        except (FacerigError, ValueError, np.linalg.LinAlgError) as e:
            lm_note = f"none: automatic placement failed ({e})"
    if lm_doc is not None:
        lm = folder / f"{head_id}.landmarks.json"
        write_text_atomic(lm, json.dumps(lm_doc))
        lm_rel = f"{folder.name}/{lm.name}"
    info = {k: v for k, v in sample.info.items() if k != "steps"}
    steps = {k: {kk: vv for kk, vv in v.items() if kk != "warp"} for k, v in sample.info.get("steps", {}).items()}
    info.update(
        steps=steps,
        vertices=sample.num_vertices,
        faces=int(sample.faces.shape[0]),
        shapes=len(sample.names),
        landmarks_source=lm_note,
    )
    return {
        "id": head_id,
        "group": folder.name,
        "mesh": f"{folder.name}/{obj.name}",
        "gt": f"{folder.name}/{gt.name}",
        "landmarks": lm_rel,
        "mm_per_unit": float(sample.mm_per_unit),
        "info": info,
    }


def external_samples() -> list[tuple[str, Sample, dict[str, Any]]]:
    """The external rigs as samples: (id, sample, extra info). Empty if the folder is missing."""
    from facerig import config

    root = config.data_root(required=False)
    folder = root / "external-rigs" if root is not None else None
    out = []
    if folder is None or not folder.is_dir():
        return out
    for p in sorted(folder.glob("*.npz")):
        z = np.load(p, allow_pickle=False)
        names = [str(n) for n in z["arkit_names"]]
        V = z["neutral"].shape[0]
        s = Sample(
            vertices=z["neutral"].astype(np.float64),
            faces=z["faces"].astype(np.int64),
            names=names,
            deltas=z["deltas"].astype(np.float32),
            parts=z["part"].astype(np.int64),
            regions=z["part"].astype(np.int64),
            landmarks68=np.full(68, -1, np.int64),
            mm_per_unit=float(z["mm_per_unit"]),
            info={"family": "external", "source": p.name},
            region_names=tuple(f"part{i}" for i in range(int(z["part"].max()) + 1)),
        )
        from facerig.geometry.components import connected_components

        s.parts = connected_components(V, s.faces)
        extra = {
            "note": str(z["note"]) if "note" in z else "",
            "in_family_for_makehuman_training": p.stem.startswith("makehuman"),
        }
        out.append((p.stem, s, extra))
    return out


def make_eval(
    out: str | Path,
    per_group: int = DEFAULT_PER_GROUP,
    seed: int = DEFAULT_SEED,
    *,
    groups: tuple[str, ...] | None = None,
    family=None,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Write the validation set to ``out`` (replacing the groups it writes). Returns the index."""
    from facerig.data.families import ICTFamily
    from facerig.io.atomic import write_text_atomic

    log = log or (lambda s: None)
    out = Path(out)
    from facerig import config
    from facerig.errors import DataError

    root = config.data_root(required=False)
    if root is not None and out.resolve().is_relative_to(root.resolve()):
        raise DataError(f"refusing to write the eval set inside the shared data folder {root}")
    out.mkdir(parents=True, exist_ok=True)
    if not groups:
        from facerig.data.makehuman import makehuman_dir

        groups = SYNTHETIC_GROUPS + ("external",) + (("makehuman",) if makehuman_dir(required=False) else ())
    groups = tuple(groups)
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        from facerig.errors import DataError

        raise DataError(f"unknown eval group {bad[0]!r} (expected one of {', '.join(GROUPS)})")
    fam = family or ICTFamily()
    cfgs = group_configs()
    heads: list[dict[str, Any]] = []
    t_all = time.time()
    for g in groups:
        folder = out / g
        if folder.exists():
            shutil.rmtree(folder)
        t0 = time.time()
        if g in cfgs:
            gi = SYNTHETIC_GROUPS.index(g)
            for i in range(per_group):
                s_seed = int(seed) + 1000 * gi + i
                cfg = cfgs[g]
                if g == "reframed":  # cycle through the framings so each one is covered
                    cfg = dataclasses.replace(cfg, framings=(FRAMINGS[i % len(FRAMINGS)],))
                s = generate_sample(fam, s_seed, cfg)
                head_id = f"{g}_{i:03d}"
                e = write_head(folder, head_id, s, template_landmarks=fam.landmarks68, header=_header(head_id, g, s))
                heads.append(e)
                log(
                    f"  {g:14s} {head_id:20s} V={s.num_vertices:6d} {s.mm_per_unit:g} mm/unit"
                    f"  ({time.time() - t0:.1f} s)"
                )
        elif g == "external":
            for name, s, extra in external_samples():
                e = write_head(
                    folder,
                    name,
                    s,
                    template_landmarks=None,
                    auto_landmarks=True,
                    header=f"facerig eval head {name} (external rig)",
                )
                e["info"].update(extra)
                heads.append(e)
                log(f"  {g:14s} {name:20s} V={s.num_vertices:6d} {s.mm_per_unit:g} mm/unit")
        elif g == "makehuman":
            from facerig.data.families import get_family

            mh = get_family("makehuman")
            cfg = SampleConfig(**dict(_OFF, split="eval"))
            for i in range(per_group):
                s = generate_sample(mh, int(seed) + 1000 * len(SYNTHETIC_GROUPS) + i, cfg)
                head_id = f"{g}_{i:03d}"
                heads.append(
                    write_head(
                        folder, head_id, s, template_landmarks=None, auto_landmarks=True, header=_header(head_id, g, s)
                    )
                )
                log(f"  {g:14s} {head_id:20s} V={s.num_vertices:6d} {s.mm_per_unit:g} mm/unit")
        else:
            from facerig.errors import DataError

            raise DataError(f"unknown eval group {g!r} (expected one of {', '.join(GROUPS)})")
    # keep entries of groups not rewritten this time
    index_path = out / "index.json"
    if index_path.is_file():
        try:
            old = json.loads(index_path.read_text())["heads"]
            heads = [h for h in old if h["group"] not in groups and (out / h["gt"]).is_file()] + heads
        except (OSError, ValueError, KeyError):
            pass
    index = {"version": INDEX_VERSION, "seed": int(seed), "per_group": int(per_group), "heads": heads}
    write_text_atomic(index_path, json.dumps(index, indent=1))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"wrote {len(heads)} heads to {out} ({size / 1e6:.0f} MB, {time.time() - t_all:.0f} s)")
    return index


def _header(head_id: str, group: str, s: Sample) -> str:
    src = (
        "MakeHuman hm08 (CC0)"
        if s.info.get("family") == "makehuman"
        else "ICT FaceKit (MIT, (c) 2020 USC Institute for Creative Technologies)"
    )
    return f"facerig eval head {head_id} (group {group}); derived from {src}\nunits: {s.mm_per_unit:g} mm per unit"


def load_index(folder: str | Path) -> dict[str, Any]:
    """Read ``folder/index.json`` (raises :class:`DataError` if missing or malformed)."""
    from facerig.errors import DataError

    p = Path(folder) / "index.json"
    try:
        index = json.loads(p.read_text())
        if not isinstance(index.get("heads"), list):
            raise ValueError("no heads list")
        return index
    except (OSError, ValueError) as e:
        raise DataError(f"{p}: not an eval index ({e})") from None


def summary_rows(index: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """(group, heads, vertex range, units) rows for printing."""
    rows = []
    for g in GROUPS:
        hs = [h for h in index["heads"] if h["group"] == g]
        if not hs:
            continue
        vs = [h["info"].get("vertices", 0) for h in hs]
        units = sorted({f"{h['mm_per_unit']:g}" for h in hs})
        rows.append((g, len(hs), f"{min(vs)}-{max(vs)}", ",".join(units[:4]) + ("..." if len(units) > 4 else "")))
    return rows
