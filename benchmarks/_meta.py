"""The metadata block every benchmark result carries: when, on what, at which commit.

Scripts in this folder import it as a sibling (``python benchmarks/X.py`` puts ``benchmarks/`` on
``sys.path``; scripts that tests load by path insert that folder themselves, as ``ablations.py`` does)::

    from _meta import run_meta, write_result

    out = {**run_meta(threads=args.threads), "heads": rows}
    write_result("my_bench", args.tag, {"heads": rows}, argv)   # results/my_bench[_TAG].json
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

#: The keys :func:`run_meta` always writes (``date`` and ``machine`` are read by other scripts and BENCHMARKS.md).
KEYS = ("date", "machine", "python", "load_average", "torch", "commit")


def _commit() -> str | None:
    """Short git hash of this checkout's HEAD, or None (not a git checkout, no git, or git too slow)."""
    try:
        p = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (p.stdout.strip() or None) if p.returncode == 0 else None


def run_meta(**extra) -> dict:
    """The run's metadata, plus the script's own fields.

    Args:
        **extra: script-specific fields (threads, load before the timed loop, library versions ...),
            added after the standard ones; they may not reuse a standard key.

    Returns:
        dict with ``date`` ("YYYY-MM-DD HH:MM UTC"), ``machine`` ("<processor or machine>, <N> CPUs,
        <platform>"), ``python`` (version), ``load_average`` ([1, 5, 15] min, 2 decimals; None where the OS
        has none), ``torch`` (version if the caller already imported torch, else None: never imported
        here), ``commit`` (short git hash or None), then ``extra``.

    Raises:
        ValueError: ``extra`` names a standard key.
    """
    clash = sorted(set(extra) & set(KEYS))
    if clash:
        raise ValueError(f"run_meta: {', '.join(clash)} are standard keys; pass another name")
    torch = sys.modules.get("torch")
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "torch": str(torch.__version__) if hasattr(torch, "__version__") else None,
        "commit": _commit(),
        **extra,
    }


def write_result(
    stem: str, tag: str, payload: dict, argv: list[str] | None = None, out: str | Path | None = None
) -> Path:
    """Write ``benchmarks/results/STEM[_TAG].json``: :func:`run_meta`, the command that made it
    (``python benchmarks/STEM.py ARGS``, ``argv`` or ``sys.argv[1:]``), then ``payload``; or to ``out``
    where the script takes an ``--out`` path (its folder made if missing). Prints and returns the path."""
    args = argv if argv is not None else sys.argv[1:]
    result = {**run_meta(), "command": f"python benchmarks/{stem}.py " + " ".join(args), **payload}
    if out is None:
        out = Path(__file__).resolve().parent / "results" / f"{stem}{'_' + tag if tag else ''}.json"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return out
