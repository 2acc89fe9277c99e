"""Fixtures for facerig.data tests: the ICT model/family loaded once per session, and a tiny
synthetic head family that needs no data."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.config import ict_dir


def _ict_present() -> bool:
    try:
        return ict_dir(required=False) is not None
    except Exception:  # noqa: BLE001
        return False


ICT_PRESENT = _ict_present()
needs_ict = pytest.mark.skipif(not ICT_PRESENT, reason="ICT FaceKit not available (FACERIG_ICT_DIR)")


@pytest.fixture(scope="session")
def ict_model():
    if not ICT_PRESENT:
        pytest.skip("ICT FaceKit not available")
    from facerig.data.ict import load_ict

    return load_ict(progress=False)


@pytest.fixture(scope="session")
def ict_family(ict_model):
    from facerig.data.families import ICTFamily

    return ICTFamily(ict_model)


class TinyFamily:
    """A 2-part synthetic "head" (ellipsoid skin + an eyeball icosahedron), 2 shapes."""

    name = "tiny"
    region_names = ("face", "eyeball_left")
    names = ["jawOpen", "eyeBlinkLeft"]
    mm_per_unit = 10.0

    def __init__(self) -> None:
        import trimesh

        skin = trimesh.creation.icosphere(subdivisions=3)  # 642 vertices
        eye = trimesh.creation.icosahedron()  # 12 vertices
        vs = np.asarray(skin.vertices) * [8.0, 11.0, 9.0]
        ve = np.asarray(eye.vertices) * 1.2 + [3.0, 3.0, 8.0]
        self.template = np.concatenate([vs, ve])
        self.faces = np.concatenate([skin.faces, eye.faces + len(vs)]).astype(np.int64)
        V = self.template.shape[0]
        self.parts = np.zeros(V, np.int64)
        self.parts[len(vs) :] = 1
        self.regions = self.parts.copy()
        self.landmarks68 = None
        d = np.zeros((2, V, 3), np.float32)
        low = self.template[:, 1] < -5
        d[0, low, 1] = -1.0  # "jaw" moves down
        d[1, self.parts == 1, 1] = -0.5  # "eye" moves down
        self._d = d

    def sample_neutral(self, rng, exaggeration=1.0):
        return self.template * (1.0 + 0.05 * exaggeration * rng.normal(size=3))

    def deltas_for(self, neutral):
        return self._d


@pytest.fixture
def tiny_family() -> TinyFamily:
    return TinyFamily()
