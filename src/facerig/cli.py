"""The ``facerig`` command line.

Each subcommand lives in ``facerig._cli.<name>`` and exposes ``help: str``,
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported lazily so that
``facerig --help`` stays fast and an optional dependency of one command never breaks another.

Errors: a :class:`facerig.errors.FacerigError` (or any other exception unless ``--debug``)
prints one line ``error: ...`` to stderr and exits non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from facerig import __version__

# name -> one-line help (kept here so --help does not import every command module)
COMMANDS: dict[str, str] = {
    "rig": "rig a head mesh: write an ARKit-52 blendshape rig (NPZ, GLB, OBJ folder)",
    "eval": "evaluate a rigging method on a validation set (errors in mm)",
    "data": "ICT FaceKit / sample generator utilities (make-eval, sample, info)",
    "train": "train the RigAnyFace network",
    "animate": "drive a rig with face-tracking weights (Live Link Face CSV, JSON)",
    "view": "interactive local viewer for a rig",
    "invert-image": "images of a head (RGB and/or normal maps) -> ARKit-52 weights (JSON, Live Link Face CSV)",
    "invert": "posed meshes -> ARKit-52 weights per frame (Live Link Face CSV, MediaPipe JSON, animated GLB)",
    "retarget": "drive another head (any topology) with posed meshes or a take: animated GLB",
    "cache": "show facerig's cache (location, size per kind) or clear it",
    "check": "audit a rig with no ground truth: eyelids, mouth, mirroring, rigid parts, tearing (pass/fail)",
}


class _StderrHandler(logging.Handler):
    """Prints ``facerig`` log records (INFO and up) as plain lines on the *current* sys.stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging never breaks a command
            self.handleError(record)


def _setup_logging(quiet: bool) -> None:
    """Library code reports through the ``facerig`` logger (e.g. "caching ... (one-off)");
    the CLI shows its INFO lines on stderr, only warnings with ``--quiet``."""
    logger = logging.getLogger("facerig")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facerig", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"facerig {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"facerig._cli.{name.replace('-', '_')}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # handles --help / --version / unknown commands
        parser.print_help()
        return 2
    name = argv[0]
    try:
        from facerig import parallel

        # The CLI owns its process: it lets the rig fork helpers and tunes the allocator
        # (a library caller opts in the same way, or not at all).
        parallel.configure(fork=True, keep_freed_memory=True)
        module = _command_module(name)
        sub = argparse.ArgumentParser(prog=f"facerig {name}", description=COMMANDS[name])
        module.add_arguments(sub)
        args = sub.parse_args(argv[1:])
        args.debug = debug
        _setup_logging(bool(getattr(args, "quiet", False)))
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - the CLI's single error boundary
        if debug:
            raise
        from facerig.errors import FacerigError

        msg = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        if isinstance(e, FacerigError):
            print(f"error: {msg}", file=sys.stderr)
            return 2
        print(f"error: {e.__class__.__name__}: {msg} (rerun with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
