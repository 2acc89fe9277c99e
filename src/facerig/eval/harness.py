"""Evaluate a rigging method on an eval set (``facerig eval``; layout in docs/CONTRACTS.md).

For each head of ``DIR/index.json`` (optionally only some groups, at most ``limit`` heads per
group): load ``<id>.obj`` with :func:`facerig.io.load_mesh` (degenerate / unreferenced
elements allowed: the harness scores methods, it does not re-validate the set), run
:func:`facerig.models.registry.rig_mesh` (``landmarks=`` the head's landmarks JSON, or None),
match predicted to GT shapes by canonical ARKit name, and compute
:mod:`facerig.eval.metrics` in millimetres.

Timing and memory are measured **in-process**: ``seconds`` is the wall time of the
``rig_mesh`` call, ``cpu_seconds`` its process CPU time (all threads; on a loaded machine the
better measure of cost); ``peak_mb`` is the peak resident set size (psutil, sampled every 5 ms in a
background thread) during the call minus the RSS just before it. In-process numbers exclude
interpreter start-up and imports but include per-process caches built on the first head (e.g.
the dt template's deformation gradients), so the first head of a run is slower; allocator
reuse can make later deltas smaller than a fresh process would show.

A head on which the method fails (e.g. ``dt`` without landmarks) is recorded as
``status="skipped"`` with the reason; it never aborts the run.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import DataError, FacerigError
from facerig.eval import metrics as M

HEAD_KEYS = (
    "mean_mm",
    "active_mm",
    "q95_mm",
    "relative",
    "si_mm",
    "si_active_mm",
    "interp",
    "interp_gt",
    "zero_active_mm",
    "seconds",
    "cpu_seconds",
    "peak_mb",
)


class PeakRSS:
    """Context manager sampling this process's RSS in a thread; ``peak_mb`` = peak - start (MB)."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        import psutil

        self._proc = psutil.Process(os.getpid())
        self._start = self._peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)
        self.peak_mb = (self._peak - self._start) / 2**20


