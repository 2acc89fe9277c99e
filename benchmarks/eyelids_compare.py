"""Before / after table of ``benchmarks/eyelids_before_after.sh`` (one TAG).

    python benchmarks/eyelids_compare.py TAG  ->  benchmarks/results/eyelids_ab/summary_TAG.json

Per author head: blink completion, relative and scale-invariant error (``out_of_family.py``); per
public head: ``facerig check``'s eyelid closure and rigidity (worst value, pass / fail); per
validation group: ``facerig eval``'s mean and active error in mm and blink errors, with after -
before.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

AB = Path(__file__).resolve().parent / "results" / "eyelids_ab"
#: ``facerig check``'s checks shown per public head
SHOWN = ("eyelid_closure", "mouth_open", "mouth_close", "rigidity", "interpenetration")


def _load(side: str, tag: str, what: str) -> dict:
    return json.loads((AB / f"{side}_{tag}_{what}.json").read_text())


def main(argv: list[str] | None = None) -> int:
    tag = (argv if argv is not None else sys.argv[1:])[0]
    out: dict = {"tag": tag}
    b, a = _load("before", tag, "out_of_family"), _load("after", tag, "out_of_family")
    out["dates"] = {"before": b["date"], "after": a["date"], "machine": a["machine"]}
    rows = {}
    for hb, ha in zip(b["heads"], a["heads"]):
        rows[ha["head"]] = {k: [hb[k], ha[k]] for k in ("blink_completion", "relative", "si")}
    out["out_of_family"] = {"heads": rows, "summary": {"before": b["summary"], "after": a["summary"]}}
    print(f"{'head':28s} {'blink':>13s} {'relative':>13s} {'si':>13s}")
    for h, r in rows.items():
        print(f"{h:28s} " + " ".join(f"{x[0]:.3f}->{x[1]:.3f}" for x in r.values()))
    checks = {}
    cb, ca = _load("before", tag, "check_heads"), _load("after", tag, "check_heads")
    for rb, ra in zip(cb["records"], ca["records"]):
        checks[ra["name"]] = {
            c: [
                [rb["summary"][c]["worst"], rb["summary"][c]["status"]],
                [ra["summary"][c]["worst"], ra["summary"][c]["status"]],
            ]
            for c in SHOWN
            if c in ra["summary"]
        }
        print(
            f"{ra['name']:28s} "
            + " ".join(f"{c[:10]} {x[0][1]}->{x[1][1]}" for c, x in checks[ra["name"]].items() if x[1][1] != "n/a")
        )
    out["check_heads"] = {
        "heads": checks,
        "pass_counts": {"before": cb["pass_counts"], "after": ca["pass_counts"]},
        "applicable_counts": {"before": cb["applicable_counts"], "after": ca["applicable_counts"]},
    }
    for c in SHOWN:
        print(
            f"check {c}: {cb['pass_counts'][c]}/{cb['applicable_counts'][c]} -> "
            f"{ca['pass_counts'][c]}/{ca['applicable_counts'][c]}"
        )
    eb, ea = _load("before", tag, "eval"), _load("after", tag, "eval")
    groups = {}
    for g in ea["groups"]:
        gb, ga = eb["groups"][g], ea["groups"][g]
        groups[g] = {k: [gb[k], ga[k], ga[k] - gb[k]] for k in ("mean_mm", "active_mm")}
        print(f"eval {g:14s} " + "  ".join(f"{k} {v[0]:.4f}->{v[1]:.4f} ({v[2]:+.4f})" for k, v in groups[g].items()))
    blinks = {
        n: [eb["shapes"][n]["active_mm"], ea["shapes"][n]["active_mm"]] for n in ("eyeBlinkLeft", "eyeBlinkRight")
    }
    out["eval"] = {"groups": groups, "blink_active_mm": blinks, "check": {"before": eb["check"], "after": ea["check"]}}
    (AB / f"summary_{tag}.json").write_text(json.dumps(out, indent=1))
    print(f"wrote {AB / f'summary_{tag}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
