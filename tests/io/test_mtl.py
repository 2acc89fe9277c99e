"""MTL parsing (facerig.io.mtl)."""

from __future__ import annotations

from facerig.io.mtl import parse_mtl


def test_parse_mtl_colours_alpha_and_map_options():
    text = (
        "# c\nnewmtl skin\nKd 0.9 0.7 2.0\nTr 0.25\nmap_Kd -o 0 0 0 -clamp on -bm 1 my tex.png\n"
        "newmtl eyes\n  Kd bad bad bad\n  d 0.5\nmap_Kd eye.jpg\nKs 1 1 1\n"
    )
    m = parse_mtl(text)
    assert m["skin"] == {"Kd": (0.9, 0.7, 1.0), "d": 0.75, "map_Kd": ("my tex.png", True)}
    assert m["eyes"] == {"d": 0.5, "map_Kd": ("eye.jpg", False)}
