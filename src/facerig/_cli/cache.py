"""``facerig cache``: where facerig keeps its caches, how big they are; ``--clear`` empties them.

facerig cache                       location, size and file count per kind
facerig cache --clear               remove everything facerig cached
facerig cache --clear --kind ict    remove one kind (repeatable)
facerig cache --json                the same as JSON
"""

from __future__ import annotations

import argparse
import json

help = "show facerig's cache (location, size per kind) or clear it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.config import CACHE_KINDS

    parser.add_argument("--clear", action="store_true", help="delete the cache (all of it, or the --kind ones)")
    parser.add_argument(
        "--kind",
        action="append",
        default=None,
        metavar="KIND",
        help=f"with --clear: only this kind ({', '.join(CACHE_KINDS)}); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def run(args: argparse.Namespace) -> int:
    from facerig.config import cache_usage, clear_cache
    from facerig.errors import FacerigError

    if args.kind and not args.clear:
        raise FacerigError("--kind goes with --clear")
    if args.clear:
        res = clear_cache(args.kind)
        if args.json:
            print(json.dumps(res, indent=1))
            return 0
        freed = sum(r["bytes"] for r in res["removed"].values())
        files = sum(r["files"] for r in res["removed"].values())
        print(f"cleared {', '.join(res['removed']) or 'nothing'}: {_size(freed)} in {files} files freed")
        if args.kind:
            absent = [k for k in args.kind if k not in res["removed"]]
            if absent:
                print(f"not in the cache: {', '.join(absent)}")
        elif res["kept"]:
            print(f"left alone (not facerig's): {', '.join(res['kept'])}")
        return 0
    use = cache_usage()
    if args.json:
        print(json.dumps(use, indent=1))
        return 0
    print(f"cache: {use['root']}" + ("" if use["exists"] else " (not created yet)"))
    if not use["kinds"]:
        print("  empty")
        return 0
    width = max(len(k) for k in use["kinds"])
    for name, k in use["kinds"].items():
        about = k["about"] or "not a facerig cache kind"
        print(f"  {name:<{width}}  {_size(k['bytes']):>9}  {k['files']:>6} files  {about}")
    print(f"  {'total':<{width}}  {_size(use['bytes']):>9}  {use['files']:>6} files")
    print("clear with: facerig cache --clear [--kind KIND]")
    return 0
