"""Safe outputs: no output equals an input, writability checked first, whole-folder atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from facerig.errors import FacerigError
from facerig.io.atomic import (
    OLD_TAG,
    TMP_TAG,
    atomic_folder,
    check_outputs,
    check_writable,
    clean_stale,
    write_text_atomic,
)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# --- check_outputs ---------------------------------------------------------------------------


def test_output_equal_to_an_input_is_refused(tmp_path, monkeypatch):
    rig = tmp_path / "head.glb"
    rig.write_bytes(b"x")
    take = tmp_path / "take.csv"
    take.write_text("a")
    with pytest.raises(FacerigError, match="is the input"):
        check_outputs([rig, take], [rig])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FacerigError, match="is the input"):  # relative vs absolute spelling
        check_outputs([rig], ["./sub/../head.glb"])
    (tmp_path / "link.glb").symlink_to(rig)
    with pytest.raises(FacerigError, match="is the input"):
        check_outputs([rig], [tmp_path / "link.glb"])
    os.link(take, tmp_path / "hard.csv")  # same file through a hard link: os.path.samefile
    with pytest.raises(FacerigError, match="is the input"):
        check_outputs([take], [tmp_path / "hard.csv"])
    check_outputs([rig, take, None], [tmp_path / "out.glb", None])  # a new path is fine
    assert rig.read_bytes() == b"x"


def test_folder_outputs_around_inputs(tmp_path):
    rig = tmp_path / "in" / "head.npz"
    rig.parent.mkdir()
    rig.write_bytes(b"x")
    with pytest.raises(FacerigError, match="contains the input"):
        check_outputs([rig], [tmp_path / "in"])
    with pytest.raises(FacerigError, match="contains the input"):
        check_outputs([rig], [tmp_path])
    folder_rig = tmp_path / "rigdir"
    folder_rig.mkdir()
    with pytest.raises(FacerigError, match="inside the input folder"):
        check_outputs([folder_rig], [folder_rig / "frames"])
    check_outputs([folder_rig, rig], [tmp_path / "frames"])


# --- check_writable --------------------------------------------------------------------------


def test_path_under_a_file_is_refused(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(FacerigError, match="is a file"):
        check_writable(f / "out.glb")
    with pytest.raises(FacerigError, match="is a file"):
        check_writable(f / "deeper" / "frames", folder=True)
    with pytest.raises(FacerigError, match="not a folder"):
        check_writable(f, folder=True)
    with pytest.raises(FacerigError, match="is a folder"):
        check_writable(tmp_path)


def test_writable_paths_pass_and_nothing_is_left(tmp_path):
    check_writable(tmp_path / "a" / "b" / "out.glb")
    check_writable(tmp_path / "frames", folder=True)
    (tmp_path / "existing").mkdir()
    check_writable(tmp_path / "existing", folder=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]  # no probe files, no folders made


def test_read_only_folder_is_refused(tmp_path):
    """chmod 555 for a normal user; root writes there anyway, so as root the folder is made
    immutable (chattr +i), which root cannot write in either."""
    import shutil

    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        undo = ["chmod", "755", str(ro)]
    else:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(ro)], check=False).returncode:
            pytest.skip("root and no chattr +i here: no read-only folder to test with")
        undo = ["chattr", "-i", str(ro)]
    try:
        with pytest.raises(FacerigError, match=f"output {ro / 'out.glb'}: cannot write in {ro} "):
            check_writable(ro / "out.glb")
        with pytest.raises(FacerigError, match="cannot write in"):
            check_writable(ro / "frames", folder=True)
        assert list(ro.iterdir()) == []
    finally:
        subprocess.run(undo, check=False)


# --- atomic folders --------------------------------------------------------------------------


def test_atomic_folder_replaces_as_a_whole(tmp_path):
    out = tmp_path / "rig"
    with atomic_folder(out) as tmp:
        assert not out.exists() and tmp.parent == tmp_path
        (tmp / "a.txt").write_text("1")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    with atomic_folder(out, replaceable=lambda p: (p / "a.txt").is_file()) as tmp:
        (tmp / "b.txt").write_text("2")
        assert (out / "a.txt").read_text() == "1"  # the old folder stays until the new one is complete
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rig"]  # no temporaries, no retired folder


def test_failed_write_leaves_the_old_folder(tmp_path):
    out = tmp_path / "rig"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out, replaceable=lambda p: True) as tmp:
        (tmp / "half.txt").write_text("new")
        raise RuntimeError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["rig"] and (out / "keep.txt").read_text() == "old"


def test_foreign_folder_is_not_replaced(tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "me.jpg").write_bytes(b"jpg")
    with pytest.raises(FacerigError, match="holds other files"), atomic_folder(out):
        pass
    assert (out / "me.jpg").read_bytes() == b"jpg"
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(FacerigError, match="not a folder"), atomic_folder(f):
        pass


def test_stale_temporaries_of_dead_processes_are_cleaned(tmp_path):
    out = tmp_path / "rig"
    dead, alive = dead_pid(), os.getppid()
    stale = [tmp_path / f".rig.{TMP_TAG}-{dead}-abc123", tmp_path / f".rig.{OLD_TAG}-{dead}-def456"]
    live = tmp_path / f".rig.{TMP_TAG}-{alive}-abc123"
    other = tmp_path / f".other.{TMP_TAG}-{dead}-abc123"
    for p in [*stale, live, other]:
        p.mkdir()
        (p / "x.obj").write_text("v 0 0 0\n")
    assert sorted(clean_stale(out)) == sorted(stale)
    assert live.is_dir() and other.is_dir()  # a live writer's, and another folder's, are left alone
    with atomic_folder(out) as tmp:
        (tmp / "a").write_text("1")
    assert live.is_dir()


def test_killed_writer_leaves_no_output_and_the_next_write_cleans_up(tmp_path):
    out = tmp_path / "rig"
    script = (
        "import sys, time\n"
        "from facerig.io.atomic import atomic_folder\n"
        f"with atomic_folder({str(out)!r}) as tmp:\n"
        "    (tmp / 'neutral.obj').write_text('v 0 0 0\\n')\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.kill()  # SIGKILL: no cleanup code runs
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = [p.name for p in tmp_path.iterdir()]
    assert not out.exists() and len(left) == 1 and left[0].startswith(f".rig.{TMP_TAG}-{proc.pid}-")
    with atomic_folder(out) as tmp:
        (tmp / "neutral.obj").write_text("v 1 1 1\n")
    assert [p.name for p in tmp_path.iterdir()] == ["rig"]


def test_two_writers_never_mix(tmp_path):
    out = tmp_path / "rig"
    names = [f"f{i}.txt" for i in range(12)]
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for _ in range(15):
                with atomic_folder(out, replaceable=lambda p: (p / "done").is_file()) as tmp:
                    for n in names:
                        (tmp / n).write_text(tag)
                    (tmp / "done").write_text(tag)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "writers still running after 120 s"
    assert errors == [], errors
    contents = {p.name: p.read_text() for p in out.iterdir()}
    assert sorted(contents) == sorted([*names, "done"]) and len(set(contents.values())) == 1, contents
    assert [p.name for p in tmp_path.iterdir()] == ["rig"], list(tmp_path.iterdir())


def test_write_text_atomic_keeps_umask_permissions(tmp_path):
    p = tmp_path / "a.txt"
    write_text_atomic(p, "hi")
    umask = os.umask(0o022)
    os.umask(umask)
    assert p.read_text() == "hi" and (p.stat().st_mode & 0o777) == (0o666 & ~umask)
    assert Path(p).parent == tmp_path
