"""The head check's orientation logic: ``--auto-orient``'s choice and the prior-only verdict."""

import os
from pathlib import Path

import numpy as np
import pytest

from facerig.geometry.frame import orientation_matrix
from facerig.geometry.orient import orientation_features, rank_orientations
from facerig.models.raf.orientation import choose, judge_orientation, mirror_turned, verdict

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ict_head" / "head.obj"


def test_choose_counts_a_plausible_face_and_no_rejection():
    a, b, c = ("+y", "+z"), ("-y", "+z"), ("+z", "-y")
    # a plausible face outweighs a small lead in the prior (log-odds), not a large one
    assert choose([a, b, c], {a: ("warn", 3.0), b: ("ok", 0.2), c: ("error", 9.0)}, {a: 1.0, b: 0.5, c: -1.0}) == b
    assert choose([a, b], {a: ("warn", 1.5), b: ("ok", 0.5)}, {a: 3.0, b: 0.5}) == a
    # an odd face or none weighs nothing, however much better than the prior's first: the probe
    # rejects a mouthless robot upright (11.0) and finds an odd face in it upside down (2.2) ...
    assert choose([a, b, c], {a: ("error", 11.0), b: ("warn", 2.2), c: ("warn", 1.3)}, {a: 0.6, b: -0.5, c: 0.0}) == a
    # ... and the prior's first stays first where the probe's verdicts run the other way
    assert choose([a, b], {a: ("warn", 2.3), b: ("error", 17.6)}, {a: 0.2, b: 0.0}) == a
    # unusable landmarks (inf) get nothing; ties keep the prior's order
    assert choose([a, b], {a: ("ok", float("inf")), b: ("ok", 0.9)}, {a: 1.0, b: 0.9}) == b
    assert choose([a, b], {a: ("ok", 0.5), b: ("ok", 0.5)}, {a: 1.0, b: 1.0}) == a


def test_auto_orient_refuses_only_a_rejected_mesh_with_no_mirror_plane():
    from facerig.models.raf.orientation import no_head_found

    rejected = [["+y", "+z", "error", 11.0, 0.6], ["-y", "+z", "error", 4.0, -0.5]]
    assert no_head_found({"candidates": rejected, "mirror_clarity": 1.1})  # a sphere, a box
    assert not no_head_found({"candidates": rejected, "mirror_clarity": 2.4})  # a robot the probe cannot read
    odd = [rejected[0], ["-y", "+z", "warn", 2.2, -0.5]]
    assert not no_head_found({"candidates": odd, "mirror_clarity": 1.1})


@pytest.fixture(scope="module")
def example():
    from facerig.io import read_mesh

    m = read_mesh(EXAMPLE)
    return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)


def _prior(v, f, up, forward):
    """The example head turned so that its up is ``up`` and its forward ``forward``: ranking, features."""
    turned = v @ orientation_matrix(up, forward)
    feats = orientation_features(turned, f)
    return rank_orientations(turned, f, features=feats), feats


@pytest.mark.parametrize(
    "up, forward, check, expected",
    [
        ("+y", "+z", "error", ("rig", None)),  # upright: never refused, whatever the probe says
        ("+y", "+z", "warn", ("rig", None)),
        ("+z", "-y", "error", ("turned", ("+z", "-y"))),  # Blender's axes, named
        ("+z", "-y", "warn", ("turned", ("+z", "-y"))),
        ("+y", "+x", "warn", ("turned", ("+y", "+x"))),  # turned 90 about up: the mirror axis is wrong
        ("+y", "+x", "ok", ("turned", ("+y", "+x"))),  # even where the probe finds a face
        ("-y", "-z", "error", ("turned", ("-y", "-z"))),  # upside down: the prior ranks +y/+z far below
        ("-y", "-z", "warn", ("turned", ("-y", "-z"))),
        ("-y", "-z", "ok", ("rig", None)),  # a plausible face and the right mirror axis: the prior does not overrule it
    ],
)
def test_verdict_on_the_turned_example_head(example, up, forward, check, expected):
    ranked, feats = _prior(*example, up, forward)
    assert verdict(ranked, feats, "+y", "+z", check) == expected


