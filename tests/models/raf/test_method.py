"""The ``raf`` method: proxy transfer within parts, invariances, threads and forks, shipped weights through ``rig``."""

from __future__ import annotations

import numpy as np
import pytest
from _raf_helpers import _head, _rig

from facerig.geometry.proxy import build_proxy, head_frame


def test_rig_shapes_order_and_missing(tiny_head, random_weights):
    v, f = tiny_head(8, 12)
    out = _rig(v, f, random_weights)
    assert out.deltas.shape == (52, len(v), 3) and out.deltas.dtype == np.float32
    assert out.names[0] == "eyeBlinkLeft" and out.meta["missing"] == ["tongueOut"]
    assert np.all(out.deltas[-1] == 0)
    assert np.abs(out.deltas).max() > 0


def test_translation_and_units_invariance(tiny_head, random_weights):
    v, f = _head(tiny_head)
    d = _rig(v, f, random_weights).deltas
    s, t = 25.4, np.array([3.0, -7.0, 11.0])
    d2 = _rig(v * s + t, f, random_weights).deltas
    np.testing.assert_allclose(d2, d * s, atol=1e-4 * s * np.abs(d).max() + 1e-6)


def test_vertex_permutation_keeps_input_order(tiny_head, random_weights):
    v, f = _head(tiny_head)
    perm = np.random.default_rng(0).permutation(len(v))
    inv = np.argsort(perm)
    d = _rig(v, f, random_weights).deltas
    dp = _rig(v[perm], inv[f], random_weights).deltas
    np.testing.assert_allclose(dp, d[:, perm], atol=1e-3 * np.abs(d).max())


def test_axes_option(tiny_head, random_weights):
    v, f = _head(tiny_head)
    # the same head in Blender axes (+Z up, face toward -Y): x, y, z -> x, -z, y
    vb = np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1)
    d = _rig(v, f, random_weights).deltas
    db = _rig(vb, f, random_weights, up="+z", forward="-y").deltas
    np.testing.assert_allclose(db, np.stack([d[..., 0], -d[..., 2], d[..., 1]], -1), atol=1e-4 * np.abs(d).max())


def test_head_frame_equivariance(tiny_head):
    v, _ = tiny_head(8, 12)
    c, s = head_frame(v)
    c2, s2 = head_frame(v * 3.0 + 1.0)
    np.testing.assert_allclose(c2, c * 3.0 + 1.0, atol=1e-9)
    assert s2 == pytest.approx(3 * s)


def test_proxy_of_large_mesh_stays_within_parts():
    import trimesh

    a = trimesh.creation.icosphere(subdivisions=5)  # 10242 vertices
    b = trimesh.creation.icosphere(subdivisions=4, radius=0.3)
    b.vertices += (0.0, 0.0, 1.05)  # a second part very close to the first
    v = np.concatenate([a.vertices, b.vertices])
    f = np.concatenate([a.faces, b.faces + len(a.vertices)])
    parts = np.r_[np.zeros(len(a.vertices), int), np.ones(len(b.vertices), int)]
    p = build_proxy(v, f, 3000, parts=parts)
    assert 2000 < p.num_vertices < 4500 and not p.identity
    assert np.all(p.parts[p.origin] == parts)
    # a field that is 0 on one part and 1 on the other transfers back exactly
    field = p.parts.astype(np.float64)[:, None]
    np.testing.assert_allclose(p.to_full(field)[:, 0], parts, atol=1e-12)


@pytest.mark.ict
@pytest.mark.slow
def test_ict_lower_lip_keeps_its_jaw_motion():
    """jawOpen through the proxy: lower-lip vertices keep their motion (the upper lip, 1-2 mm away
    across the mouth slit, barely moves); naive nearest-proxy-vertex transfer fails this."""
    from facerig.data.ict import load_ict

    m = load_ict(progress=False)
    names, D = m.arkit()
    d = D[names.index("jawOpen")]
    V, F = m.neutral, m.faces
    p = build_proxy(V, F, 5000, parts=m.parts)
    dp = p.from_full(V, F, d[None], m.parts)
    dr = p.to_full(dp)[0]
    mouth = V[m.landmarks68[48:68]].mean(0)
    near = (np.linalg.norm(V - mouth, axis=1) < 2.5) & (m.regions == 0)
    lower = near & (d[:, 1] < -0.5)
    upper = near & (d[:, 1] > -0.2) & (V[:, 1] > mouth[1])
    assert lower.sum() > 100 and upper.sum() > 10
    ratio = np.linalg.norm(dr[lower], axis=1) / np.linalg.norm(d[lower], axis=1)
    assert ratio.min() > 0.6
    assert np.linalg.norm(dr[upper], axis=1).max() < 0.3  # cm: the upper lip stays (nearly) put
    assert np.linalg.norm(dr - d, axis=1)[lower].mean() < 0.15


