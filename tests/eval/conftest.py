"""Fixtures for the eval tests: a tiny eval set in the contract's layout (docs/CONTRACTS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from facerig.io.obj import write_obj

NAMES = ["jawOpen", "eyeBlinkLeft", "tongueOut"]


def _head(seed: int):
    """Skin sphere (r 100 units) + an eyeball sphere near its front; GT for NAMES."""
    skin = trimesh.creation.icosphere(subdivisions=2, radius=100.0)
    eye = trimesh.creation.icosphere(subdivisions=1, radius=20.0)
    eye.apply_translation([30.0, 20.0, 70.0])
    v = np.concatenate([skin.vertices, eye.vertices])
    f = np.concatenate([skin.faces, eye.faces + len(skin.vertices)])
    rng = np.random.default_rng(seed)
    d = np.zeros((len(NAMES), len(v), 3), np.float32)
    front = v[:, 2] > 50
    d[0, front, 1] = -5.0  # "jawOpen"
    d[1, len(skin.vertices) :] = rng.normal(size=3) * 2  # eye moves
    d[2, :10, 2] = 3.0
    parts = np.r_[np.zeros(len(skin.vertices)), np.ones(len(eye.vertices))].astype(np.int32)
    return v, f, d, parts


@pytest.fixture
def evalset(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path / "cache"))  # GT interpenetration cache
    heads = []
    for i, (group, mm) in enumerate([("unseen", 0.1), ("unseen", 0.1), ("external", 1.0)]):
        v, f, d, parts = _head(i)
        hid = f"{group}_{i:03d}"
        (tmp_path / group).mkdir(exist_ok=True)
        write_obj(tmp_path / group / f"{hid}.obj", v, f, header="test head")
        np.savez(
            tmp_path / group / f"{hid}.gt.npz",
            names=np.array(NAMES),
            deltas=d,
            neutral=v,
            faces=f,
            parts=parts,
            mm_per_unit=np.float64(mm),
        )
        heads.append(
            {
                "id": hid,
                "group": group,
                "mesh": f"{group}/{hid}.obj",
                "gt": f"{group}/{hid}.gt.npz",
                "landmarks": None,
                "mm_per_unit": mm,
                "info": {},
            }
        )
    (tmp_path / "index.json").write_text(json.dumps({"version": 1, "heads": heads}))
    return tmp_path
