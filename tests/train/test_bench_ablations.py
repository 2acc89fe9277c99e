"""benchmarks/ablations.py: the variants' commands parse as intended, the table's arithmetic."""

from __future__ import annotations

import argparse
import importlib.util

import pytest

from facerig.config import repo_root


def _ablations():
    spec = importlib.util.spec_from_file_location("ablations", repo_root() / "benchmarks" / "ablations.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _parse(cmd: list[str]) -> argparse.Namespace:
    from facerig._cli.train import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(cmd[cmd.index("train") + 1 :])


def test_variants_differ_only_in_their_flags():
    ab = _ablations()
    args = {v: _parse(ab.train_command(v)) for v in ab.VARIANTS}
    shared = ("steps", "seed", "lr", "warmup", "restart_period", "ema", "threads", "init_from", "loss", "n2d")
    for v, a in args.items():
        assert all(getattr(a, k) == getattr(args["control"], k) for k in shared), v
        assert a.out.endswith(f"s4_{v}") and a.face_frame
    c = args["control"]
    assert not c.two_d and c.no_2d and c.no_unrigged
    assert args["full"].two_d and args["full"].p_unrigged == 0.3 and not args["full"].no_2d
    assert args["no2d"].no_2d and args["no2d"].p_unrigged == 0.3
    assert args["nounrigged"].no_unrigged and not args["nounrigged"].no_2d
    assert args["nosemantic"].no_semantic and args["nosemantic"].p_unrigged == 0.3
    assert _parse(ab.train_command("full", seed=25)).out.endswith("s4_full_s25")


def test_schedule_is_one_cosine_over_the_steps():
    torch = pytest.importorskip("torch")
    from facerig.train.loop import Scheduler

    ab = _ablations()
    a = _parse(ab.train_command("control"))
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=a.lr)
    sched = Scheduler(opt, a.lr, a.warmup, a.restart_period)
    lrs = [sched.lr_at(s) for s in range(a.steps + 1)]
    after = lrs[a.warmup :]
    assert all(x >= y for x, y in zip(after, after[1:]))  # no warm restart inside the run
    assert after[0] == pytest.approx(a.lr) and after[-1] < 0.01 * a.lr


def _eval(groups: dict, shapes: dict) -> dict:
    return {
        "groups": {g: {"active_mm": v} for g, v in groups.items()},
        "shapes": {s: {"active_mm": v} for s, v in shapes.items()},
    }


def _oof(rel: float) -> dict:
    m = {"relative": rel, "si": 0.7, "completion": 0.5, "blink_completion_median": 0.8, "blink_completion_min": 0.4}
    return {"out_of_family": m, "in_family": dict(m, relative=0.2)}


def test_deltas_and_table_rows():
    ab = _ablations()
    a = ab.summarise(_eval({"unseen": 0.35, "stylised": 0.70}, {}), _oof(0.84))
    b = ab.summarise(_eval({"stylised": 0.75, "unseen": 0.36}, {}), _oof(0.86))
    assert list(a["validation_active_mm"]) == ["unseen", "stylised"]  # the card's group order
    d = ab.deltas(a, b)
    assert d["validation_active_mm"] == {"unseen": pytest.approx(0.01), "stylised": pytest.approx(0.05)}
    assert d["out_of_family"]["relative"] == pytest.approx(0.02) and d["out_of_family"]["si"] == 0
    md = ab.markdown({"variants": {"control": a, "full": b}})
    assert "| full | 0.360 (+0.010) | 0.750 (+0.050) | 0.860 (+0.020)" in md


def test_shape_deltas_largest_change_first():
    ab = _ablations()
    a = _eval({}, {"eyeBlinkLeft": 0.86, "jawOpen": 1.5, "tongueOut": 2.6, "cheekPuff": 0.8})
    b = _eval({}, {"eyeBlinkLeft": 1.36, "jawOpen": 1.6, "tongueOut": 2.1, "cheekPuff": 0.8})
    d = ab.shape_deltas(a, b, n=3)
    assert list(d) == ["eyeBlinkLeft", "tongueOut", "jawOpen"]
    assert d["tongueOut"] == [2.6, -0.5]
