"""``facerig eval``: its --json output is checked before any head is evaluated."""

from __future__ import annotations

from facerig.cli import main


def test_json_output_over_the_set_or_unwritable_is_refused_first(tmp_path, capsys):
    s = tmp_path / "evalset"
    s.mkdir()
    (s / "index.json").write_text('{"heads": "not even valid"}')
    (tmp_path / "file.txt").write_text("x")
    for out, match in [
        (s / "index.json", "is the input"),
        (s, "contains the input"),
        (tmp_path / "file.txt" / "r.json", "is a file, not a folder"),
    ]:
        assert main(["eval", "--method", "zero", "--set", str(s), "--json", str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert match in err and len(err.strip().splitlines()) == 1, err
    assert (s / "index.json").read_text() == '{"heads": "not even valid"}'


def test_invert_image_weights_that_do_not_exist_are_one_line(tmp_path, capsys):
    import pytest

    pytest.importorskip("torch")
    assert main(["eval", "--task", "invert-image", "--weights", str(tmp_path / "none.npz"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "weights not found" in err and len(err.strip().splitlines()) == 1, err