def test_verdict_refuses_a_rejected_mesh_with_no_mirror_plane():
    trimesh = pytest.importorskip("trimesh")
    s = trimesh.creation.icosphere(4)
    v, f = np.asarray(s.vertices), np.asarray(s.faces)
    feats = orientation_features(v, f)
    ranked = rank_orientations(v, f, features=feats)
    assert verdict(ranked, feats, "+y", "+z", "error") == ("refuse", None)
    assert verdict(ranked, feats, "+y", "+z", "warn")[0] == "rig"


def test_judge_orientation_is_the_prior_alone(example):
    """The judge runs no network: the example head in Blender's axes is refused naming them, and
    ``info`` says why and how long it took."""
    from facerig.io.mesh import Mesh

    v, f = example
    mesh = Mesh(vertices=v @ orientation_matrix("+z", "-y"), faces=f)
    decision, better, info = judge_orientation(mesh, "+y", "+z", {})
    assert (decision, better) == ("turned", ("+z", "-y"))
    assert info["prior"][0][:2] == ["+z", "-y"] and info["prior_rank"] > 0 and info["mirror_clarity"] > 2
    assert 0 < info["seconds"] < 30


def test_mirror_turned_sees_a_head_turned_about_up_or_forward(example):
    from facerig.io.mesh import Mesh

    v, f = example
    for up, forward, turned in [("+y", "+z", False), ("-y", "-z", False), ("+y", "+x", True), ("+x", "+z", True)]:
        mesh = Mesh(vertices=v @ orientation_matrix(up, forward), faces=f)
        assert mirror_turned(mesh, "+y", "+z") is turned, (up, forward)
        assert mirror_turned(mesh, up, forward) is False


def test_a_head_turned_90_degrees_is_refused_naming_its_axes(example, monkeypatch):
    """rig_oriented with a stand-in method whose probe passes the face: the mirror test still
    refuses the head turned 90 degrees about its up axis, naming the orientation."""
    from types import SimpleNamespace

    from facerig.io.mesh import Mesh
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    calls = []

    def method(mesh, **options):  # the probe found a plausible face in whatever orientation given
        calls.append(options)
        return SimpleNamespace(meta={"raf": {"face_frame": {"check": "ok"}}})

    mesh = Mesh(vertices=v @ orientation_matrix("+y", "+x"), faces=f)
    with pytest.raises(NotAHeadError, match=r"--up \+y --forward \+x") as e:
        rig_oriented(method, mesh)
    assert len(str(e.value).splitlines()) == 1
    out, meta = rig_oriented(method, mesh, up="+y", forward="+x")  # given right: rigged
    assert out.meta["raf"]["face_frame"]["check"] == "ok" and meta == {}


def test_the_mirror_test_runs_beside_the_rig_where_the_host_allows_forks(example, allow_fork, monkeypatch):
    """With forking allowed (the CLI), :func:`mirror_turned` runs in a forked child while the method
    rigs: the same verdicts (the turned head refused naming its axes, the upright one rigged); a
    child whose answer the check does not need (a face the probe only warns about) is reaped."""
    from types import SimpleNamespace

    from facerig import parallel
    from facerig.io.mesh import Mesh
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    forks = []
    real = parallel.fork_call
    monkeypatch.setattr(parallel, "fork_call", lambda fn, *a: forks.append(fn.__name__) or real(fn, *a))
    monkeypatch.setattr(parallel, "spare_cores", lambda: 1)  # (the machine's load decides otherwise)
    monkeypatch.setitem(parallel._SETTINGS, "beside", True)  # (off by default)
    check = "ok"

    def method(mesh, **options):
        return SimpleNamespace(meta={"raf": {"face_frame": {"check": check}}})

    with pytest.raises(NotAHeadError, match=r"--up \+y --forward \+x"):
        rig_oriented(method, Mesh(vertices=v @ orientation_matrix("+y", "+x"), faces=f))
    assert forks == ["mirror_turned"]
    out, meta = rig_oriented(method, Mesh(vertices=v, faces=f))
    assert meta == {} and forks == ["mirror_turned"] * 2
    rig_oriented(method, Mesh(vertices=v, faces=f), threads=1)  # one thread: in turn, no child
    assert len(forks) == 2
    check = "warn"
    rig_oriented(method, Mesh(vertices=v, faces=f))
    assert len(forks) == 3
    with pytest.raises(ChildProcessError):  # every child reaped
        os.waitpid(-1, os.WNOHANG)


