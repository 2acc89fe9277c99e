"""ARKit names: the mirror permutation the rig's left/right averaging relies on."""

from __future__ import annotations

from facerig.arkit import ARKIT52, mirror_permutation


def test_mirror_permutation_swaps_sides_only():
    p = mirror_permutation()
    assert sorted(p) == list(range(52)) and all(p[p[i]] == i for i in range(52))
    name = dict(zip(ARKIT52, (ARKIT52[j] for j in p)))
    assert name["eyeBlinkLeft"] == "eyeBlinkRight" and name["jawLeft"] == "jawRight"
    assert name["mouthRight"] == "mouthLeft" and name["browOuterUpRight"] == "browOuterUpLeft"
    assert name["jawOpen"] == "jawOpen" and name["cheekPuff"] == "cheekPuff" and name["tongueOut"] == "tongueOut"
    assert sum(i != j for i, j in enumerate(p)) == 2 * 20  # 20 left/right pairs


def test_mirror_permutation_of_a_subset():
    names = ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft"]
    assert mirror_permutation(names) == [0, 2, 1, 3]  # a side without its counterpart stays
