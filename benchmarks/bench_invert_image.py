"""Speed of image-based rig inversion (``facerig invert-image``) on the CPU.

Times the shipped network at its trained resolution (96 x 96) on held-out rendered frames:

- ``network``: the forward pass alone on prepared (B, 3, 96, 96) inputs, RGB + normals, batches of
  64 (what a folder or video of frames costs per image);
- ``end_to_end``: :func:`facerig.models.image_inversion.infer.invert_image_files` on a folder of
  256 x 256 RGB PNGs with matching normal maps (Pillow reading, crop / resize, network), with the
  default reading (the weights file's test-time views, each mirrored, and modality blend,
  :mod:`facerig.models.image_inversion.tta`), with the mirror alone (``--no-tta``) and with one reading
  (``--no-mirror --no-tta``).

Median images/s of ``--repeats`` runs after a warm-up, for each ``--threads`` value (torch intra-op
threads). Writes ``benchmarks/results/invert_image_speed.json`` (date, machine, load average).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/bench_invert_image.py [--threads 1 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _meta import run_meta
from facerig.io.atomic import write_text_atomic
from facerig.models.image_inversion.infer import invert_image_files
from facerig.models.image_inversion.weights import load_model
from facerig.render import write_png

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _frames(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """n held-out frames (Rocketbox male, real-take expressions) rendered at ``size``."""
    from facerig.data import renders

    head = renders.author_heads("rocketbox_male*")[0]
    rng = np.random.default_rng(0)
    W = renders.sample_weights(rng, n, renders.take_frames(), head.present)
    out = renders.render_head(head, W, rng, renders.RenderConfig(size=size))
    return out["rgb"], out["normals"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--images", type=int, default=128)
    a = ap.parse_args()
    model = load_model()
    S = model.config.size
    load0 = os.getloadavg()
    res: dict = {
        **run_meta(cpu=_cpu_name(), loadavg_before=[round(v, 2) for v in load0]),
        "size": S,
        "images": a.images,
        "cases": {},
    }
    rgb, nrm = _frames(a.images, 256)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "rgb").mkdir()
        (Path(tmp) / "nrm").mkdir()
        for i in range(a.images):
            write_png(Path(tmp) / "rgb" / f"f{i:04d}.png", rgb[i])
            write_png(Path(tmp) / "nrm" / f"f{i:04d}.png", nrm[i])
        x = torch.rand(64, 3, S, S)
        use = torch.ones(64, 2)
        prev = torch.get_num_threads()
        for t in a.threads:
            torch.set_num_threads(t)
            net, e2e = [], []
            with torch.no_grad():
                model(x, x, use)
                for _ in range(a.repeats):
                    t0 = time.perf_counter()
                    model(x, x, use)
                    net.append(64 / (time.perf_counter() - t0))
            invert_image_files(Path(tmp) / "rgb", Path(tmp) / "nrm", model=model)
            e2e_plain, e2e_no_tta = [], []
            for _ in range(max(2, a.repeats // 2)):
                for mirror, tta, out in ((True, True, e2e), (True, False, e2e_no_tta), (False, False, e2e_plain)):
                    t0 = time.perf_counter()
                    invert_image_files(Path(tmp) / "rgb", Path(tmp) / "nrm", model=model, mirror=mirror, tta=tta)
                    out.append(a.images / (time.perf_counter() - t0))
            res["cases"][f"{t}_threads"] = {
                "network_images_per_s": round(statistics.median(net), 1),
                "end_to_end_images_per_s": round(statistics.median(e2e), 1),
                "end_to_end_no_tta_images_per_s": round(statistics.median(e2e_no_tta), 1),
                "end_to_end_no_mirror_images_per_s": round(statistics.median(e2e_plain), 1),
            }
            print(t, "threads:", res["cases"][f"{t}_threads"], flush=True)
        torch.set_num_threads(prev)
    res["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS / "invert_image_speed.json", json.dumps(res, indent=1) + "\n")
    print("wrote", RESULTS / "invert_image_speed.json")


if __name__ == "__main__":
    main()
