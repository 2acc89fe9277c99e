"""What the network costs inside a rig, per architecture (benchmark, not a test).

The 27k-vertex rig's time splits into a fixed part (start-up and imports, reading, seam check,
proxy, face probe beside the operators, transfer, writing) and the network's two passes on the
~8k proxy. This measures the second for the shipped weights and for cheaper variants of the
architecture (random weights of the same shapes: the cost does not depend on the values), on
the bundled example head's rig proxy, so a smaller network can be sized to a time budget
before anyone trains it:

- ``encode`` / ``decode``: one pass's per-head part (trunk, global encoder, basis head) and its
  51 one-hot queries (conditional blocks), one thread, best of ``--repeat``;
- ``network``: both passes as ``facerig rig`` runs them (head and mirror image side by side on
  two threads, ``facerig.models.raf.method.predict_proxy``), best of ``--repeat``;
- ``gemm_gflops``: this machine's float32 matrix-product rate on one thread (a (8426*26, 32) x
  (32, 32) product, the decoder's typical shape), to compare runs on different machines.

    python benchmarks/network_cost.py [--repeat 3] [--out benchmarks/results/network_cost.json]

Needs torch (the ``[train]`` extra) to build the variants' random weights.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

#: Variants of the shipped configuration (``RAFConfig`` overrides).
VARIANTS = {
    "shipped": {},
    "cond_width 16": {"cond_width": 16},
    "n_cond 1": {"n_cond": 1},
    "width 96": {"width": 96},
    "width 96, n_trunk 3": {"width": 96, "n_trunk": 3},
    "width 64, cond_width 16": {"width": 64, "cond_width": 16},
    "width 96, n_trunk 3, cond_width 16": {"width": 96, "n_trunk": 3, "cond_width": 16},
    "k_eig 64": {"k_eig": 64},
}


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _gemm_gflops(repeat: int) -> float:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8426 * 26, 32), dtype=np.float32)
    w = rng.standard_normal((32, 32), dtype=np.float32)
    with threadpool_limits(1):
        x @ w
        t = _best(lambda: x @ w, max(repeat, 5))
    return 2 * x.shape[0] * 32 * 32 / t / 1e9


def _runtime(config: dict, shipped):
    """A :class:`RigAnyFaceRuntime` with ``config``: the shipped weights for the shipped
    configuration, random ones of the right shapes otherwise."""
    from facerig.models.raf.runtime import RigAnyFaceRuntime

    if config == shipped.config.to_dict():
        return shipped
    import torch

    from facerig.models.raf.config import RAFConfig
    from facerig.models.raf.network import RigAnyFace

    torch.manual_seed(0)
    model = RigAnyFace(RAFConfig.from_dict(config))
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    for k in state:
        if k.endswith("diffusion_time"):
            state[k] = np.full_like(state[k], 1e-3)
    return RigAnyFaceRuntime(config, state, {"trained_shapes": shipped.meta.get("trained_shapes")})


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    from facerig.geometry.features import network_inputs
    from facerig.geometry.proxy import prepare_head
    from facerig.io import read_mesh
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.method import predict_proxy
    from facerig.models.raf.weights import load_model
    from facerig.parallel import keep_freed_memory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head", default=str(ROOT / "examples" / "ict_head" / "head.obj"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variants", default="", help="comma-separated names of VARIANTS (default all)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "network_cost.json"))
    args = ap.parse_args(argv)

    keep_freed_memory()
    shipped, _ = load_model(None)
    mesh = read_mesh(args.head)
    names = [n.strip() for n in args.variants.split(",") if n.strip()] or list(VARIANTS)
    gflops = _gemm_gflops(args.repeat)
    print(f"float32 GEMM on one thread: {gflops:.1f} GFLOP/s")
    preps: dict[int, object] = {}
    rows = []
    for name in names:
        config = {**shipped.config.to_dict(), **VARIANTS[name]}
        model = _runtime(config, shipped)
        k = model.k_eig
        if k not in preps:
            preps[k] = prepare_head(
                np.asarray(mesh.vertices, np.float64), mesh.faces, proxy_vertices=RIG_PROXY_VERTICES, k=k
            )
        prep = preps[k]
        inputs = network_inputs(prep.xyz, prep.proxy.faces, local=bool(model.n_local), cross=model.cross_part)
        local, cross = inputs
        a = np.eye(model.num_shapes, dtype=np.float32)[:51]  # the rig's queries (no tongueOut)
        with threadpool_limits(1):
            ops = prep.ops.for_network(k=k, cross=cross)
            enc = model.encode(prep.xyz, ops, local, 1)
            t_enc = _best(lambda: model.encode(prep.xyz, ops, local, 1), args.repeat)
            t_dec = _best(lambda: model(prep.xyz, ops, a, local, enc=enc, threads=1), args.repeat)
        t_net = _best(
            lambda: predict_proxy(model, prep, a, mirror=True, threads=2, inputs=inputs, workers=2), args.repeat
        )
        n_params = int(sum(v.size for v in model.params.values()))
        row = {
            "variant": name,
            "config": VARIANTS[name],
            "parameters": n_params,
            "proxy_vertices": prep.proxy.num_vertices,
            "encode_s": round(t_enc, 3),
            "decode_s": round(t_dec, 3),
            "network_s": round(t_net, 3),
        }
        rows.append(row)
        print(
            f"{name:36s} {n_params:>8,d} params  encode {t_enc:.3f} s  decode {t_dec:.3f} s  "
            f"two passes side by side {t_net:.3f} s"
        )
    result = {
        **run_meta(),
        "gemm_gflops": round(gflops, 1),
        "head": str(Path(args.head).name),
        "repeat": args.repeat,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from facerig.io.atomic import atomic_path

    with atomic_path(out, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
