"""One posed mesh as the expression encoder reads it (facerig.models.encoder.prepare)."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.geometry.proxy import build_proxy, prepare_head
from facerig.models.encoder.prepare import decimate, prepare_posed
from facerig.models.encoder.runtime import EncoderRuntime, posed_frame
from facerig.models.encoder.weights import WEIGHTS_PATH


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each row of a (N,3) to its nearest row of b (M,3)."""
    from scipy.spatial import cKDTree

    return cKDTree(b).query(a)[0]


def test_decimate_is_the_proxys_decimation(tiny_head):
    """The same quadric proxy as build_proxy (to float32 rounding), without its collapse history;
    a mesh within 1.2 x the target is kept as it is."""
    v, f = tiny_head(30, 40)
    pv, pf = decimate(v, f, 300)
    ref = build_proxy(v, f, 300, weld=0.0)
    assert not ref.identity and len(pv) == ref.num_vertices < 0.4 * len(v) and len(pf) == len(ref.faces)
    assert _nearest(pv, ref.vertices).max() < 1e-5 and _nearest(ref.vertices, pv).max() < 1e-5
    same_v, same_f = decimate(v, f, len(v))
    assert np.array_equal(same_v, v) and np.array_equal(same_f, f)


@pytest.mark.skipif(not WEIGHTS_PATH.is_file(), reason="no shipped encoder weights")
def test_the_encoder_reads_what_prepare_head_gave_it(tiny_head):
    """The shipped encoder on prepare_posed's proxy and operators gives the weights it gave on
    prepare_head's (the rig's preparation), to round-off; the operators are the proxy's own in its
    head frame."""
    from facerig.geometry.operators import compute_operators

    model = EncoderRuntime.load(WEIGHTS_PATH)
    c = model.config
    v, f = tiny_head(60, 80)  # 4,728 vertices: decimated to the encoder's ~2,000
    v = v + np.random.default_rng(0).normal(0, 0.01, v.shape)
    pp = prepare_posed(v, f, proxy_vertices=c.proxy_vertices, k=c.k_eig)
    prep = prepare_head(v, f, proxy_vertices=c.proxy_vertices, k=c.k_eig, cache=False)
    assert pp.num_vertices == prep.proxy.num_vertices < len(v) and pp.parts is None
    xyz, centers, scales = posed_frame(prep.proxy.vertices[None])
    np.testing.assert_allclose(pp.scale, scales[0], rtol=1e-5)
    np.testing.assert_allclose(_nearest(pp.xyz, xyz[0]), 0, atol=1e-5)
    ref = model(xyz[0], prep.ops.rescaled(scales[0] / prep.scale).for_network(c.k_eig))
    out = model(pp.xyz, pp.ops)
    assert ref.std() > 1e-3
    np.testing.assert_allclose(out, ref, atol=2e-4)
    own = compute_operators(pp.xyz, pp.faces, k=c.k_eig, cache=False)
    np.testing.assert_allclose(pp.ops.evals, own.evals, rtol=1e-5, atol=1e-6)
    assert pp.ops.evecs.dtype == np.float32 and pp.ops.L is None
    assert {"seams", "proxy", "operators", "eigen"} <= set(pp.timings)


def test_parts_are_the_inputs_and_seams_are_stitched_first(tiny_head, split_ring):
    """Each proxy vertex carries its input part (what a sequence samples its motion within); a
    head split into islands along a seam is prepared as the closed head (one zero eigenvalue per
    part), as prepare_head does, unless stitching is off."""
    v, f = tiny_head(30, 40)
    labels = np.where(np.arange(len(v)) < len(v) - 6, 7, 3)  # the head 7, the "eye" 3
    pp = prepare_posed(v, f, proxy_vertices=300, k=8, parts=labels)
    eye = np.linalg.norm(pp.vertices - [0.3, 0.3, 0.95], axis=1) < 0.081  # the octahedron's 6 vertices
    assert eye.sum() == 6 and set(pp.parts[eye]) == {3} and set(pp.parts[~eye]) == {7}
    v2, f2, _ = split_ring(v, f, 15, 40)
    zeros = lambda p: int((p.ops.evals < 1e-6).sum())  # noqa: E731
    assert zeros(prepare_posed(v2, f2, proxy_vertices=300, k=8)) == 2  # head + eye
    assert zeros(prepare_posed(v2, f2, proxy_vertices=300, k=8, weld=0.0)) == 3  # two islands + eye
    closed = prepare_head(v2, f2, proxy_vertices=300, k=8, cache=False)
    assert int((closed.ops.evals < 1e-6).sum()) == 2