def test_a_turned_head_is_rigged_in_the_named_axes_when_none_were_given(example):
    """``turn`` (rig_mesh without up/forward): the head the check finds turned and names is rigged
    in the named axes, the meta saying from which; where the method finds no head there either,
    the check's refusal (one line, naming the axes) is raised."""
    from types import SimpleNamespace

    from facerig.io.mesh import Mesh
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    calls = []

    def method(mesh, **options):
        calls.append((options.get("up"), options.get("forward")))
        return SimpleNamespace(meta={"raf": {"face_frame": {"check": "ok"}}})

    mesh = Mesh(vertices=v @ orientation_matrix("+y", "+x"), faces=f)
    out, meta = rig_oriented(method, mesh, turn=True)
    assert calls == [(None, None), ("+y", "+x")]
    o = meta["orientation"]
    assert (o["found"], o["up"], o["forward"], o["turned_from"]) == (True, "+y", "+x", ["+y", "+z"])

    def refusing(mesh, **options):  # a plausible face only in the axes given first
        if options.get("up") is not None:
            raise NotAHeadError("no face")
        return SimpleNamespace(meta={"raf": {"face_frame": {"check": "ok"}}})

    with pytest.raises(NotAHeadError, match=r"--up \+y --forward \+x") as e:
        rig_oriented(refusing, mesh, turn=True)
    assert len(str(e.value).splitlines()) == 1


def test_verdict_names_no_axes_that_put_the_eyes_below_the_middle(example):
    """The prior's first orientation is named only where it puts the head's eyeball-like parts
    above its middle: with the eye cue reversed the turned head is refused naming none."""
    ranked, feats = _prior(*example, "+y", "+x")
    assert verdict(ranked, feats, "+y", "+z", "warn") == ("turned", ("+y", "+x"))
    flipped = {**feats, "eyes": -np.asarray(feats["eyes"])}
    assert verdict(ranked, flipped, "+y", "+z", "warn") == ("turned", None)
    assert verdict(ranked, {**feats, "eyes": np.zeros(3)}, "+y", "+z", "warn") == ("turned", ("+y", "+x"))


def test_a_leveled_head_is_not_refused_by_the_mirror_test(example):
    """Robustness sweep: a face mask turned 20 degrees about its up axis was rigged level by the
    method, then refused because its mirror plane is not the left-right one. A rig that says it
    levelled the head (``raf.leveled_deg``) skips that test; one that did not is still refused."""
    from types import SimpleNamespace

    from facerig.io.mesh import Mesh
    from facerig.models.raf.orientation import rig_oriented
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    mesh = Mesh(vertices=v @ orientation_matrix("+y", "+x"), faces=f)  # the mirror test says turned

    def method(leveled):
        raf = {"face_frame": {"check": "ok"}, **({"leveled_deg": 20.0} if leveled else {})}
        return lambda mesh, **options: SimpleNamespace(meta={"raf": raf})

    with pytest.raises(NotAHeadError):
        rig_oriented(method(False), mesh)
    out, _ = rig_oriented(method(True), mesh)
    assert out.meta["raf"]["leveled_deg"] == 20.0


def test_unsure_first_asks_the_probe_only_where_the_prior_leads_narrowly():
    from facerig.models.raf.orientation import JUDGE_GAP, unsure_first

    ranked = [("+z", "-y", 4.55), ("-z", "-y", 4.39), ("+y", "-z", -0.65), ("+y", "+z", -1.0)]
    assert unsure_first(ranked, {}, "+y", "+z", "error") and unsure_first(ranked, {}, "+y", "+z", "warn")
    assert not unsure_first(ranked, {}, "+y", "+z", "ok")  # a plausible face is not judged so
    assert not unsure_first(ranked, {}, "-z", "-y", "warn")  # the given one within JUDGE_GAP of the first
    sure = [("+z", "-y", 4.55), ("-z", "-y", 4.55 - JUDGE_GAP - 0.1), ("+y", "+z", -1.0)]
    assert not unsure_first(sure, {}, "+y", "+z", "warn")  # the prior alone decides (verdict)