def test_shipped_weights_rig_small_head(tiny_obj, tmp_path, capsys):
    from facerig.models.raf.weights import weights_available

    assert weights_available(), "the shipped weights (src/facerig/weights/raf.npz) are part of the package"
    from facerig.cli import main
    from facerig.io.rig import load_rig
    from facerig.models.registry import method_available

    assert method_available("raf")
    out = tmp_path / "rig.npz"
    # a 48-vertex blob with one eye is no head: the network finds no face on it (test below)
    assert main(["rig", str(tiny_obj), "-o", str(out), "--method", "raf"]) == 2 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert "does not look like a head" in err and "--no-head-check" in err and len(err.splitlines()) == 1
    assert main(["rig", str(tiny_obj), "-o", str(out), "--method", "raf", "--no-head-check"]) == 0
    rig = load_rig(out)
    assert rig.deltas.shape[0] == 52 and rig.meta["method"] == "raf"
    assert np.isfinite(rig.deltas).all()
    face = rig.meta["raf"]["face_frame"]
    assert 1 / 1.4 - 1e-6 <= face["factor"] <= 1.4 + 1e-6 and face["iod"] > 0 and face["eye_mouth"] > 0
    # flagged, with its reasons (five warnings since the gradient stencils are weighted by the
    # Laplacian's weights, two errors before: a blob's verdict is its noise, not a contract)
    assert face["check"] in ("warn", "error") and face["check_reasons"]
    # (--no-head-check: a 48-vertex mesh is under facerig.io.limits.MIN_HEAD_VERTICES)
    assert main(["rig", str(tiny_obj), "-o", str(out), "--method", "raf", "--no-face-frame", "--no-head-check"]) == 0
    assert "face_frame" not in load_rig(out).meta["raf"]


def test_open_seam_gives_the_rig_of_the_closed_head(tiny_head, random_weights, split_meridian):
    """A head split along a seam (duplicated vertices, as exporters and unmerged mirror halves leave
    them) is rigged as the closed head: each copy moves exactly like its original."""
    v, f = _head(tiny_head)
    v2, f2, cut = split_meridian(v, f, range(2, 7), 12)
    out, out2 = _rig(v, f, random_weights), _rig(v2, f2, random_weights)
    d, d2 = out.deltas, out2.deltas
    assert d2.shape == (52, len(v2), 3)
    assert out.meta["raf"]["seam_vertices_stitched"] == 0
    assert out2.meta["raf"]["seam_vertices_stitched"] == len(cut)  # reported in the rig's meta
    np.testing.assert_array_equal(d2[:, len(v) :], d2[:, cut])  # copies read their originals
    np.testing.assert_allclose(d2[:, : len(v)], d, atol=1e-4 * np.abs(d).max())


def test_head_split_into_islands_gives_the_rig_of_the_whole_head(tiny_head, random_weights, split_ring):
    """The head cut all the way round into two pieces (UV islands, as glTF/FBX exporters leave
    them) is stitched back and rigged as the whole head."""
    from facerig.geometry.components import connected_components

    v, f = _head(tiny_head)
    v2, f2, cut = split_ring(v, f, 4, 12)
    assert connected_components(len(v2), f2).max() + 1 == 3  # two islands + the eye
    d = _rig(v, f, random_weights).deltas
    out = _rig(v2, f2, random_weights)
    assert out.meta["raf"]["seam_vertices_stitched"] == len(cut)
    np.testing.assert_array_equal(out.deltas[:, len(v) :], out.deltas[:, cut])
    np.testing.assert_allclose(out.deltas[:, : len(v)], d, atol=1e-4 * np.abs(d).max())
    # without stitching the islands are rigged as separate pieces: a different rig
    d0 = _rig(v2, f2, random_weights, weld=0).deltas
    assert np.abs(d0[:, : len(v)] - d).max() > 1e-2 * np.abs(d).max()


