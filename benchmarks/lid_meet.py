"""Where the authors' lids meet in a blink: the evidence behind the eyelid step's ``MEET``.

For every eyeBlink over an eyeball in the rigs people made (the validation set's ground truth: ICT
FaceKit and MakeHuman identities; ``out_of_family.py``'s heads: johnsmith, MakeHuman hm08,
Rocketbox, Weboji), :func:`facerig.geometry.lid_travel.lid_travel` gives the share of the neutral
opening each lid travels and ``meet`` (where they meet above the lower margin). Per author: the
median over its eyes; the choice is the median over authors (each author one vote, however many
heads it has), and leave-one-author-out shows how far that choice would have been from each
author's own value had that author been missing. With ``--network`` the network's blinks on the
authors' heads (before the eyelid step, ``close_eyes=False``) are measured too.

    python benchmarks/lid_meet.py [EVALSET] [--network]  ->  benchmarks/results/lid_meet_s4.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

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


def summarise(rows: list[dict]) -> dict:
    """Per author medians, the median over authors and leave-one-author-out."""
    authors = sorted({r["author"] for r in rows})
    per = {
        a: {
            k: round(float(np.median([r[k] for r in rows if r["author"] == a])), 3) for k in ("meet", "upper", "lower")
        }
        | {"eyes": sum(r["author"] == a for r in rows)}
        for a in authors
    }
    meets = np.array([per[a]["meet"] for a in authors])
    loao = {}
    for i, a in enumerate(authors):
        choice = float(np.median(np.delete(meets, i)))
        loao[a] = {"choice_without": round(choice, 3), "author": per[a]["meet"], "error": round(abs(choice - meets[i]), 3)}
    return {
        "per_author": per,
        "meet_median_over_authors": round(float(np.median(meets)), 3),
        "leave_one_author_out": loao,
        "loao_mean_abs_error": round(float(np.mean([x["error"] for x in loao.values()])), 3),
    }


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from out_of_family import author_heads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evalset", nargs="?", default="/work/evalset")
    ap.add_argument("--network", action="store_true", help="also measure the network's blinks on the authors' heads")
    args = ap.parse_args(argv)
    rows, network = [], []
    evalset = Path(args.evalset)
    if (evalset / "index.json").exists():
        from facerig.eval.harness import load_index
        from facerig.io import load_mesh

        for h in load_index(evalset)["heads"]:
            if h["group"] == "external":  # johnsmith and hm08 come with the authors' heads below
                continue
            mesh = load_mesh(evalset / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
            with np.load(evalset / h["gt"]) as z:
                names, gt = [str(n) for n in z["names"]], z["deltas"]
            who = author_of(h["id"], h.get("info", {}).get("family"))
            rows += [{"head": h["id"], "author": who, **m} for m in measures(mesh.vertices, mesh.faces, names, gt)]
            print(h["id"], who, flush=True)
    for h in author_heads(data_root()):
        who = author_of(h["name"])
        rows += [{"head": h["name"], "author": who, **m} for m in measures(h["vertices"], h["faces"], h["names"], h["deltas"])]
        if args.network:
            from facerig.io.mesh import Mesh
            from facerig.models.registry import rig_mesh

            mesh = Mesh(vertices=h["vertices"], faces=np.asarray(h["faces"], np.int64))
            rig = rig_mesh(mesh, "raf", close_eyes=False, head_check=False)
            network += [{"head": h["name"], **m} for m in measures(h["vertices"], h["faces"], rig.names, rig.deltas)]
        print(h["name"], who, flush=True)
    summary = summarise(rows)
    print(json.dumps(summary, indent=1))
    result = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "command": "python benchmarks/lid_meet.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "summary": summary,
        "rows": rows,
        **({"network": network} if network else {}),
    }
    (ROOT / "benchmarks" / "results" / "lid_meet_s4.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
