"""Rendered 2D losses and the no-ground-truth losses: low for the right answer, higher for a wrong
one, and gradients reach the displacements."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facerig.arkit import ARKIT52
from facerig.render.camera import FrontalCamera
from facerig.train import losses_2d as L
from facerig.train.losses import LossBatch, LossWeights, rig_loss

CAM = FrontalCamera()


def _onehot(*names: str) -> torch.Tensor:
    a = torch.zeros(len(names), len(ARKIT52))
    for i, n in enumerate(names):
        a[i, ARKIT52.index(n)] = 1.0
    return a


def _ball():
    """A small head-frame ball (V=162) with a bump shape as ground truth."""
    import trimesh

    m = trimesh.creation.icosphere(subdivisions=2)
    xyz = torch.tensor(np.asarray(m.vertices) * [0.45, 0.55, 0.4] - [0, 0, 0.4], dtype=torch.float32)
    faces = np.asarray(m.faces, np.int64)
    bump = torch.exp(-((xyz[:, :2] - torch.tensor([0.1, -0.2])) ** 2).sum(1) / 0.02)
    target = torch.zeros(2, len(xyz), 3)
    target[0, :, 1] = -0.12 * bump
    target[1, :, 0] = 0.1 * bump
    return xyz, faces, target


def _grad_of(term, pred: torch.Tensor, batch: LossBatch) -> torch.Tensor:
    p = pred.clone().requires_grad_(True)
    term(p, batch, CAM).backward()
    return p.grad


@pytest.mark.parametrize("term", [L.img, L.mask, L.dis2d])
def test_rendered_terms_zero_at_target_positive_otherwise_with_gradients(term):
    xyz, faces, target = _ball()
    g = L.head_geometry(xyz.numpy(), faces)
    batch = LossBatch(neutral=xyz, target=target, landmarks=torch.full((68,), -1), geometry=g, n2d=2, image_size=32)
    assert float(term(target, batch, CAM)) < 1e-8
    wrong = torch.zeros_like(target)
    assert float(term(wrong, batch, CAM)) > 1e-6
    grad = _grad_of(term, wrong, batch)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rendered_terms_render_only_the_first_n2d_queries():
    xyz, faces, target = _ball()
    g = L.head_geometry(xyz.numpy(), faces)
    batch = LossBatch(neutral=xyz, target=target, landmarks=torch.full((68,), -1), geometry=g, n2d=1, image_size=32)
    pred = target.clone()
    pred[1] = 0  # wrong, but not rendered
    assert float(L.img(pred, batch, CAM)) < 1e-8 and float(L.dis2d(pred, batch, CAM)) < 1e-8


def _sheet_with_eye(n: int = 41):
    """A flat face sheet (z = 0) with a 0.2 x 0.08 eye hole around (0.2, 0.1), landmarks on the
    hole's rim (Multi-PIE 42-47, the character's left eye) and a nose (30) at the centre; the
    "blink" shape closes the hole by pulling the rows above it down."""
    xs = np.linspace(-0.5, 0.5, n)
    X, Y = np.meshgrid(xs, xs)
    v = np.stack([X.ravel(), Y.ravel(), np.zeros(n * n)], 1)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    centre = v[quads].mean(1)
    hole = (np.abs(centre[:, 0] - 0.2) < 0.1) & (np.abs(centre[:, 1] - 0.1) < 0.04)
    q = quads[~hole]
    faces = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    lm = np.full(68, -1, np.int64)

    def near(x, y):
        return int(np.argmin(((v[:, :2] - [x, y]) ** 2).sum(1)))

    rim = [(0.1, 0.1), (0.16, 0.14), (0.24, 0.14), (0.3, 0.1), (0.24, 0.06), (0.16, 0.06)]
    lm[42:48] = [near(x, y) for x, y in rim]
    lm[30] = near(0.0, 0.0)
    blink = np.zeros_like(v)
    above = (np.abs(v[:, 0] - 0.2) <= 0.13) & (v[:, 1] > 0.05)
    blink[above, 1] = -0.09 * np.exp(-((v[above, 1] - 0.14) ** 2) / 0.02)
    return torch.tensor(v, dtype=torch.float32), faces, torch.tensor(lm), torch.tensor(blink, dtype=torch.float32)


def test_eye_closure_is_low_when_the_lid_covers_the_opening_and_pulls_it_down():
    xyz, faces, lm, blink = _sheet_with_eye()
    g = L.head_geometry(xyz.numpy(), faces, lm.numpy())
    batch = LossBatch(neutral=xyz, target=None, landmarks=lm, geometry=g, queries=_onehot("eyeBlinkLeft"))
    closed = float(L.eye_close(blink[None], batch, CAM))
    half = float(L.eye_close(0.5 * blink[None], batch, CAM))
    still = float(L.eye_close(torch.zeros_like(blink)[None], batch, CAM))
    assert closed < 0.1 < half < still and still > 0.9
    grad = _grad_of(L.eye_close, 0.5 * blink[None], batch)
    assert torch.isfinite(grad).all()
    # the lid's rim is pulled down (toward the opening), nothing else moves it
    assert float(grad[0, :, 1].sum()) > 0 and float(grad[0, :, 1].abs().sum()) > 0
    # a query that is not a blink of that eye gets no eye-closure term
    other = LossBatch(neutral=xyz, target=None, landmarks=lm, geometry=g, queries=_onehot("eyeBlinkRight"))
    assert float(L.eye_close(torch.zeros_like(blink)[None], other, CAM)) == 0.0


def _mouth():
    v = torch.zeros(68 + 2, 3)
    lm = torch.arange(68)
    v[36] = torch.tensor([-0.2, 0.2, 0.0])
    v[45] = torch.tensor([0.2, 0.2, 0.0])
    for k, (u, lo) in enumerate(L.INNER_LIPS):
        x = (k - 1) * 0.03
        v[u] = torch.tensor([x, -0.2, 0.0])
        v[lo] = torch.tensor([x, -0.2, 0.0])
    return v, lm


def test_mouth_opening_hinges_on_the_inner_lip_gap():
    v, lm = _mouth()
    batch = LossBatch(neutral=v, target=None, landmarks=lm, queries=_onehot("jawOpen"))
    open_ = torch.zeros(1, *v.shape)
    for _, lo in L.INNER_LIPS:
        open_[0, lo, 1] = -0.2  # gap 0.2 > 0.25 * eye distance 0.4
    assert float(L.mouth_open(open_, batch, CAM)) == 0.0
    shut = torch.zeros_like(open_)
    assert float(L.mouth_open(shut, batch, CAM)) > 0.2
    grad = _grad_of(L.mouth_open, shut, batch)
    assert all(float(grad[0, lo, 1]) > 0 for _, lo in L.INNER_LIPS)  # descent moves the lower lip down


def _symmetric_sheet():
    xs = np.linspace(-0.5, 0.5, 11)
    X, Y = np.meshgrid(xs, xs)
    v = np.stack([X.ravel(), Y.ravel(), 0.1 * np.cos(X.ravel())], 1)
    idx = np.arange(121).reshape(11, 11)
    q = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    faces = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    return torch.tensor(v, dtype=torch.float32), faces


def test_mirror_is_zero_for_mirrored_shapes_and_positive_for_copies():
    v, faces = _symmetric_sheet()
    g = L.head_geometry(v.numpy(), faces)
    assert bool(g.mirror_ok.all())
    left = torch.zeros_like(v)
    left[v[:, 0] > 0.1] = torch.tensor([0.02, -0.05, 0.01])
    right = left[g.mirror] * torch.tensor([-1.0, 1.0, 1.0])
    batch = LossBatch(
        neutral=v,
        target=None,
        landmarks=torch.full((68,), -1),
        geometry=g,
        queries=_onehot("eyeBlinkLeft", "eyeBlinkRight"),
    )
    assert float(L.mirror(torch.stack([left, right]), batch, CAM)) < 1e-12
    assert float(L.mirror(torch.stack([left, left]), batch, CAM)) > 1e-4
    grad = _grad_of(L.mirror, torch.stack([left, left]), batch)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # a self-mirror shape must be symmetric itself
    one = LossBatch(neutral=v, target=None, landmarks=torch.full((68,), -1), geometry=g, queries=_onehot("jawOpen"))
    assert float(L.mirror(left[None], one, CAM)) > 1e-4
    assert float(L.mirror((left + right)[None], one, CAM)) < 1e-12


def test_rigid_parts_may_rotate_but_not_stretch():
    import trimesh

    ball = trimesh.creation.icosphere(subdivisions=1)
    v = torch.tensor(np.asarray(ball.vertices) * 0.05, dtype=torch.float32)
    faces = np.asarray(ball.faces, np.int64)
    g = L.head_geometry(v.numpy(), faces, rigid=np.ones(len(v), bool))
    batch = LossBatch(neutral=v, target=None, landmarks=torch.full((68,), -1), geometry=g)
    c, s = np.cos(0.3), np.sin(0.3)
    R = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float32)
    turned = (v @ R.T - v + 0.01)[None]
    stretched = (v * torch.tensor([0.3, 0.0, 0.0]))[None]
    assert float(L.rigid(turned, batch, CAM)) < 1e-8
    assert float(L.rigid(stretched, batch, CAM)) > 1e-3
    grad = _grad_of(L.rigid, stretched, batch)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    loose = L.head_geometry(v.numpy(), faces)  # no rigid part known: the term is off
    assert (
        float(L.rigid(stretched, LossBatch(neutral=v, target=None, landmarks=batch.landmarks, geometry=loose), CAM))
        == 0
    )


def test_smoothness_prefers_smooth_fields():
    v, faces = _symmetric_sheet()
    g = L.head_geometry(v.numpy(), faces)
    batch = LossBatch(neutral=v, target=None, landmarks=torch.full((68,), -1), geometry=g)
    shift = torch.full_like(v, 0.05)[None]
    smooth = (0.05 * v[:, :1] ** 2 * torch.tensor([0.0, 1.0, 0.0]))[None]
    noisy = smooth + 0.02 * torch.randn(1, *v.shape, generator=torch.Generator().manual_seed(0))
    s0, s1, s2 = (float(L.smooth(x, batch, CAM)) for x in (shift, smooth, noisy))
    assert s0 < 1e-10 and s1 < 0.01 * s2
    grad = _grad_of(L.smooth, noisy, batch)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rig_loss_routes_terms_by_ground_truth():
    xyz, faces, target = _ball()
    g = L.head_geometry(xyz.numpy(), faces)
    w = LossWeights(img=10, mask=1, dis2d=1, reg=1e-4, mirror=10, smooth=10, rigid=1, eye_close=0.5, mouth_open=0.5)
    lm = torch.full((68,), -1)
    q = _onehot("eyeBlinkLeft", "eyeBlinkRight")
    rigged = LossBatch(neutral=xyz, target=target, landmarks=lm, geometry=g, queries=q, image_size=32)
    _, parts = rig_loss(target + 0.01, rigged, w)
    assert {"mse3d", "img", "mask", "dis2d", "reg"} <= set(parts) and not {"mirror", "smooth"} & set(parts)
    unrigged = LossBatch(neutral=xyz, target=None, landmarks=lm, geometry=g, queries=q)
    total, parts = rig_loss(target, unrigged, w)
    assert {"mirror", "smooth", "reg"} <= set(parts) and not {"mse3d", "img", "lmk2d"} & set(parts)
    assert torch.isfinite(total)
