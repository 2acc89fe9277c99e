"""Side-by-side and per-head markdown tables of eval results."""

from __future__ import annotations

from facerig.eval.report import markdown_compare, markdown_focus_shapes, markdown_heads


def _result(active):
    head = {
        "id": "h1",
        "group": "external",
        "metrics": {"active_mm": active, "relative": active / 2, "si_active_mm": active * 0.9, "zero_active_mm": 2.0},
        "shapes": {"jawOpen": {"active_mm": active * 2}, "eyeBlinkLeft": {"active_mm": float("nan")}},
    }
    g = {"heads": 1, "active_mm": active, "relative": active / 2, "interp": 0.01, "interp_gt": 0.02}
    return {"groups": {"external": g}, "overall": g, "heads": [head]}


def test_compare_heads_and_focus_tables():
    t = markdown_compare({"a": _result(1.0), "b": _result(0.5)}).splitlines()
    assert t[0].startswith("| group | heads | active (a) | rel (a) | interp (a) | active (b)")
    assert t[2] == "| external | 1 | 1.00 | 0.500 | 0.0100 | 0.50 | 0.250 | 0.0100 | 0.0200 |"
    assert t[3].startswith("| all |")
    h = markdown_heads(_result(1.0)).splitlines()
    assert h[2] == "| h1 | 1.00 | 0.500 | 0.90 | 0.450 |"
    f = markdown_focus_shapes(_result(1.0), ["jawOpen", "eyeBlinkLeft"]).splitlines()
    assert f[2] == "| jawOpen | 2.00 |" and f[3] == "| eyeBlinkLeft | - |"
