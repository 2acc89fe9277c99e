"""Tables for :func:`facerig.eval.harness.evaluate` results: rich (terminal) and markdown.

Columns (all errors in mm, means over heads; see :mod:`facerig.eval.metrics`):
``mean`` all-vertex error, ``active`` error on vertices the GT moves > 0.5 mm, ``q95`` pooled
95th percentile, ``rel`` active / zero-rig active (1 = no better than zero), ``si`` scale-invariant
active error, ``interp`` interpenetration ratio of the prediction (``gt``: of the ground truth,
the floor), ``s/head`` wall seconds of ``rig_mesh``, ``cpu s`` its CPU seconds, ``MB`` peak RSS increase.
"""

from __future__ import annotations

import math
from typing import Any

GROUP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # header, key, format
    ("mean", "mean_mm", "{:.2f}"),
    ("active", "active_mm", "{:.2f}"),
    ("q95", "q95_mm", "{:.2f}"),
    ("rel", "relative", "{:.3f}"),
    ("si", "si_active_mm", "{:.2f}"),
    ("interp", "interp", "{:.3f}"),
    ("interp gt", "interp_gt", "{:.3f}"),
    ("s/head", "seconds", "{:.1f}"),
    ("cpu s", "cpu_seconds", "{:.1f}"),
    ("MB", "peak_mb", "{:.0f}"),
)

SHAPE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("active", "active_mm", "{:.2f}"),
    ("mean", "mean_mm", "{:.3f}"),
    ("q95", "q95_mm", "{:.2f}"),
    ("rel", "relative", "{:.3f}"),
    ("si", "si_active_mm", "{:.2f}"),
    ("scale", "si_scale", "{:.2f}"),
    ("interp", "interp", "{:.3f}"),
)


def _fmt(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return fmt.format(v)


def group_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row per group plus ``all``: [group, heads(+skipped), *GROUP_COLUMNS]."""
    rows = []
    items = list(result.get("groups", {}).items()) + [("all", result.get("overall", {}))]
    for g, row in items:
        heads = f"{row.get('heads', 0)}" + (f" (+{row['skipped']} skipped)" if row.get("skipped") else "")
        rows.append([g, heads] + [_fmt(row.get(k), f) for _, k, f in GROUP_COLUMNS])
    return rows


def shape_rows(result: dict[str, Any], top: int | None = None) -> list[list[str]]:
    """Per-shape rows, worst (largest mean active error) first."""
    shapes = result.get("shapes", {})

    def key(item):
        v = item[1].get("active_mm")
        return -(v if v is not None and math.isfinite(v) else -1.0)

    items = sorted(shapes.items(), key=key)
    if top is not None:
        items = items[:top]
    return [[n, str(s.get("heads", ""))] + [_fmt(s.get(k), f) for _, k, f in SHAPE_COLUMNS] for n, s in items]


def markdown_table(result: dict[str, Any]) -> str:
    """Group table as GitHub markdown (for BENCHMARKS.md)."""
    head = ["group", "heads"] + [h for h, _, _ in GROUP_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in group_rows(result)]
    return "\n".join(lines)


def markdown_shapes(result: dict[str, Any], top: int | None = 10) -> str:
    """Worst shapes as GitHub markdown."""
    head = ["shape", "heads"] + [h for h, _, _ in SHAPE_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in shape_rows(result, top)]
    return "\n".join(lines)


def print_report(result: dict[str, Any], *, top_shapes: int | None = 15, console: Any = None) -> None:
    """Print the group table, the worst-shapes table, missing shapes and skipped heads."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal or console.width < 120:
            console = Console(width=max(console.width, 140))
    opts = result.get("options") or {}
    title = f"facerig eval: method={result.get('method')} set={result.get('set')}" + (
        f" options={opts}" if opts else ""
    )
    t = Table(title=title + " (errors in mm)")
    for h in ["group", "heads"] + [h for h, _, _ in GROUP_COLUMNS]:
        t.add_column(h, justify="left" if h == "group" else "right")
    for r in group_rows(result):
        t.add_row(*r)
    console.print(t)
    if result.get("shapes"):
        ts = Table(title=f"per shape, worst first{'' if top_shapes is None else f' (top {top_shapes})'}")
        for h in ["shape", "heads"] + [h for h, _, _ in SHAPE_COLUMNS]:
            ts.add_column(h, justify="left" if h == "shape" else "right")
        for r in shape_rows(result, top_shapes):
            ts.add_row(*r)
        console.print(ts)
    if result.get("check"):
        cells = [
            f"{c} {s['pass']}/{s['pass'] + s['fail']}" for c, s in result["check"].items() if s["pass"] + s["fail"]
        ]
        console.print("facerig check, heads passing: " + ", ".join(cells))
    if result.get("missing"):
        console.print(f"shapes the method lacks (excluded from averages): {', '.join(result['missing'])}")
    for s in result.get("skipped", []):
        console.print(f"[yellow]skipped[/] {s['group']}/{s['id']}: {s['reason']}")


def markdown_compare(
    results: dict[str, dict[str, Any]],
    columns: tuple[tuple[str, str, str], ...] = (
        ("active", "active_mm", "{:.2f}"),
        ("rel", "relative", "{:.3f}"),
        ("interp", "interp", "{:.4f}"),
    ),
) -> str:
    """Several results side by side: one row per group (+ ``all``), ``columns`` for each labelled
    result (``{label: result}``), then the GT interpenetration of the first result."""
    labels = list(results)
    first = results[labels[0]]
    groups = list(first.get("groups", {})) + ["all"]
    head = ["group", "heads"] + [f"{h} ({lab})" for lab in labels for h, _, _ in columns] + ["interp gt"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in groups:
        rows = [r.get("overall", {}) if g == "all" else r.get("groups", {}).get(g, {}) for r in results.values()]
        cells = [g, str(rows[0].get("heads", 0))]
        cells += [_fmt(row.get(k), f) for row in rows for _, k, f in columns]
        cells.append(_fmt(rows[0].get("interp_gt"), "{:.4f}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_heads(result: dict[str, Any], group: str = "external") -> str:
    """One row per head of ``group``: active, relative, scale-invariant (mm and / zero rig)."""
    lines = ["| head | active mm | relative | si mm | si / zero |", "|---|---|---|---|---|"]
    for h in result.get("heads", []):
        m = h.get("metrics") or {}
        if h.get("group") != group or not m:
            continue
        z = m.get("zero_active_mm") or float("nan")
        lines.append(
            f"| {h['id']} | {_fmt(m.get('active_mm'), '{:.2f}')} | {_fmt(m.get('relative'), '{:.3f}')} | "
            f"{_fmt(m.get('si_active_mm'), '{:.2f}')} | {_fmt(m.get('si_active_mm', float('nan')) / z, '{:.3f}')} |"
        )
    return "\n".join(lines)


def markdown_focus_shapes(result: dict[str, Any], names: list[str]) -> str:
    """Active error (mm) of the named shapes per group: rows = shapes, columns = groups."""
    groups: dict[str, dict[str, list[float]]] = {}
    for h in result.get("heads", []):
        for n in names:
            v = (h.get("shapes") or {}).get(n, {}).get("active_mm")
            if v is not None and math.isfinite(v):
                groups.setdefault(h["group"], {}).setdefault(n, []).append(v)
    cols = list(groups)
    lines = ["| shape | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for n in names:
        cells = [_fmt(sum(groups[g][n]) / len(groups[g][n]), "{:.2f}") if groups[g].get(n) else "-" for g in cols]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
