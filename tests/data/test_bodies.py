"""``facerig.data.bodies``: test bodies under a head."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.data.bodies import makehuman_body, on_body


@pytest.mark.parametrize("kind", ["bust", "body"])
def test_on_body_adds_a_closed_outward_body_below_the_head(head_arrays, kind):
    v, f = head_arrays
    bv, bf = on_body(v, f, kind)
    np.testing.assert_array_equal(bv[: len(v)], v)
    np.testing.assert_array_equal(bf[: len(f)], f)
    body = trimesh.Trimesh(bv[len(v) :], bf[len(f) :] - len(v), process=False)
    assert body.is_watertight and body.volume > 0  # closed, wound outward
    height = np.ptp(v[:, 1])
    assert body.vertices[:, 1].max() < v[:, 1].min() + 0.1 * height  # below the head, overlapping its base
    assert np.ptp(body.vertices[:, 1]) > (4 if kind == "body" else 1) * height
    assert np.ptp(body.vertices[:, 0]) > 1.6 * np.ptp(v[:, 0])  # shoulders wider than the head


def test_on_body_refuses_an_unknown_kind(head_arrays):
    with pytest.raises(ValueError, match="unknown body kind"):
        on_body(*head_arrays, "torso")


def test_makehuman_body_keeps_base_obj_positions():
    from facerig.data.makehuman import makehuman_dir

    root = makehuman_dir(required=False)
    if root is None:
        pytest.skip("MakeHuman data not available")
    base = root / "3dobjs" / "base.obj"
    v, f, index = makehuman_body(base)
    allv = np.array(
        [[float(x) for x in ln.split()[1:4]] for ln in base.read_text().splitlines() if ln.startswith("v ")]
    )
    np.testing.assert_array_equal(v, allv[index])
    assert f.min() == 0 and f.max() == len(v) - 1
    assert np.ptp(v[:, 1]) > 5 * np.ptp(v[:, 0][v[:, 1] > v[:, 1].max() - 1.0])  # a body, far taller than its head