def test_proxy_of_large_mesh_with_open_seam():
    import trimesh

    a = trimesh.creation.icosphere(subdivisions=5)  # 10242 vertices
    v, f = np.asarray(a.vertices), np.asarray(a.faces)
    # split the sphere along the arc x = 0, z > 0.3 (a slit that keeps it in one piece)
    on = np.flatnonzero((np.abs(v[:, 0]) < 1e-9) & (v[:, 2] > 0.3))
    assert on.size > 10
    copy = np.full(len(v), -1)
    copy[on] = len(v) + np.arange(on.size)
    f2 = f.copy()
    right = v[f].mean(1)[:, 0] > 0
    f2[right] = np.where(copy[f[right]] >= 0, copy[f[right]], f[right])
    v2 = np.concatenate([v, v[on] + 1e-7])
    p = build_proxy(v2, f2, 3000)
    assert 2000 < p.num_vertices < 4500 and not p.identity
    assert np.array_equal(p.origin[len(v) :], p.origin[on])
    field = p.vertices[:, :1] ** 2 + p.vertices[:, 1:2]  # a smooth field on the proxy
    back = p.to_full(field)
    np.testing.assert_array_equal(back[len(v) :], back[on])
    # the same proxy and transfer as the sphere that was never cut
    p0 = build_proxy(v, f, 3000)
    np.testing.assert_allclose(p.vertices, p0.vertices, atol=1e-4)
    np.testing.assert_allclose(back[: len(v)], p0.to_full(field), atol=1e-4)
    # the stitched proxy is closed; without stitching, the slit is a border the decimation keeps
    from facerig.geometry.weld import boundary_edges

    assert len(boundary_edges(p.faces)) == 0
    assert len(boundary_edges(build_proxy(v2, f2, 3000, weld=0.0).faces)) > 0


def test_proxy_of_large_mesh_cut_into_islands(tiny_head, split_ring):
    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import boundary_edges

    v, f = tiny_head(60, 120)  # 7,088 vertices: decimated, not its own proxy
    v2, f2, cut = split_ring(v, f, 25, 120)
    assert connected_components(len(v2), f2).max() == 2  # two islands + the eye
    p = build_proxy(v2, f2, 3000)
    assert not p.identity and len(np.unique(p.parts)) == 2 and len(boundary_edges(p.faces)) == 0
    field = p.vertices[:, 1:2]
    back = p.to_full(field)
    np.testing.assert_array_equal(back[len(v) :], back[cut])
    np.testing.assert_allclose(back[:, 0], v2[:, 1], atol=0.02)


def test_mirror_averaging_makes_the_rig_reflection_equivariant(tiny_head, random_weights):
    """With mirror averaging (the default) the mirror image of a head gets the mirror image of
    its rig, left and right shapes swapped; the network alone does not."""
    from facerig.arkit import mirror_permutation

    v, f = _head(tiny_head)
    flip = np.array([-1.0, 1.0, 1.0])
    mv, mf = v * flip, np.ascontiguousarray(f[:, ::-1])
    perm = mirror_permutation()
    out = _rig(v, f, random_weights)
    assert out.meta["raf"]["mirror_averaged"] is True
    d, dm = out.deltas, _rig(mv, mf, random_weights).deltas
    np.testing.assert_allclose(dm, d[perm] * flip, atol=1e-4 * np.abs(d).max())
    d0, dm0 = _rig(v, f, random_weights, mirror=False).deltas, _rig(mv, mf, random_weights, mirror=False).deltas
    assert np.abs(dm0 - d0[perm] * flip).max() > 1e-2 * np.abs(d0).max()
    # the average of the network's answers on the head and its mirror image
    np.testing.assert_allclose(d, 0.5 * (d0 + dm0[perm] * flip), atol=1e-5 * np.abs(d).max())


