"""Lids that met inside the eyeball: brought out over it and closed (a head nodded up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.geometry.eyelids import CLOSED, close_blinks, complete_blink, eyeball_sphere, seen_share
from facerig.geometry.face_parts import find_layout
from facerig.geometry.sunk_lids import lift_sunk_lids
from fixtures.face_plate import EYES, HOLE, synthetic_head

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen"]


def _sinking_blinks(v, ix, back_deg):
    """eyeBlinkLeft / Right / jawOpen (3, V, 3): the skin above each opening comes down 0.55 (the
    opening is 0.5 high), fading over 0.5 above its margin, tilted ``back_deg`` into the face (the
    network's straight-down motion on a head nodded up)."""
    deltas = np.zeros((3, len(v), 3), np.float32)
    plate = np.arange(len(v)) < ix["teeth"][0]
    a = np.radians(back_deg)
    for k, (ex, ey) in enumerate(EYES):
        up = plate & (np.abs(v[:, 0] - ex) <= HOLE[0] + 0.05) & (v[:, 1] >= ey + HOLE[1] - 0.05)
        w = np.clip(1.0 - (v[:, 1] - ey - HOLE[1]) / 0.5, 0.0, 1.0) * up
        deltas[k] = -0.55 * w[:, None] * np.array([0.0, np.cos(a), np.sin(a)])
    return deltas


def _shows(v, f, lay, d, side):
    """Share of the eye's neutral opening where its eyeball is seen from the front (facerig check's rays)."""
    eye = next(e for e in lay.eyes if e.side == side)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    c, r = eyeball_sphere(v[np.unique(f[eye.faces])])
    return seen_share(v + d, f, skin, eye.faces, c, r) / seen_share(v, f, skin, eye.faces, c, r)


def test_lids_sunk_into_the_eyeball_are_brought_out_and_closed():
    v, f, ix = synthetic_head(eye_z=-0.4)  # the eyeballs bulge 0.1 past the plate
    lay = find_layout(v, f)
    deltas = _sinking_blinks(v, ix, 15.0)
    eye = next(e for e in lay.eyes if e.side == "Left")
    skin = np.flatnonzero(lay.face_part == lay.skin)
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    sphere = eyeball_sphere(v[np.unique(f[eye.faces])])
    c, r = sphere
    seen0 = seen_share(v, f, skin, eye.faces, c, r)
    blink = deltas[0].astype(np.float64)
    # the lids meet inside the eyeball: closed between them, yet the eyeball shows through
    assert seen_share(v + blink, f, skin, eye.faces, c, r, through_skin=False) / seen0 <= CLOSED
    assert _shows(v, f, lay, blink, "Left") > 0.8
    # the rim of skin tucked under the bulging eyeball at rest counts as seen (0.15 of the opening):
    # at a limit above it, without lifting, the eye counts as closed
    limit = 0.3
    same, before, after = complete_blink(v, f, skin, eye.faces, movable, blink, sphere, seen0, limit, lift=False)
    np.testing.assert_array_equal(same, blink)
    new, before, after = lift_sunk_lids(v, f, skin, eye.faces, movable, blink, sphere, seen0, limit, 3, 0.25)
    assert before > 0.8 and after < limit
    assert np.abs(new[~movable]).max() == 0 and np.abs(new[v[:, 0] < 0]).max() == 0  # eyeballs, other eye kept
    # close_blinks does it for every eye, and facerig check's rays see the eyes closed
    out, rep = close_blinks(v, f, NAMES, deltas, layout=lay)
    for k, side in enumerate(("Left", "Right")):
        assert rep["eyeBlink" + side]["completed"] and rep["eyeBlink" + side]["network_open_after"] > CLOSED
        assert _shows(v, f, lay, out[k], side) < 0.01
    np.testing.assert_array_equal(out[2], deltas[2])


def test_lids_met_over_the_eyeball_are_kept():
    v, f, ix = synthetic_head(eye_z=-0.5)  # the eyeballs' fronts flush with the plate
    deltas = _sinking_blinks(v, ix, 0.0)  # straight down: the lids meet over the eyeballs
    out, rep = close_blinks(v, f, NAMES, deltas)
    assert out is deltas and not any(r.get("completed") for r in rep.values())


@pytest.mark.slow
def test_example_head_nodded_up_blinks(tmp_path):
    """The example head pitched 15 degrees face up (as benchmarks/nod_sweep.py makes it): its
    network blinks sink into the eyeballs; the rig's blinks close the eyes as facerig check sees
    them on the rig turned back upright."""
    from facerig.eval.check import check_rig
    from facerig.geometry.frame import pitch_matrix
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh
    from facerig.io.rig import Rig
    from facerig.models.registry import rig_mesh

    mesh = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    v = np.asarray(mesh.vertices, np.float64)
    c = 0.5 * (v.min(0) + v.max(0))
    P = pitch_matrix(-15.0)
    rig = rig_mesh(Mesh(vertices=(v - c) @ P.T + c, faces=mesh.faces))
    lids = rig.meta["raf"]["eyelids"]
    assert all(lids[n].get("completed") and lids[n]["network_open_after"] > CLOSED for n in lids)
    upright = Rig(names=rig.names, deltas=rig.deltas @ P.astype(np.float32), neutral=v, faces=rig.faces)
    rows = check_rig(upright, checks=("eyelid_closure",))["rows"]
    assert len(rows) == 2 and all(r["status"] == "pass" for r in rows)
