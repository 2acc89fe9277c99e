"""lip_tear: spikes along the lip line, not the step across it."""

from __future__ import annotations

import numpy as np

from facerig.geometry.face_parts import find_layout
from facerig.geometry.lip_tear import along_line_edges, along_line_pairs, lip_tear
from facerig.geometry.mouth import find_mouth
from fixtures.profile_head import profile_head


def test_a_spike_along_the_line_is_caught_a_step_across_it_is_not():
    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    mouth, _ = find_mouth(v, f, lay)
    S = lay.scale
    skin = np.arange(len(v)) < ns
    sf = f[np.all(skin[f], 1)]
    triples = along_line_pairs(v, along_line_edges(v, sf, mouth, S), mouth)
    assert len(triples) > 10
    depth = mouth.line_y(v[:, 0]) - v[:, 1]
    d = np.zeros((3, len(v), 3))
    d[0, skin & (depth > 0), 1] = -0.3 * S  # a clean opening: the lower lip down, the upper lip stays
    d[1] = d[0]
    c = triples[len(triples) // 2, 1]  # one vertex near the line torn away from its neighbours
    d[1, c, 1] += 0.3 * S if d[1, c, 1] < 0 else -0.3 * S
    x = (v[:, 0] - v[:, 0].min()) / np.ptp(v[:, 0])
    d[2, :, 1] = -0.3 * S * x  # a ramp along the line: no vertex sticks out from both sides
    t = lip_tear(d, triples, S)
    assert t[0] < 1e-9 and t[2] < 1e-9
    assert abs(t[1] - 0.3) < 1e-6
    assert lip_tear(d[1], triples, S) == t[1]
