"""Where the authors' lids meet in a blink: the evidence behind the eyelid step's ``MEET``.

For every eyeBlink over an eyeball in the rigs people made (the validation set's ground truth: ICT
FaceKit and MakeHuman identities; ``out_of_family.py``'s heads: johnsmith, MakeHuman hm08,
Rocketbox, Weboji), :func:`facerig.geometry.lid_travel.lid_travel` gives the share of the neutral
opening each lid travels and ``meet`` (where they meet above the lower margin). Per author: the
median over its eyes; the choice is the median over authors (each author one vote, however many
heads it has), and leave-one-author-out shows how far that choice would have been from each
author's own value had that author been missing. With ``--network`` the network's blinks on the
authors' heads (before the eyelid step, ``close_eyes=False``) are measured too, and each author's
heads are scored (blink completion and relative error against the author's, as ``out_of_family.py``) with
the eyelid step meeting at the choice made without that author, at the choice made with all, and
at the shipped ``MEET`` (eyeballs made rigid and the blinks completed as ``rig_raf`` does, from
a layout found without the stitched seams' labels; only blinks the step completes can differ).

    python benchmarks/lid_meet.py [EVALSET] [--network]  ->  benchmarks/results/lid_meet_s4.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def author_of(name: str, family: str | None = None) -> str:
    """The rig's author (one vote each): ICT FaceKit, MakeHuman, johnsmith, Rocketbox, Weboji."""
    if family:
        return {"ict": "ict_facekit", "makehuman": "makehuman"}.get(family, family)
    for prefix, who in (("makehuman", "makehuman"), ("rocketbox", "rocketbox"), ("weboji", "weboji")):
        if name.startswith(prefix):
            return who
    return name.split("_")[0]


def measures(vertices, faces, names, deltas) -> list[dict]:
    """Per eyeBlink over an eyeball: ``shape``, ``upper``, ``lower``, ``meet`` (see module doc)."""
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.lid_travel import lid_travel

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    out = []
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names:
            continue
        t = lid_travel(v, f, skin, eye.faces, deltas[list(names).index(name)], 1.0 if eye.side == "Left" else -1.0)
        if t is None or not np.isfinite(t.meet):
            continue
        out.append({"shape": name, "upper": round(t.upper, 3), "lower": round(t.lower, 3), "meet": round(t.meet, 3)})
    return out


def score(head: dict, rig, meets: dict[str, float]) -> dict:
    """The eyelid step's eyeBlinks on one author head with each of ``meets`` (name -> meet): the
    network's rig (``close_eyes=False``) with rigid eyeballs, then
    :func:`facerig.geometry.eyelids.close_blinks`. Returns name -> mean ``completion`` and
    ``relative`` error (``out_of_family.py``'s measures) of the two eyeBlinks, and ``completed``:
    whether the step completes any blink of the head."""
    from facerig.eval.metrics import completion, shape_errors
    from facerig.geometry.eyelids import close_blinks
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.rigid import rigid_part_deltas

    v, f = np.asarray(head["vertices"], np.float64), np.asarray(head["faces"], np.int64)
    lay = find_layout(v, f)
    d = np.asarray(rig.deltas, np.float32)
    for p in lay.eyeball_parts:
        d = rigid_part_deltas(v, d, lay.labels == p)
    blinks = [n for n in ("eyeBlinkLeft", "eyeBlinkRight") if n in head["names"] and n in rig.names]
    if not blinks:
        return {}
    gt = np.stack([head["deltas"][head["names"].index(n)] for n in blinks]).astype(np.float64)
    out: dict = {"completed": False}
    for key, meet in meets.items():
        new, rep = close_blinks(v, f, list(rig.names), d, layout=lay, meet=meet)
        pred = np.stack([new[list(rig.names).index(n)] for n in blinks]).astype(np.float64)
        rel = shape_errors(pred, gt, head["mm_per_unit"])["relative"]
        out[key] = {
            "completion": round(float(np.mean(completion(pred, gt))), 3),
            "relative": round(float(np.mean(rel)), 3),
        }
        out["completed"] |= any(r.get("completed", False) for r in rep.values())
    return out


