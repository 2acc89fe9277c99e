"""``facerig invert-image IMAGE [--normals NORMALS] [-o OUT]``: ARKit-52 weights from images of a head."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from facerig.errors import FacerigError

help = "images of a head (RGB and/or normal maps) -> ARKit-52 weights (JSON, Live Link Face CSV)"

EPILOG = """\
IMAGE:    an RGB image (.png .jpg ...), a folder of them (natural order: f2 before f10), or '-' for
          none (normal maps only). The head roughly centred and facing the camera; any size (a centre
          square is cropped and resized to the network's 96 px); alpha, grayscale and 16-bit images
          are fine (alpha is composited away). Video: extract frames first (ffmpeg -i in.mp4 f/%05d.png);
          facerig installs no video reader.
NORMALS:  camera-space normal maps, RGB = (n + 1) / 2 (+X right, +Y up, +Z toward the viewer),
          background black or transparent; same count and sizes as IMAGE.
OUT:      .json {"modalities", "frames": [{"source", "weights": {ARKit name: weight},
          "head_probability", "low_confidence"}]} (one frame: the frame's object itself);
          .csv Live Link Face layout (`facerig animate` and facerig.io.takes read it back).
          Without -o the JSON is printed.
--rig:    fine-tune on renders of that rig's own head first (the per-character setting; the rig's
          head +Y up, face toward +Z), --finetune-minutes of CPU time (default 5, at most 30);
          --save-weights keeps the tuned weights for later runs (--weights).
Each frame is also read mirrored (Left / Right weights swapped back) and the two readings averaged;
--no-mirror reads it once (half the network time). The weights then go through the weights file's
output calibration (a monotone map per shape fitted on renders of training identities; --no-calibration:
the network's raw weights; fine-tuning with --rig drops it). Where the weights file has a test-time
augmentation (each frame also read shifted a few pixels, the readings averaged, with its own calibration; chosen
on renders of training identities), it is used (~5x the network time); --no-tta: the mirror reading alone.
Frames flagged low_confidence (no head found: the network's head probability < 0.5, or under 3 %
head pixels by alpha / normal map) are listed on stderr: do not trust their weights. The JSON keeps
their weights next to the flag; a CSV (no flag column) gets them as neutral (all 0).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("image", help="RGB image, folder of images, or '-' for normal maps only")
    parser.add_argument("--normals", default=None, help="normal map (or folder) matching IMAGE")
    parser.add_argument("-o", "--output", default=None, help="OUT.json or OUT.csv (default: JSON on stdout)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate written to a CSV (default 30)")
    parser.add_argument("--weights", default=None, help="network weights (.npz; default the shipped ones)")
    parser.add_argument("--rig", default=None, help="fine-tune on renders of this rig's head first")
    parser.add_argument("--finetune-minutes", type=float, default=5.0, help="fine-tuning time (default 5, max 30)")
    parser.add_argument("--save-weights", default=None, help="write the fine-tuned weights here (.npz)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    parser.add_argument(
        "--no-mirror", action="store_true", help="read each frame once (default: also mirrored, averaged; 2x the cost)"
    )
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="the network's raw weights (default: through the weights file's output calibration, if any)",
    )
    parser.add_argument(
        "--no-tta",
        action="store_true",
        help="no test-time views (default: the weights file's, if any; ~5x the mirror reading's network cost)",
    )
    parser.add_argument("--quiet", action="store_true", help="only warnings and errors on stderr")


def run(args: argparse.Namespace) -> int:
    from facerig.io.atomic import check_writable, write_text_atomic
    from facerig.models.image_inversion.infer import invert_image_files
    from facerig.models.image_inversion.weights import model_from_weights, require_torch, save_weights

    image = None if args.image == "-" else args.image
    if image is None and args.normals is None:
        raise FacerigError("give an RGB image, --normals, or both")
    kind = None
    if args.output:
        kind = Path(args.output).suffix.lower()
        if kind not in (".json", ".csv"):
            raise FacerigError(f"output {args.output}: use .json or .csv")
        check_writable(args.output)
    if args.save_weights:
        if not args.rig:
            raise FacerigError("--save-weights keeps fine-tuned weights: give --rig too")
        check_writable(args.save_weights)
    require_torch()
    model = None
    t0 = time.time()
    if args.rig:
        if not 0 < args.finetune_minutes <= 30:
            raise FacerigError("--finetune-minutes must be in (0, 30]")
        from facerig.io.rigfile import read_rig
        from facerig.train.image_inversion import finetune_on_rig

        rig = read_rig(args.rig)
        model = model_from_weights(args.weights)
        if not args.quiet:
            print(f"fine-tuning on renders of {Path(args.rig).name} for {args.finetune_minutes:g} min", file=sys.stderr)
        finetune_on_rig(model, rig, minutes=args.finetune_minutes, threads=args.threads or 2)
        if args.save_weights:
            save_weights(args.save_weights, model, {"finetuned_on": Path(args.rig).name})
    res = invert_image_files(
        image,
        args.normals,
        model=model,
        weights=args.weights,
        threads=args.threads,
        mirror=not args.no_mirror,
        calibrate=not args.no_calibration,
        tta=not args.no_tta,
    )
    frames = res.as_dicts()
    doc = frames[0] if len(frames) == 1 else {"modalities": res.modalities, "frames": frames}
    if len(frames) == 1:
        doc = {"modalities": res.modalities, **doc}
    if res.notes:
        doc["notes"] = res.notes
    if kind == ".csv":
        import numpy as np

        from facerig.invert.outputs import write_weights

        # a CSV has no flag column: a frame with no head found is written neutral, never its untrusted weights
        write_weights(args.output, np.where(res.low_confidence[:, None], 0.0, res.weights), fps=args.fps)
    elif kind == ".json":
        write_text_atomic(args.output, json.dumps(doc, indent=1) + "\n")
    else:
        print(json.dumps(doc, indent=1))
    low = [f["source"] for f in frames if f["low_confidence"]]
    if low:
        shown = ", ".join(low[:5]) + (f" and {len(low) - 5} more" if len(low) > 5 else "")
        csv = " (written neutral, all 0, in the CSV)" if kind == ".csv" else ""
        print(
            f"warning: no head found (low confidence) in {len(low)} of {len(frames)} frame(s){csv}: {shown}",
            file=sys.stderr,
        )
    if not args.quiet and args.output:
        print(
            f"{len(frames)} frame(s) ({res.modalities}) -> {args.output} in {time.time() - t0:.1f} s", file=sys.stderr
        )
    return 0
