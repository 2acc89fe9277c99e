"""How well ``--auto-orient`` and the head check find a head's axes: every public head in all 24
axis-aligned orientations.

    .venv/bin/python benchmarks/orientation.py HEADS_DIR [--evalset DIR [--evalset-every N]] [--check N] [--out JSON]

``HEADS_DIR`` holds the heads as OBJ, each +Y up and facing +Z (``/work/shared/data/heads``, the
external rigs' neutrals written as OBJ, the example head). For each head:

1. the shape prior (:func:`facerig.geometry.orient.rank_orientations`) on the head turned into
   each of the 24 orientations (turned for real: vertices permuted and negated, so exactly what
   a user's file would hold): the rank of the true orientation;
2. ``--auto-orient`` (:func:`facerig.models.raf.orientation.find_orientation`): the face probe
   (:func:`facerig.models.raf.probe.suggest_orientation` on a proxy of the probe's size) on the
   prior's first :data:`~facerig.models.raf.orientation.AUTO_PROBED` candidates, weighed with the
   prior (:func:`~facerig.models.raf.orientation.choose`): whether its choice is the truth. The
   probe is computed in the head's own axes and looked up for each turned copy (a turn by axis
   permutation changes the probe's input only by float rounding in the decimation);
   ``--check N`` runs the real ``find_orientation`` on N turned copies per head to confirm;
3. the head check on each turned copy rigged without ``--up``/``--forward``: the probe's verdict
   in +y/+z (from the same table) and :func:`facerig.models.raf.orientation.verdict` of the prior,
   as ``facerig rig`` decides: refused naming the right axes, naming wrong ones, as turned naming
   none, as no head, or rigged in the wrong axes (with the probe's warning or silently);
4. the check's own cost: :func:`~facerig.models.raf.orientation.judge_orientation` on the head
   turned to Blender's axes (+Z up, -Y forward), and the mirror test every rig runs
   (:func:`~facerig.models.raf.orientation.mirror_turned`);
5. the head check as ``facerig rig`` runs it on the head as it is
   (:func:`facerig.models.raf.orientation.rig_oriented` through ``rig_mesh``): refused or not.

``--evalset DIR`` scores the validation set's generated heads (``facerig data make-eval``'s output,
less its ``external`` group of public heads; every N-th with ``--evalset-every``) the same way
for 1, 2 and 4 (the probe passes all of them as they are).

The prior's model is fitted on generated heads by ``benchmarks/orientation_fit.py``.
Writes ``benchmarks/results/orientation.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta


def _mesh(path: Path):
    from facerig.io import read_mesh
    from facerig.io.validate import validate_mesh

    return validate_mesh(read_mesh(path), None, allow_degenerate=True, allow_unreferenced=True)


def _turned(mesh, up: str, forward: str):
    """The head (+Y up, +Z forward) turned so that its up is ``up`` and its forward ``forward``."""
    import dataclasses

    from facerig.geometry.frame import orientation_matrix

    R = orientation_matrix(up, forward)  # input -> canonical; the turned head is canonical -> input
    return dataclasses.replace(mesh, vertices=np.asarray(mesh.vertices) @ R)


VERDICTS = (
    "refused naming the right axes",
    "refused naming wrong axes",
    "refused as turned, naming no axes",
    "refused as no head",
    "rigged in the wrong axes with a warning",
    "rigged in the wrong axes silently",
)


class _Probe:
    """The face probe of one head in its own axes, computed on demand and kept (a turn by axis
    permutation changes the probe's input only by float rounding in the decimation)."""

    def __init__(self, mesh):
        self.mesh, self.table, self.seconds = mesh, {}, 0.0

    def need(self, keys) -> None:
        from facerig.models.raf.probe import FACE_PROBE_VERTICES, suggest_orientation

        missing = tuple(k for k in dict.fromkeys(keys) if k not in self.table)
        if missing:
            t0 = time.perf_counter()
            rows = suggest_orientation(self.mesh, orientations=missing, proxy_vertices=FACE_PROBE_VERTICES)
            self.table.update({(u, f): (st, float(sc)) for u, f, st, sc in rows})
            self.seconds += time.perf_counter() - t0

    def __getitem__(self, key):
        return self.table[key]


def score_head(mesh, probe: _Probe, head_check: bool) -> dict:
    """Every turn of one head: the prior's rank of the truth, ``--auto-orient``'s choice, and
    (``head_check``) what the head check does with the turned copy rigged as +y/+z."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.orient import ORIENTATIONS, orientation_features, rank_orientations
    from facerig.models.raf.orientation import AUTO_PROBED, choose, verdict

    if head_check:
        probe.need(ORIENTATIONS)
    prior_ranks, auto_right, t_prior = [], [], []
    verdicts = dict.fromkeys(VERDICTS, 0)
    for up, fwd in ORIENTATIONS:
        turned = _turned(mesh, up, fwd)
        t1 = time.perf_counter()
        with np.errstate(all="ignore"):
            feats = orientation_features(turned.vertices, turned.faces)
            ranked = rank_orientations(turned.vertices, turned.faces, features=feats)
        t_prior.append(time.perf_counter() - t1)
        prior_ranks.append(next(i for i, r in enumerate(ranked) if r[:2] == (up, fwd)))
        Rt = orientation_matrix(up, fwd).T  # canonical -> turned

        def key(u, f, Rt=Rt):  # the probe of the turned head in (u, f) = the head's own in this orientation
            return _in_head_axes(orientation_matrix(u, f) @ Rt)

        cands = [(u, f) for u, f, _ in ranked[:AUTO_PROBED]]
        probe.need([key(*c) for c in cands])
        choice = choose(cands, {c: probe[key(*c)] for c in cands}, {(u, f): s for u, f, s in ranked[:AUTO_PROBED]})
        auto_right.append(choice == (up, fwd))
        if head_check and (up, fwd) != ("+y", "+z"):  # the head check on the turned head given as +y/+z
            check = probe[key("+y", "+z")][0]
            decision, better = verdict(ranked, feats, "+y", "+z", check)
            if decision == "rig":
                verdicts["rigged in the wrong axes " + ("silently" if check == "ok" else "with a warning")] += 1
            elif decision == "refuse":
                verdicts["refused as no head"] += 1
            elif better is None:
                verdicts["refused as turned, naming no axes"] += 1
            else:
                verdicts["refused naming the right axes" if better == (up, fwd) else "refused naming wrong axes"] += 1
    out = {
        "prior_top1": int(sum(r == 0 for r in prior_ranks)),
        "prior_top3": int(sum(r < 3 for r in prior_ranks)),
        "prior_worst_rank": int(max(prior_ranks)),
        "auto_orient_right": int(sum(auto_right)),
        "of": 24,
        "prior_seconds": round(float(np.median(t_prior)), 3),
    }
    if head_check:
        out["turned_head_check"] = verdicts
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("heads", help="folder of heads (OBJ, +Y up, facing +Z)")
    p.add_argument("--evalset", default=None, help="also score the validation heads of this eval set (auto-orient)")
    p.add_argument("--evalset-every", type=int, default=1, help="every N-th validation head only")
    p.add_argument("--check", type=int, default=1, help="turned copies per head run through find_orientation")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "orientation.json"))
    args = p.parse_args(argv)
    from facerig.geometry.orient import ORIENTATIONS
    from facerig.models.raf.orientation import AUTO_PROBED, find_orientation, judge_orientation, mirror_turned
    from facerig.models.raf.probe import NotAHeadError
    from facerig.models.registry import rig_mesh

    rng = np.random.default_rng(0)
    rows = []
    for path in sorted(Path(args.heads).glob("*.obj")):
        mesh = _mesh(path)
        probe = _Probe(mesh)
        row = {"head": path.stem, "vertices": mesh.num_vertices, **score_head(mesh, probe, True)}
        checks = []
        for k in rng.choice(len(ORIENTATIONS), size=min(args.check, 24), replace=False):
            up, fwd = ORIENTATIONS[int(k)]
            t1 = time.perf_counter()
            fu, ff, _info = find_orientation(_turned(mesh, up, fwd), {})
            checks.append(
                {
                    "up": up,
                    "forward": fwd,
                    "found": [fu, ff],
                    "right": (fu, ff) == (up, fwd),
                    "seconds": round(time.perf_counter() - t1, 3),
                }
            )
        # the check's own cost: judging the head turned to Blender's axes (+Z up, -Y forward)
        t1 = time.perf_counter()
        decision, better, _info = judge_orientation(_turned(mesh, "+z", "-y"), "+y", "+z", {})
        t_judge = time.perf_counter() - t1
        t1 = time.perf_counter()
        mirror_turned(mesh, "+y", "+z")  # the cheap test every rig the probe passes runs
        t_mirror = time.perf_counter() - t1
        t1 = time.perf_counter()
        try:
            rig = rig_mesh(mesh, "raf", falloff=False)
            check = "rigged" + (" (warning)" if (rig.meta.get("orientation") or {}).get("warning") else "")
            judged = (rig.meta.get("orientation") or {}).get("seconds")
        except NotAHeadError as e:
            check, judged = f"refused: {e}", None
        t_rig = time.perf_counter() - t1
        row.update(
            {
                "probe_rank_of_truth": sorted(probe.table, key=lambda c: probe[c][1]).index(("+y", "+z")),
                "probe_truth": list(probe[("+y", "+z")]),
                "probe24": {f"{u} {f}": [st, round(sc, 4)] for (u, f), (st, sc) in probe.table.items()},
                "probe24_seconds": round(probe.seconds, 2),
                "find_orientation_checks": checks,
                "blender_axes_check": [decision, list(better) if better else None],
                "check_seconds": round(t_judge, 3),
                "mirror_test_seconds": round(t_mirror, 3),
                "head_check": check,
                "head_check_judge_seconds": judged,
                "rig_seconds": round(t_rig, 2),
            }
        )
        rows.append(row)
        print(
            json.dumps(
                {
                    k: row[k]
                    for k in (
                        "head",
                        "prior_top1",
                        "auto_orient_right",
                        "turned_head_check",
                        "head_check",
                        "check_seconds",
                    )
                }
            ),
            flush=True,
        )
    eval_rows = []
    if args.evalset:
        heads = [h for h in json.loads((Path(args.evalset) / "index.json").read_text())["heads"]]
        heads = [h for h in heads if h.get("group") != "external"][:: max(args.evalset_every, 1)]
        for h in heads:
            mesh = _mesh(Path(args.evalset) / h["mesh"])
            probe = _Probe(mesh)
            t1 = time.perf_counter()
            decision, better, _info = judge_orientation(_turned(mesh, "+z", "-y"), "+y", "+z", {})
            t_judge = time.perf_counter() - t1
            r = {"head": h["id"], "vertices": mesh.num_vertices, **score_head(mesh, probe, False)}
            probe.need([("+y", "+z")])
            r.update(
                {
                    "probe_truth": list(probe[("+y", "+z")]),
                    "blender_axes_check": [decision, list(better) if better else None],
                    "check_seconds": round(t_judge, 3),
                }
            )
            eval_rows.append(r)
            print(json.dumps({k: r[k] for k in ("head", "prior_top1", "auto_orient_right", "probe_truth")}), flush=True)
    total = sum(r["auto_orient_right"] for r in rows)
    summary = {
        "auto_orient_right": total,
        "of": 24 * len(rows),
        "fraction": round(total / max(24 * len(rows), 1), 4),
        "head_check_refused": [r["head"] for r in rows if r["head_check"].startswith("refused")],
        "turned_head_check": {k: sum(r["turned_head_check"][k] for r in rows) for k in VERDICTS} if rows else {},
        "check_seconds_max": max((r["check_seconds"] for r in rows + eval_rows), default=None),
        "find_orientation_checks_right": sum(c["right"] for r in rows for c in r["find_orientation_checks"]),
        "find_orientation_checks": sum(len(r["find_orientation_checks"]) for r in rows),
    }
    if eval_rows:
        summary["evalset_auto_orient_right"] = sum(r["auto_orient_right"] for r in eval_rows)
        summary["evalset_of"] = 24 * len(eval_rows)
        summary["evalset_blender_axes_refused_right"] = sum(
            r["blender_axes_check"] == ["turned", ["+z", "-y"]] for r in eval_rows
        )
    out = {
        "meta": {
            **run_meta(),
            "heads": str(args.heads),
            "evalset": args.evalset,
            "probed": AUTO_PROBED,
        },
        "summary": summary,
        "rows": rows,
        "evalset_rows": eval_rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=str))
    print(json.dumps(summary))
    return 0


def _in_head_axes(M: np.ndarray) -> tuple[str, str]:
    """The (up, forward) of the untouched head that the map M (head axes -> canonical) stands for."""
    return _axis_name(M.T @ np.array([0, 1.0, 0])), _axis_name(M.T @ np.array([0, 0, 1.0]))


def _axis_name(v: np.ndarray) -> str:
    i = int(np.argmax(np.abs(v)))
    return ("+" if v[i] > 0 else "-") + "xyz"[i]


if __name__ == "__main__":
    raise SystemExit(main())
