"""The rig NPZ writer: plain np.load-able, dense deltas stored, sparse ones deflated."""

from __future__ import annotations

import zipfile

import numpy as np

from facerig.io.rig import Rig, load_rig, save_rig


def _rig(deltas):
    V = deltas.shape[1]
    return Rig(
        names=[f"s{i}" for i in range(len(deltas))],
        deltas=deltas,
        neutral=np.zeros((V, 3)),
        faces=np.array([[0, 1, 2]]),
        parts=np.zeros(V, int),
        meta={"method": "test"},
    )


def test_dense_and_sparse_rigs_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 500, 3)).astype(np.float32)
    sparse = np.zeros_like(dense)
    sparse[:, :20] = dense[:, :20]
    for name, d in (("dense", dense), ("sparse", sparse)):
        path = tmp_path / f"{name}.npz"
        save_rig(path, _rig(d))
        r = load_rig(path)
        np.testing.assert_array_equal(r.deltas, d)
        assert r.names == ["s0", "s1", "s2", "s3"] and r.meta == {"method": "test"}
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("deltas.npy")
            assert info.compress_type == (zipfile.ZIP_DEFLATED if name == "sparse" else zipfile.ZIP_STORED)
    assert (tmp_path / "sparse.npz").stat().st_size < 0.2 * (tmp_path / "dense.npz").stat().st_size