def load_index(set_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``set_dir/index.json`` -> dict with ``heads`` (raises DataError)."""
    p = Path(set_dir) / "index.json"
    if not p.is_file():
        raise DataError(f"{p} not found: write an eval set with `facerig data make-eval --out {set_dir}`")
    try:
        index = json.loads(p.read_text())
        heads = index["heads"]
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{p}: malformed eval index ({e})") from None
    if not isinstance(heads, list):
        raise DataError(f"{p}: 'heads' must be a list")
    return index


def select_heads(heads: list[dict], groups: Iterable[str] | None = None, limit: int | None = None) -> list[dict]:
    """Heads of the given groups (all if None), at most ``limit`` per group, index order."""
    gs = None if groups is None else set(groups)
    out, seen = [], {}
    for h in heads:
        g = h.get("group", "")
        if gs is not None and g not in gs:
            continue
        if limit is not None and seen.get(g, 0) >= limit:
            continue
        seen[g] = seen.get(g, 0) + 1
        out.append(h)
    return out


def match_shapes(pred_names: list[str], gt_names: list[str]) -> tuple[list[tuple[int, int, str]], list[str], list[str]]:
    """Pair predicted and GT shapes by canonical ARKit name.

    Returns (pairs [(pred index, gt index, name)], missing (GT names the method lacks),
    extra (predicted names without GT)). Names that are not ARKit are matched verbatim.
    """

    def canon(n: str) -> str:
        return canonical_name(str(n)) or str(n)

    pi = {canon(n): i for i, n in enumerate(pred_names)}
    gi = {canon(n): i for i, n in enumerate(gt_names)}
    order = {n: i for i, n in enumerate(ARKIT52)}
    names = sorted(gi, key=lambda n: (order.get(n, 999), n))
    pairs = [(pi[n], gi[n], n) for n in names if n in pi]
    missing = [n for n in names if n not in pi]
    extra = [canon(n) for n in pred_names if canon(n) not in gi]
    return pairs, missing, extra


def _finite(x: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, np.ndarray):
        return _finite(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def evaluate_head(
    set_dir: Path,
    head: dict,
    method: str,
    *,
    shapes: list[str] | None = None,
    interp: bool = True,
    options: dict[str, Any] | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Run ``method`` on one head and score it -> JSON-able record (see module doc)."""
    from facerig.io import load_mesh
    from facerig.models.registry import rig_mesh

    rec: dict[str, Any] = {"id": head.get("id"), "group": head.get("group"), "status": "ok"}
    try:
        gt = np.load(set_dir / head["gt"], allow_pickle=False)
        gt_names = [str(n) for n in gt["names"]]
        gt_deltas = gt["deltas"]
        mm = float(head.get("mm_per_unit") or (gt["mm_per_unit"] if "mm_per_unit" in gt else 1.0))
        # permissive: the harness scores methods, it does not re-validate the set's meshes
        mesh = load_mesh(set_dir / head["mesh"], allow_degenerate=True, allow_unreferenced=True)
    except FacerigError as e:
        return dict(rec, status="skipped", reason=f"cannot load head: {e}")
    except (OSError, KeyError, ValueError) as e:
        return dict(rec, status="skipped", reason=f"cannot load head: {e.__class__.__name__}: {e}")
    if gt_deltas.shape[1] != mesh.num_vertices:
        return dict(rec, status="skipped", reason=f"GT has {gt_deltas.shape[1]} vertices, mesh {mesh.num_vertices}")
    lm = head.get("landmarks")
    opts = dict(options or {})
    opts["landmarks"] = str(set_dir / lm) if lm else None
    if method == "raf":  # measure every head: the head check (a refusal) is not part of the score
        opts.setdefault("head_check", False)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with PeakRSS() as mem:
            rig = rig_mesh(mesh, method, **opts)
    except FacerigError as e:
        return dict(rec, status="skipped", reason=str(e).strip().splitlines()[0] if str(e).strip() else "FacerigError")
    except Exception as e:  # noqa: BLE001 - one head must not stop the run
        last = traceback.extract_tb(e.__traceback__)[-1]
        return dict(
            rec,
            status="skipped",
            reason=f"{e.__class__.__name__}: {str(e).strip()[:200]} ({Path(last.filename).name}:{last.lineno})",
        )
    rec["seconds"] = time.perf_counter() - t0
    rec["cpu_seconds"] = time.process_time() - c0
    rec["peak_mb"] = mem.peak_mb
    rec["num_vertices"] = mesh.num_vertices
    rec["mm_per_unit"] = mm
    pairs, missing, extra = match_shapes(rig.names, gt_names)
    if shapes:
        want = {canonical_name(s) or s for s in shapes}
        pairs = [p for p in pairs if p[2] in want]
        missing = [n for n in missing if n in want]
    rec["missing"] = missing
    rec["extra"] = extra
    if not pairs:
        return dict(rec, status="skipped", reason="no shape in common with the GT")
    pred = np.stack([rig.deltas[i] for i, _, _ in pairs])
    gtd = np.stack([gt_deltas[j] for _, j, _ in pairs]).astype(np.float32)
    names = [n for _, _, n in pairs]
    per = M.shape_errors(pred, gtd, mm)
    head_m = M.head_summary(per)
    shape_rec = {n: {k: per[k][i] for k in M.SHAPE_KEYS} for i, n in enumerate(names)}
    if interp:
        neutral = gt["neutral"] if "neutral" in gt else mesh.vertices
        faces = gt["faces"] if "faces" in gt else mesh.faces
        parts = gt["parts"] if "parts" in gt else None
        setup = M.penetration_setup(np.asarray(neutral, np.float64), np.asarray(faces, np.int64), parts, mm_per_unit=mm)
        ip = M.interpenetration(neutral, faces, pred, mm_per_unit=mm, setup=setup)
        ig = _gt_interpenetration(
            set_dir / head["gt"], names, lambda: M.interpenetration(neutral, faces, gtd, mm_per_unit=mm, setup=setup)
        )
        head_m["interp"] = float(ip.mean())
        head_m["interp_gt"] = float(ig.mean())
        for i, n in enumerate(names):
            shape_rec[n]["interp"] = ip[i]
            shape_rec[n]["interp_gt"] = ig[i]
    rec["metrics"] = head_m
    rec["shapes"] = shape_rec
    if check:  # facerig check on the predicted rig (no ground truth; facerig.eval.check)
        from facerig.eval.check import check_summary

        try:
            rec["check"] = check_summary(rig, mesh.faces)
        except Exception as e:  # noqa: BLE001 - the check must not cost the head its scores
            rec["check"] = {"error": f"{e.__class__.__name__}: {str(e)[:200]}"}
    rec["method_meta"] = {k: v for k, v in rig.meta.items() if k in ("missing", "dt_mode", "timings", "seconds")}
    return rec


def _gt_interpenetration(gt_path: Path, names: list[str], compute: Callable[[], np.ndarray]) -> np.ndarray:
    """GT interpenetration ratios (K,), cached in ``cache_dir("eval")`` by GT file + shapes
    (the GT's own ratio does not depend on the method)."""
    import hashlib

    from facerig.config import cache_dir

    st = gt_path.stat()
    key = hashlib.sha1(
        json.dumps([str(gt_path.resolve()), st.st_size, st.st_mtime_ns, names, M.__name__, "v2"]).encode()
    ).hexdigest()[:20]
    path = cache_dir("eval") / f"interp_gt_{key}.npy"
    if path.is_file():
        try:
            v = np.load(path)
            if v.shape == (len(names),):
                return v
        except (OSError, ValueError):
            pass
    v = compute()
    try:
        from facerig.config import cache_note

        cache_note("eval", "ground-truth interpenetration ratios (one per eval head)", first_only=True)
        np.save(path, v)
    except OSError:
        pass
    return v


def _mean(vals: list[float]) -> float:
    v = [x for x in vals if x is not None and math.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def aggregate(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-group, overall and per-shape means over the scored heads (skipped heads listed)."""
    ok = [r for r in records if r["status"] == "ok"]
    groups: dict[str, Any] = {}
    for g in dict.fromkeys(r["group"] for r in records):
        rs = [r for r in ok if r["group"] == g]
        row = {
            k: _mean([r["metrics"].get(k, float("nan")) if k in r["metrics"] else r.get(k, float("nan")) for r in rs])
            for k in HEAD_KEYS
        }
        row["peak_mb_max"] = max((r["peak_mb"] for r in rs), default=float("nan"))
        row["heads"] = len(rs)
        row["skipped"] = sum(1 for r in records if r["group"] == g and r["status"] != "ok")
        groups[g] = row
    overall = {
        k: _mean([r["metrics"].get(k, float("nan")) if k in r["metrics"] else r.get(k, float("nan")) for r in ok])
        for k in HEAD_KEYS
    }
    overall["heads"] = len(ok)
    overall["skipped"] = len(records) - len(ok)
    shapes: dict[str, Any] = {}
    for r in ok:
        for n, s in r["shapes"].items():
            shapes.setdefault(n, []).append(s)
    per_shape = {
        n: dict(
            {
                k: _mean([s.get(k, float("nan")) for s in ss])
                for k in (
                    "mean_mm",
                    "active_mm",
                    "q95_mm",
                    "relative",
                    "si_active_mm",
                    "si_scale",
                    "interp",
                    "interp_gt",
                )
            },
            heads=len(ss),
        )
        for n, ss in shapes.items()
    }
    missing = sorted({n for r in ok for n in r.get("missing", [])})
    return {
        "groups": groups,
        "overall": overall,
        "shapes": per_shape,
        "missing": missing,
        "skipped": [
            {"id": r["id"], "group": r["group"], "reason": r.get("reason", "")} for r in records if r["status"] != "ok"
        ],
    }


def evaluate(
    set_dir: str | os.PathLike,
    method: str,
    *,
    groups: Iterable[str] | None = None,
    limit: int | None = None,
    shapes: list[str] | None = None,
    interp: bool = True,
    options: dict[str, Any] | None = None,
    progress: bool = True,
    on_head: Callable[[dict[str, Any]], None] | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Evaluate ``method`` on the eval set in ``set_dir``.

    Args:
        set_dir: folder with ``index.json``.
        method: a name in :data:`facerig.models.registry.METHODS`.
        groups: only these groups; limit: at most this many heads per group.
        shapes: only these ARKit shapes; interp: compute interpenetration ratios.
        options: extra keyword options for the method (e.g. ``{"dt_mode": "copy"}``).
        progress: show a rich progress bar; on_head: callback per finished head record.
        check: run ``facerig check`` on each predicted rig (``check`` per head record and
            ``check`` pass counts per check in the result).

    Returns:
        JSON-able dict: ``method``, ``set``, ``options``, ``heads`` (per-head records with
        per-shape metrics), ``groups`` / ``overall`` / ``shapes`` aggregates, ``missing``,
        ``skipped`` and ``wall_seconds``.
    """
    from facerig.models.registry import get_method

    get_method(method)  # unknown method -> FacerigError before any work
    set_dir = Path(set_dir)
    index = load_index(set_dir)
    heads = select_heads(index["heads"], groups, limit)
    if not heads:
        raise DataError(
            f"no heads selected in {set_dir} (groups: {', '.join(sorted({h.get('group', '') for h in index['heads']}))})"
        )
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]eval {task.fields[method]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[head]}"),
            transient=True,
        ) as bar:
            task = bar.add_task("eval", total=len(heads), method=method, head="")
            for h in heads:
                bar.update(task, head=f"{h.get('group')}/{h.get('id')}")
                rec = evaluate_head(set_dir, h, method, shapes=shapes, interp=interp, options=options, check=check)
                records.append(rec)
                if on_head:
                    on_head(rec)
                bar.advance(task)
    else:
        for h in heads:
            rec = evaluate_head(set_dir, h, method, shapes=shapes, interp=interp, options=options, check=check)
            records.append(rec)
            if on_head:
                on_head(rec)
    result = {"method": method, "set": str(set_dir), "options": options or {}, "heads": records}
    result.update(aggregate(records))
    if check:
        from facerig.eval.check import check_pass_rates

        result["check"] = check_pass_rates(records)
    result["wall_seconds"] = time.perf_counter() - t0
    return _finite(result)


def write_json(path: str | os.PathLike, result: dict[str, Any]) -> None:
    """Write an :func:`evaluate` result as JSON (atomic)."""
    from facerig.io.atomic import write_text_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(_finite(result), indent=1))
