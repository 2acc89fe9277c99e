"""RigAnyFace's ablations (issue #24 item 3), matched: same shipped start, seed, pool and steps.

    python benchmarks/ablations.py commands                 # print every variant's training command
    python benchmarks/ablations.py train VARIANT [--seed S] # run one (foreground; wrap in nohup/nice yourself)
    python benchmarks/ablations.py eval VARIANT [--seed S]  # train2d.py eval on its last.pt (EMA weights)
    python benchmarks/ablations.py table                    # -> benchmarks/results/ablation_s4.json

Variants (all from ``src/facerig/weights/raf.npz``, ``--steps 400`` with one warm-up + cosine over
them, lr 5e-5, EMA 0.99, one thread, the face frame, the 2D pool ``~/.cache/facerig/train2d_pool``):

- ``control``: ``--no-2d --no-unrigged`` without ``--two-d``: the 3D losses only, on the small pool;
- ``full``: ``--two-d --p-unrigged 0.3``;
- ``no2d``: ``--two-d --p-unrigged 0.3 --no-2d``;
- ``nounrigged``: ``--two-d --no-unrigged``;
- ``nosemantic``: ``--two-d --p-unrigged 0.3 --no-semantic``.

Runs go to ``~/.cache/facerig/t2d_runs/s4_LABEL`` (LABEL = VARIANT, or VARIANT_sS for another seed).
``eval`` writes ``eval_raf_t2d_s4_LABEL.json`` and ``out_of_family_t2d_s4_LABEL.json`` through
``benchmarks/train2d.py``; the shipped baseline is ``python benchmarks/train2d.py eval s4_shipped``.

``table`` gathers every evaluated label into one JSON: per validation group the active error (mm),
the author rigs' out-of-family relative / scale-invariant error / completion / blink completion,
the differences against the control (a second control seed, ``control_s25``, where one ran: the
seed-to-seed spread the other differences should be read against), the shapes that move most
against the control (active mm over all validation heads), each run's training facts
(steps, minutes, skipped steps) and the shipping rule of ``train2d.py compare`` against the shipped
weights.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train2d  # noqa: E402
from _meta import run_meta  # noqa: E402

ROOT = train2d.ROOT
RESULTS = train2d.RESULTS
RUNS = Path(os.path.expanduser("~/.cache/facerig/t2d_runs"))
POOL = Path(os.path.expanduser("~/.cache/facerig/train2d_pool"))
STEPS = 400
SEED = 24

#: The flags that tell the variants apart.
VARIANTS: dict[str, list[str]] = {
    "control": ["--no-2d", "--no-unrigged"],
    "full": ["--two-d", "--p-unrigged", "0.3"],
    "no2d": ["--two-d", "--p-unrigged", "0.3", "--no-2d"],
    "nounrigged": ["--two-d", "--no-unrigged"],
    "nosemantic": ["--two-d", "--p-unrigged", "0.3", "--no-semantic"],
}
#: The flags every variant shares (the model card's 2D command, by steps instead of time).
COMMON = [
    "--init-from", "src/facerig/weights/raf.npz", "--loss", '{"act3d": 1.0}', "--n2d", "2",
    "--steps", str(STEPS), "--restart-period", str(STEPS - 20 + 1), "--lr", "5e-5", "--warmup", "20",
    "--ema", "0.99", "--threads", "1", "--frame-spread", "1.4", "--p-frame", "0.5", "--face-frame",
    "--ckpt-every", "100", "--log-every", "10",
]  # fmt: skip
GROUP_ORDER = ("unseen", "remeshed", "stylised", "parts_removed", "reframed", "makehuman", "external")
OOF_METRICS = ("relative", "si", "completion", "blink_completion_median", "blink_completion_min")


def label(variant: str, seed: int = SEED) -> str:
    return variant if seed == SEED else f"{variant}_s{seed}"


def train_command(variant: str, seed: int = SEED) -> list[str]:
    out = RUNS / f"s4_{label(variant, seed)}"
    return [sys.executable, "-m", "facerig.cli", "train", "run", "--pool", str(POOL), "--out", str(out)] + COMMON + [
        "--seed", str(seed)
    ] + VARIANTS[variant]  # fmt: skip


def run_log(run_dir: Path) -> dict:
    """Training facts from a run's ``train_log.jsonl``: steps, minutes, steps skipped for a
    non-finite gradient (log windows holding one), validation of the weight average."""
    path = run_dir / "train_log.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(s) for s in path.read_text().splitlines() if s.strip()]
    steps = [r for r in rows if "lr" in r]
    val = [r for r in rows if any(k.startswith("val") for k in r)]
    out = {
        "steps": max((r["step"] for r in steps), default=0),
        "minutes": round(max((r["wall_s"] for r in steps), default=0.0) / 60, 1),
        "log_windows": len(steps),
        "windows_with_skipped_step": sum(1 for r in steps if r.get("skipped")),
    }
    if steps and out["steps"]:
        out["s_per_step"] = round(60 * out["minutes"] / out["steps"], 2)
    if val:
        out["validation"] = [{k: v for k, v in r.items() if k == "step" or k.startswith("val")} for r in val]
    return out


def _load(lab: str) -> tuple[dict, dict] | None:
    ev, oof = RESULTS / f"eval_raf_t2d_s4_{lab}.json", RESULTS / f"out_of_family_t2d_s4_{lab}.json"
    if not (ev.exists() and oof.exists()):
        return None
    return json.loads(ev.read_text()), json.loads(oof.read_text())["summary"]


def summarise(ev: dict, oof: dict) -> dict:
    """One label's figures: ``validation_active_mm`` per group, ``out_of_family`` metrics."""
    groups = ev["groups"]
    order = [g for g in GROUP_ORDER if g in groups] + [g for g in groups if g not in GROUP_ORDER]
    return {
        "validation_active_mm": {g: round(groups[g]["active_mm"], 4) for g in order},
        "out_of_family": {m: oof["out_of_family"][m] for m in OOF_METRICS},
        "in_family_author_rig_relative": oof["in_family"]["relative"],
    }