def summarise(rows: list[dict]) -> dict:
    """Per author medians, the median over authors and leave-one-author-out."""
    authors = sorted({r["author"] for r in rows})
    per = {
        a: {k: round(float(np.median([r[k] for r in rows if r["author"] == a])), 3) for k in ("meet", "upper", "lower")}
        | {"eyes": sum(r["author"] == a for r in rows)}
        for a in authors
    }
    meets = np.array([per[a]["meet"] for a in authors])
    loao = {}
    for i, a in enumerate(authors):
        choice = float(np.median(np.delete(meets, i)))
        loao[a] = {
            "choice_without": round(choice, 3),
            "author": per[a]["meet"],
            "error": round(abs(choice - meets[i]), 3),
        }
    return {
        "per_author": per,
        "meet_median_over_authors": round(float(np.median(meets)), 3),
        "leave_one_author_out": loao,
        "loao_mean_abs_error": round(float(np.mean([x["error"] for x in loao.values()])), 3),
    }


def validation_truth(evalset: Path):
    """Yield ``(head id, author, vertices (V, 3), faces (F, 3), names (K,), deltas (K, V, 3))`` for every
    validation head with ground truth but the external group's (johnsmith and hm08 come with the authors'
    heads of :func:`out_of_family.author_heads`); nothing where ``evalset`` has no ``index.json``."""
    if not (evalset / "index.json").exists():
        return
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh

    for h in load_index(evalset)["heads"]:
        if h["group"] == "external":
            continue
        mesh = load_mesh(evalset / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        with np.load(evalset / h["gt"]) as z:
            names, gt = [str(n) for n in z["names"]], z["deltas"]
        yield h["id"], author_of(h["id"], h.get("info", {}).get("family")), mesh.vertices, mesh.faces, names, gt


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from out_of_family import author_heads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evalset", nargs="?", default="/work/evalset")
    ap.add_argument("--network", action="store_true", help="also measure the network's blinks on the authors' heads")
    args = ap.parse_args(argv)
    rows, network, heads = [], [], []
    for name, who, vertices, faces, names, gt in validation_truth(Path(args.evalset)):
        rows += [{"head": name, "author": who, **m} for m in measures(vertices, faces, names, gt)]
        print(name, who, flush=True)
    for h in author_heads(data_root()):
        who = author_of(h["name"])
        rows += [
            {"head": h["name"], "author": who, **m}
            for m in measures(h["vertices"], h["faces"], h["names"], h["deltas"])
        ]
        if args.network:
            from facerig.io.mesh import Mesh
            from facerig.models.registry import rig_mesh

            mesh = Mesh(vertices=h["vertices"], faces=np.asarray(h["faces"], np.int64))
            rig = rig_mesh(mesh, "raf", close_eyes=False, head_check=False)
            network += [{"head": h["name"], **m} for m in measures(h["vertices"], h["faces"], rig.names, rig.deltas)]
            heads.append((h, who, rig))
        print(h["name"], who, flush=True)
    summary = summarise(rows)
    if heads:  # each author's heads scored with the choice made without that author
        from facerig.geometry.eyelids import MEET

        loao = summary["leave_one_author_out"]
        scores = {}
        for h, who, rig in heads:
            meets = {
                "without_author": loao[who]["choice_without"],
                "median_all_authors": summary["meet_median_over_authors"],
                "shipped": MEET,
            }
            scores[h["name"]] = {"author": who, **score(h, rig, meets)}
            print(h["name"], scores[h["name"]], flush=True)
        summary["blink_completion_scores"] = scores
    print(json.dumps(summary, indent=1))
    result = {
        **run_meta(),
        "command": "python benchmarks/lid_meet.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "summary": summary,
        "rows": rows,
        **({"network": network} if network else {}),
    }
    (ROOT / "benchmarks" / "results" / "lid_meet_s4.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