def test_threads_option_reaches_the_sparse_products(tiny_head, random_weights, monkeypatch):
    """``threads=1`` limits the runtime's threaded sparse products too, not only BLAS."""
    from facerig.models.raf import runtime as raf_runtime

    seen = set()
    real = raf_runtime.spmm

    def spy(*mats, x, threads=None):
        seen.add(threads)
        return real(*mats, x=x, threads=threads)

    monkeypatch.setattr(raf_runtime, "spmm", spy)
    v, f = _head(tiny_head)
    _rig(v, f, random_weights, threads=1)
    assert seen == {1}  # the face-frame probe's pass and the rig's
    seen.clear()
    _rig(v, f, random_weights, threads=2, face_frame=False)
    assert seen == {1}  # two passes side by side: one thread each


def test_frame_scale_option(tiny_head, random_weights):
    """``frame_scale`` multiplies the head frame's width the network sees (a diagnostic): 1 is the
    default rig exactly; 2 halves the normalised head, doubles the recorded scale and changes the
    rig; a non-positive value is refused."""
    v, f = _head(tiny_head)
    out = _rig(v, f, random_weights)
    np.testing.assert_array_equal(_rig(v, f, random_weights, frame_scale=1.0).deltas, out.deltas)
    assert "frame_scale" not in out.meta["raf"]
    out2 = _rig(v, f, random_weights, frame_scale=2.0)
    assert out2.meta["raf"]["frame_scale"] == 2.0
    assert out2.meta["raf"]["head_scale"] == pytest.approx(2.0 * out.meta["raf"]["head_scale"])
    assert np.abs(out2.deltas - out.deltas).max() > 1e-3 * np.abs(out.deltas).max()
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="frame_scale"):
            _rig(v, f, random_weights, frame_scale=bad)


def test_prepared_head_rescaled(tiny_head):
    """A prepared head in a frame ``a`` times wider: scale * a, xyz / a, operators rescaled, the
    proxy and frame centre shared; the original is not changed."""
    from facerig.geometry.proxy import prepare_head

    v, f = _head(tiny_head)
    prep = prepare_head(v, f, cache=False)
    xyz = prep.xyz.copy()
    wide = prep.rescaled(1.25)
    assert wide.scale == pytest.approx(1.25 * prep.scale)
    np.testing.assert_allclose(wide.xyz, xyz / 1.25)
    np.testing.assert_allclose(wide.ops.mass, prep.ops.mass / 1.25**2)
    np.testing.assert_allclose(wide.ops.evals, prep.ops.evals * 1.25**2)
    assert wide.proxy is prep.proxy
    np.testing.assert_array_equal(prep.xyz, xyz)


def test_face_frame_option(tiny_head, random_weights, monkeypatch):
    """With ``face_frame`` (default) the rig is the one of the head in the frame the face asks
    for: the same as ``frame_scale`` set to that factor; off, the head frame as measured."""
    import facerig.models.raf.probe as rm

    v, f = _head(tiny_head)
    monkeypatch.setitem(rm.FACE_FRAME, "beta", 0.0)
    plain = _rig(v, f, random_weights, face_frame=False)
    assert "face_frame" not in plain.meta["raf"]
    same = _rig(v, f, random_weights)
    assert same.meta["raf"]["face_frame"]["factor"] == 1.0
    np.testing.assert_allclose(same.deltas, plain.deltas, rtol=1e-6, atol=1e-7)
    monkeypatch.setitem(rm.FACE_FRAME, "beta", 1.0)
    monkeypatch.setitem(rm.FACE_FRAME, "max_factor", 10.0)
    face = _rig(v, f, random_weights)
    k = face.meta["raf"]["face_frame"]["factor"]
    assert k != 1.0 and face.meta["raf"]["face_frame"]["iod"] > 0
    scaled = _rig(v, f, random_weights, face_frame=False, frame_scale=k)
    assert face.meta["raf"]["head_scale"] == pytest.approx(scaled.meta["raf"]["head_scale"], rel=1e-4)
    np.testing.assert_allclose(face.deltas, scaled.deltas, rtol=1e-3, atol=1e-4 * np.abs(scaled.deltas).max())


def test_mirror_local_features_equal_recomputing_them(tiny_head):
    """The mirror pass's local features come from the head's own (x components negated): equal
    to computing them on the mirrored mesh (x -> -x, winding reversed)."""
    from facerig.geometry.features import local_features
    from facerig.models.raf.method import mirror_local_features

    v, f = _head(tiny_head)
    flip = np.array([-1.0, 1.0, 1.0])
    direct = local_features(v * flip, np.ascontiguousarray(f[:, ::-1]))
    np.testing.assert_allclose(mirror_local_features(local_features(v, f)), direct, atol=1e-5)
    with pytest.raises(ValueError, match="local features"):
        mirror_local_features(np.zeros((4, 5), np.float32))


