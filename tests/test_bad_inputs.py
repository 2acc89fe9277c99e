"""Bad inputs through every command, in process: exit 2, one line naming the problem, nothing
written, nothing changed; and a bounded fuzz test of every reader (only FacerigError escapes).

The corpus is :mod:`bad_input_corpus` (generated under ``tmp_path`` at test time). The fuzz
test runs a fixed number of mutations per reader by default (fast); ``FACERIG_FUZZ_SECONDS=N``
runs the slow variant for about N seconds in all (default 60 s when the ``slow`` tests run).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from bad_input_corpus import CLISAFE, GLTF, SPECS, Bases
from facerig.cli import main
from facerig.errors import FacerigError

_SILENT = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning, ImportWarning)
BARE_EXCEPTION = re.compile(r"^error: [A-Za-z_.]*(Error|Exception|Warning)\b")


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> Bases:
    return Bases(tmp_path_factory.mktemp("bases"))


@pytest.fixture(autouse=True)
def _never_serve(monkeypatch):
    """``facerig view`` must fail before it serves; if a case does not, stop it instead of hanging."""
    from facerig.viewer import server

    def refuse(self, *a, **k):
        raise AssertionError("facerig view got as far as serving a bad input")

    monkeypatch.setattr(server.ViewerServer, "serve_forever", refuse, raising=False)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.is_dir() else set()


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(s, id=s.id, marks=[pytest.mark.xfail(reason=s.owner, strict=False)] if s.owner else [])
        for s in SPECS
    ],
)
def test_bad_input(spec, bases: Bases, tmp_path: Path, capsys, monkeypatch) -> None:
    case = spec.build(bases, tmp_path / "case")
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    before = {p: _digest(p) for p in case.inputs}
    out_dirs = {o.parent: _listing(o.parent) for o in case.outputs}
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = main(list(case.argv))
    err = capsys.readouterr().err
    # what Python's default filters would print on a user's terminal, beside the error line
    shown = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, _SILENT)]
    assert not shown, f"warnings a user would see: {shown}"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, f"exit {rc}, stderr {err!r}"
    assert len(lines) == 1, f"expected one stderr line, got {err!r}"
    assert "Traceback" not in err
    assert lines[0].startswith("error: ") and not BARE_EXCEPTION.match(lines[0]), lines[0]
    assert re.search(case.match, lines[0]), f"{lines[0]!r} does not match {case.match!r}"
    for p, digest in before.items():
        assert _digest(p) == digest, f"{p} was modified"
    for o in case.outputs:
        assert not o.exists(), f"{o} was written"
    for folder, names in out_dirs.items():
        assert _listing(folder) == names, f"new files in {folder}: {_listing(folder) - names}"


def test_corpus_covers_every_reader_and_command() -> None:
    ids = [s.id for s in SPECS]
    assert len(ids) == len(set(ids)) and len(ids) >= 60
    for prefix in ("obj-", "ply-", "stl-", "glb-", "gltf-", "animate-npz", "take-", "view-", "eval-", "rig-"):
        assert any(i.startswith(prefix) for i in ids), prefix


# ----------------------------------------------------------------------------- fuzz

_TOKENS = [
    b"3//",
    b"//",
    b"/",
    b"0",
    b"-0",
    b"-1",
    b"99999999999999999999",
    b"1e999",
    b"nan",
    b"inf",
    b"-",
    "\u00a0".encode(),
    b"\x1f",
    b"\x00",
    b"\xff",
    b"\r",
    b"\n",
    b" ",
    b"\t",
    b"#",
    b"f",
    b"v",
    b"vt",
    b"vn",
    b"end_header",
    b"endsolid",
    b"facet",
    b"vertex",
    b"element vertex 99999999",
    b"[",
    b"]",
    b"{",
    b"}",
    b'"',
    b",",
    b"null",
    b"true",
    b"-1e308",
    b"1e-320",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three seeded mutations: byte flips, deletions, insertions of special tokens,
    truncation, line duplication / deletion / swap."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        n = len(b)
        if n == 0:
            b += rng.choice(_TOKENS)
            continue
        i = rng.randrange(n)
        if op == 0:  # flip a byte
            b[i] = rng.randrange(256)
        elif op == 1:  # delete a span
            del b[i : i + rng.randint(1, 16)]
        elif op == 2:  # insert a token
            b[i:i] = rng.choice(_TOKENS)
        elif op == 3:  # truncate
            del b[i:]
        elif op == 4:  # replace a digit run with a token
            m = re.search(rb"[0-9.]+", bytes(b[i:]))
            if m:
                b[i + m.start() : i + m.end()] = rng.choice(_TOKENS)
        else:  # line-level: duplicate / delete / swap
            lines = bytes(b).split(b"\n")
            j, k = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == 5:
                lines.insert(j, lines[k])
            elif rng.random() < 0.5:
                del lines[j]
            else:
                lines[j], lines[k] = lines[k], lines[j]
            b = bytearray(b"\n".join(lines))
    return bytes(b)


def _read_mesh(p):
    from facerig.io import read_mesh

    return read_mesh(p)  # the readers; validation (facerig.io.validate) belongs to the robust branch


def _read_take(p):
    from facerig.io.takes import read_take

    return read_take(p)


def _read_rig(p):
    from facerig.io.rig import load_rig

    return load_rig(p)


# reader name -> (file name, base attribute, reader, xfail owner)
READERS = {
    "obj": ("h.obj", "obj", _read_mesh, None),
    "ply-ascii": ("h.ply", "ply_ascii", _read_mesh, None),
    "ply-binary": ("h.ply", "ply_binary", _read_mesh, None),
    "stl-ascii": ("h.stl", "stl_ascii", _read_mesh, None),
    "stl-binary": ("h.stl", "stl_binary", _read_mesh, None),
    "glb": ("h.glb", "glb", _read_mesh, GLTF),
    "npz-rig": ("r.npz", "npz", _read_rig, CLISAFE),
    "take-csv": ("t.csv", "take_csv", _read_take, None),
    "take-json": ("t.json", "take_json", _read_take, None),
}


def _fuzz(name: str, bases: Bases, tmp_path: Path, *, iterations: int | None, seconds: float | None) -> int:
    fname, attr, reader, _owner = READERS[name]
    base = getattr(bases, attr)
    rng = random.Random(f"facerig-fuzz-{name}")
    p = tmp_path / fname
    t_end = time.monotonic() + (seconds or 0.0)
    k = 0
    while (iterations is not None and k < iterations) or (seconds is not None and time.monotonic() < t_end):
        data = mutate(base, rng)
        p.write_bytes(data)
        try:
            # numpy's default floating-point policy, made fatal: a warning a user would see is a bug too
            with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                reader(p)
        except FacerigError as e:
            assert "\n" not in str(e).strip(), f"multi-line error for mutation {k}: {e!r}"
        except Exception as e:
            keep = tmp_path / f"failing-{k}-{fname}"
            keep.write_bytes(data)
            raise AssertionError(
                f"{name} mutation {k} raised {e.__class__.__name__}: {e} (input kept in {keep})"
            ) from e
        k += 1
    return k


def _fuzz_params():
    return [
        pytest.param(n, id=n, marks=[pytest.mark.xfail(reason=o, strict=False)] if o else [])
        for n, (_f, _a, _r, o) in READERS.items()
    ]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", _fuzz_params())
def test_fuzz_readers_quick(name: str, bases: Bases, tmp_path: Path) -> None:
    assert _fuzz(name, bases, tmp_path, iterations=40, seconds=None) == 40


@pytest.mark.slow
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", _fuzz_params())
def test_fuzz_readers(name: str, bases: Bases, tmp_path: Path) -> None:
    total = float(os.environ.get("FACERIG_FUZZ_SECONDS", "60"))
    n = _fuzz(name, bases, tmp_path, iterations=None, seconds=total / len(READERS))
    assert n > 0
