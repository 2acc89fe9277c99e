"""Finding a head's mouth opening from its geometry: a cut or a fold between the lips, or none."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.geometry.face_parts import find_layout
from facerig.geometry.mouth import find_mouth, section_chains
from fixtures.face_plate import MOUTH_Y, synthetic_head
from fixtures.profile_head import LIP_Y, profile_head


def test_section_of_a_swept_profile_is_the_profile():
    v, f, ns = profile_head("none")
    chains = section_chains(v, f[: len(f) - 2 * 320], 0.05)  # the skin only (each eyeball has 320 faces)
    assert len(chains) == 1 and not chains[0][1]
    pts = chains[0][0]
    assert pts[:, 0].max() == pytest.approx(v[:ns, 1].max()) and pts[:, 0].min() == pytest.approx(v[:ns, 1].min())
    np.testing.assert_allclose(pts[:, 1], 0.0, atol=1e-12)
    _, _, edges = section_chains(v, f, 0.05, with_edges=True)[0]
    assert edges.shape == (len(pts), 2) and np.all(v[edges[:, 0], 0] < 0.05) and np.all(v[edges[:, 1], 0] > 0.05)


def test_a_fold_between_the_lips_is_a_mouth():
    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    mouth, note = find_mouth(v, f, lay)
    assert mouth is not None and mouth.kind == "fold", note
    assert mouth.y[mouth.mid] == pytest.approx(LIP_Y, abs=0.05)
    assert mouth.corners[0] < -2 and mouth.corners[1] > 2  # the fold runs across the whole plate
    # the fold's walls are the inside of the mouth; the face's front is not
    inside = mouth.inside
    assert inside[:ns].any() and not inside[ns:].any()
    assert np.all(v[inside, 2] < -0.02) and np.all(np.abs(v[inside, 1] - LIP_Y) < 0.1)


@pytest.mark.parametrize("kind", ["notch", "none"])
def test_lips_of_one_sheet_of_skin_are_no_mouth_opening(kind):
    v, f, _ = profile_head(kind)
    mouth, note = find_mouth(v, f, find_layout(v, f))
    assert mouth is None and note.startswith("no mouth opening")


def test_a_slit_is_a_mouth_when_a_motion_pulls_its_sides_apart():
    v, f, ix = synthetic_head()
    lay = find_layout(v, f)
    # the slit's lips coincide: stitched like a UV seam, they are one sheet ...
    assert find_mouth(v, f, lay)[0] is None
    # ... unless a shape (jawOpen) moves its two sides apart
    jaw = np.zeros_like(v)
    jaw[ix["lower"], 1] = -0.5 * ix["jaw"]
    mouth, note = find_mouth(v, f, lay, jaw)
    assert mouth is not None and mouth.kind == "hole", note
    assert mouth.y[mouth.mid] == pytest.approx(MOUTH_Y, abs=0.05)
    assert not mouth.inside.any()  # a cut has no walls to count