def test_side_by_side_passes_give_the_same_rig(tiny_head, random_weights):
    """Two threads (operators beside the face probe, the two network passes or the two halves of
    one pass side by side) and one thread (the same work in turn) give the same rig."""
    v, f = _head(tiny_head)
    one = _rig(v, f, random_weights, threads=1)
    two = _rig(v, f, random_weights, threads=2)
    np.testing.assert_allclose(two.deltas, one.deltas, rtol=1e-5, atol=1e-6 * np.abs(one.deltas).max())
    assert two.meta["raf"]["face_frame"] == one.meta["raf"]["face_frame"]
    assert {"face_probe", "network_inputs", "operators"} <= set(two.meta["raf"]["timings"])
    four = _rig(v, f, random_weights, threads=4)  # two BLAS threads per side
    np.testing.assert_allclose(four.deltas, one.deltas, rtol=1e-5, atol=1e-6 * np.abs(one.deltas).max())
    one = _rig(v, f, random_weights, threads=1, mirror=False)  # one pass: query halves side by side
    two = _rig(v, f, random_weights, threads=2, mirror=False)
    np.testing.assert_allclose(two.deltas, one.deltas, rtol=1e-5, atol=1e-6 * np.abs(one.deltas).max())


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_face_probe_in_a_forked_child_gives_the_same_rig(tiny_head, random_weights, monkeypatch, allow_fork):
    """With two threads and a probe mesh smaller than the proxy, the face probe and the network
    inputs run in a forked child beside the operators; without fork (``FACERIG_NO_FORK``) a
    worker thread computes the operators instead; one thread does it all in turn. Same rig."""
    from facerig import parallel as _fork
    from facerig.models.raf import method as raf_method
    from facerig.models.raf import probe

    v, f = _head(tiny_head)
    monkeypatch.setattr(probe, "FACE_PROBE_VERTICES", len(v) // 2)
    calls = []
    real = _fork.fork_call
    monkeypatch.setattr(raf_method, "fork_call", lambda *a: calls.append(a[0]) or real(*a))
    one = _rig(v, f, random_weights, threads=1)
    assert calls == []
    two = _rig(v, f, random_weights, threads=2)
    assert calls == [raf_method._probe_and_inputs]
    monkeypatch.setenv("FACERIG_NO_FORK", "1")
    thread = _rig(v, f, random_weights, threads=2)
    for out in (two, thread):
        np.testing.assert_allclose(out.deltas, one.deltas, rtol=1e-5, atol=1e-6 * np.abs(one.deltas).max())
        assert out.meta["raf"]["face_frame"] == one.meta["raf"]["face_frame"]
        assert {"face_probe", "network_inputs", "operators"} <= set(out.meta["raf"]["timings"])


def test_prepare_head_without_operators(tiny_head):
    """``prepare_head(operators=False)`` then ``with_operators`` is ``prepare_head``."""
    from facerig.geometry.operators import compute_operators
    from facerig.geometry.proxy import prepare_head

    v, f = _head(tiny_head)
    full = prepare_head(v, f, cache=False, k=16)
    bare = prepare_head(v, f, cache=False, k=16, operators=False)
    assert bare.ops is None
    np.testing.assert_array_equal(bare.xyz, full.xyz)
    done = bare.with_operators(compute_operators(bare.xyz, bare.proxy.faces, k=16, cache=False))
    np.testing.assert_allclose(done.ops.evals, full.ops.evals)
    assert done.scale == full.scale and done.proxy is bare.proxy


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_rig_in_a_forked_child_after_rigging_in_the_parent(tiny_head, random_weights):
    """The side-by-side work runs on threads a forked child does not inherit; a child forked
    after a rig gets its own (rather than waiting forever on its parent's)."""
    import multiprocessing as mp

    v, f = _head(tiny_head)
    want = _rig(v, f, random_weights, threads=2).deltas
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_rig_deltas, (v, f, random_weights)).get(timeout=60)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())


def _rig_deltas(v, f, weights):
    return _rig(v, f, weights, threads=2).deltas
