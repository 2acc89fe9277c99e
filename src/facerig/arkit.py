"""ARKit-52 blendshape names and name matching.

``ARKIT52`` is Apple's list in Apple's documented order. Helpers map ICT FaceKit names
(``eyeBlink_L``) and common variants (``EyeBlinkLeft``, ``eyeBlink_L``, ``eye_blink_left``)
to canonical ARKit names.
"""

from __future__ import annotations

import re

ARKIT52: tuple[str, ...] = (
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeSquintLeft",
    "eyeWideLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "eyeSquintRight",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
    "tongueOut",
)
assert len(ARKIT52) == 52

_KEY = {re.sub(r"[^a-z]", "", n.lower()): n for n in ARKIT52}


def _key(name: str) -> str:
    s = name.strip()
    # ICT / Blender style suffixes: _L, _R, .L, .R, _l, _r
    s = re.sub(r"[._\- ]([LlRr])$", lambda m: "Left" if m.group(1) in "Ll" else "Right", s)
    return re.sub(r"[^a-z]", "", s.lower())


def canonical_name(name: str) -> str | None:
    """Return the ARKit-52 name matching ``name`` (case/separator/suffix insensitive), or None.

    >>> canonical_name("EyeBlinkLeft"), canonical_name("eyeBlink_L"), canonical_name("eye_blink_left")
    ('eyeBlinkLeft', 'eyeBlinkLeft', 'eyeBlinkLeft')
    """
    return _KEY.get(_key(name))


def ict_to_arkit_name(ict_name: str) -> str:
    """ICT FaceKit expression name to ARKit name (``browInnerUp_L`` -> ``browInnerUp``)."""
    if ict_name.startswith(("browInnerUp_", "cheekPuff_")):
        return ict_name.split("_")[0]
    out = canonical_name(ict_name)
    if out is None:
        raise KeyError(f"ICT expression {ict_name!r} has no ARKit-52 name")
    return out


def mirror_permutation(names=ARKIT52) -> list[int]:
    """Index of each shape's mirror image (``eyeBlinkLeft`` <-> ``eyeBlinkRight``, ``jawLeft`` <->
    ``jawRight``; a shape without a side is its own mirror): ``names[perm[i]]`` is the mirror of
    ``names[i]``. A side whose counterpart is not in ``names`` maps to itself."""
    names = list(names)
    where = {n: i for i, n in enumerate(names)}
    out = []
    for i, n in enumerate(names):
        if "Left" in n:
            m = n.replace("Left", "Right")
        elif "Right" in n:
            m = n.replace("Right", "Left")
        else:
            m = n
        out.append(where.get(m, i))
    return out