def test_a_face_mask_in_blenders_axes_is_refused_naming_them():
    """The MediaPipe face mask (468 vertices) in Blender's axes: the prior cannot tell its up from its
    down (first +z/-y by 0.16), so it named nothing and the mask was rigged with a warning; the face
    probe finds a plausible face in the prior's first, and the judge names it."""
    from facerig.config import data_root
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh

    path = data_root() / "heads" / "mediapipe_canonical_face.obj"
    if not path.exists():
        pytest.skip("needs DATA/heads/mediapipe_canonical_face.obj (FACERIG_DATA)")
    m = read_mesh(path)
    blender = Mesh(vertices=m.vertices @ orientation_matrix("+z", "-y"), faces=m.faces)
    decision, better, info = judge_orientation(blender, "+y", "+z", {}, check="error")
    assert (decision, better) == ("turned", ("+z", "-y")) and info["first_probed"][0] == "ok"
    decision, better, info = judge_orientation(m, "+y", "+z", {}, check="warn")  # upright: the prior's first
    assert decision == "rig" and "first_probed" not in info


def test_a_turned_head_the_check_names_no_axes_for_is_searched(example, monkeypatch):
    """``turn``: where the check finds the head turned but names no axes, the ``--auto-orient``
    search picks them; a search that finds no head, or only the axes given, leaves the refusal."""
    from types import SimpleNamespace

    from facerig.io.mesh import Mesh
    from facerig.models.raf import orientation
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    mesh = Mesh(vertices=v @ orientation_matrix("+x", "+z"), faces=f)

    def method(mesh, **options):  # no face in the default axes
        if (options.get("up"), options.get("forward")) in ((None, None), ("+y", "+z")):
            raise NotAHeadError("no face")
        return SimpleNamespace(meta={"raf": {"face_frame": {"check": "ok"}}}, axes=(options["up"], options["forward"]))

    monkeypatch.setattr(orientation, "judge_orientation", lambda *a, **k: ("turned", None, {"seconds": 0.1}))
    found = {"found": True, "candidates": [], "mirror_clarity": 3.0}
    monkeypatch.setattr(orientation, "find_orientation", lambda m, o: ("+x", "+z", found))
    out, meta = orientation.rig_oriented(method, mesh, turn=True)
    assert out.axes == ("+x", "+z") and meta["orientation"]["turned_from"] == ["+y", "+z"]
    with pytest.raises(NotAHeadError, match="looks turned"):
        orientation.rig_oriented(method, mesh)  # axes given (no turn): refused
    monkeypatch.setattr(orientation, "no_head_found", lambda info: True)
    with pytest.raises(NotAHeadError, match="looks turned"):
        orientation.rig_oriented(method, mesh, turn=True)


def test_a_head_rigged_with_the_probe_warning_is_rigged_where_the_search_finds_it(example, monkeypatch):
    """``turn``: a mesh the probe rejects and the check lets through with a warning (a statue in
    Blender's axes) is rigged in the axes the ``--auto-orient`` search finds, without the probe's
    consent as ``--auto-orient`` does; where the search finds the axes given, the warned rig stands."""
    from types import SimpleNamespace

    from facerig.io.mesh import Mesh
    from facerig.models.raf import orientation
    from facerig.models.raf.probe import NotAHeadError

    v, f = example
    mesh = Mesh(vertices=v, faces=f)

    def statue(mesh, **options):  # the probe finds a face nowhere
        if options.get("head_check", True):
            raise NotAHeadError("no face")
        return SimpleNamespace(meta={"raf": {}}, axes=(options.get("up"), options.get("forward")))

    judged = {"seconds": 0.1, "prior_rank": 0}
    monkeypatch.setattr(orientation, "judge_orientation", lambda *a, **k: ("rig", None, judged))
    found = {"found": True, "candidates": [], "mirror_clarity": 3.0}
    monkeypatch.setattr(orientation, "find_orientation", lambda m, o: ("+z", "-y", found))
    out, meta = orientation.rig_oriented(statue, mesh, turn=True)  # the prior ranks the axes given first
    assert out.axes == (None, None) and "warning" in meta["orientation"]
    judged["prior_rank"] = 1  # the prior prefers other axes: the search is asked
    out, meta = orientation.rig_oriented(statue, mesh, turn=True)
    assert out.axes == ("+z", "-y") and meta["orientation"]["turned_from"] == ["+y", "+z"]
    out, meta = orientation.rig_oriented(statue, mesh)  # axes given: rigged in them, with the warning
    assert out.axes == (None, None) and "warning" in meta["orientation"]
    monkeypatch.setattr(orientation, "find_orientation", lambda m, o: ("+y", "+z", found))
    out, meta = orientation.rig_oriented(statue, mesh, turn=True)
    assert out.axes == (None, None) and "warning" in meta["orientation"]