def deltas(a: dict, b: dict) -> dict:
    """``b - a`` for every figure of two :func:`summarise` results."""
    return {
        "validation_active_mm": {
            g: round(b["validation_active_mm"][g] - v, 4)
            for g, v in a["validation_active_mm"].items()
            if g in b["validation_active_mm"]
        },
        "out_of_family": {m: round(b["out_of_family"][m] - v, 4) for m, v in a["out_of_family"].items()},
    }


def shape_deltas(a: dict, b: dict, n: int = 8) -> dict:
    """The ``n`` shapes whose active error (mm, over all validation heads) moves most from eval
    result ``a`` to ``b``: ``{shape: [a, b - a]}``, largest change first."""
    sa, sb = a["shapes"], b["shapes"]
    common = [k for k in sa if k in sb and sa[k].get("active_mm") is not None and sb[k].get("active_mm") is not None]
    top = sorted(common, key=lambda k: -abs(sb[k]["active_mm"] - sa[k]["active_mm"]))[:n]
    return {k: [round(sa[k]["active_mm"], 3), round(sb[k]["active_mm"] - sa[k]["active_mm"], 3)] for k in top}


def table() -> dict:
    labels = ["shipped"] + [label(v) for v in VARIANTS]
    labels += sorted(
        p.name[len("eval_raf_t2d_s4_") : -len(".json")]
        for p in RESULTS.glob("eval_raf_t2d_s4_*_s*.json")
        if p.name[len("eval_raf_t2d_s4_") : -len(".json")] not in labels
    )
    found = {lab: r for lab in labels if (r := _load(lab)) is not None}
    rows = {lab: summarise(*r) for lab, r in found.items()}
    for lab in rows:
        if lab != "shipped":
            rows[lab]["training"] = run_log(RUNS / f"s4_{lab}")
            rows[lab]["weights"] = found[lab][0].get("weights")
    res = {
        **run_meta(),
        "command": "python benchmarks/ablations.py table",
        "setup": {
            "start": "src/facerig/weights/raf.npz (shipped)",
            "steps": STEPS,
            "seed": SEED,
            "pool": "~/.cache/facerig/train2d_pool (109 rigged + 80 unrigged items, 6 validation)",
            "common_flags": " ".join(COMMON),
            "variants": {v: " ".join(f) for v, f in VARIANTS.items()},
        },
        "variants": rows,
    }
    if "control" in rows:
        res["minus_control"] = {lab: deltas(rows["control"], r) for lab, r in rows.items() if lab != "control"}
        res["shapes_minus_control"] = {
            lab: shape_deltas(found["control"][0], found[lab][0]) for lab in rows if lab != "control"
        }
    if "shipped" in rows:
        res["minus_shipped"] = {lab: deltas(rows["shipped"], r) for lab, r in rows.items() if lab != "shipped"}
        rule = {}
        for lab in rows:
            if lab == "shipped":
                continue
            c = train2d.compare("s4_shipped", f"s4_{lab}")
            rule[lab] = {
                "ship": c["ship"],
                "out_of_family_improves": c["out_of_family_improves"],
                "groups_worse_than_tolerance": c["groups_worse_than_tolerance"],
            }
        res["shipping_rule"] = {"rule": c["rule"].replace("s4_" + lab, "VARIANT"), "per_variant": rule}
    return res


def markdown(res: dict) -> str:
    """The table of :func:`table`'s result as Markdown: one row per label, active mm per group and
    the out-of-family figures, the difference against the control in brackets."""
    rows = res["variants"]
    if not rows:
        return "(nothing evaluated yet)"
    groups = list(next(iter(rows.values()))["validation_active_mm"])
    ctrl = rows.get("control")
    head = ["label"] + groups + ["oof rel", "oof si", "oof compl", "blink med", "blink min"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lab, r in rows.items():
        cells = [lab]
        for g in groups:
            v = r["validation_active_mm"].get(g, float("nan"))
            d = "" if ctrl is None or lab == "control" else f" ({v - ctrl['validation_active_mm'][g]:+.3f})"
            cells.append(f"{v:.3f}{d}")
        for m in OOF_METRICS:
            v = r["out_of_family"][m]
            d = "" if ctrl is None or lab == "control" else f" ({v - ctrl['out_of_family'][m]:+.3f})"
            cells.append(f"{v:.3f}{d}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    seed = SEED
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    if argv == ["commands"]:
        for v in VARIANTS:
            print(shlex.join(train_command(v, seed)))
        return 0
    if len(argv) == 2 and argv[0] in ("train", "eval") and argv[1] in VARIANTS:
        if argv[0] == "train":
            env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
            return subprocess.run(train_command(argv[1], seed), cwd=ROOT, env=env).returncode
        lab = label(argv[1], seed)
        train2d.run_eval(f"s4_{lab}", str(RUNS / f"s4_{lab}" / "last.pt"))
        return 0
    if argv == ["table"]:
        res = table()
        out = RESULTS / "ablation_s4.json"
        out.write_text(json.dumps(res, indent=1) + "\n")
        print(markdown(res))
        print(f"wrote {out}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
