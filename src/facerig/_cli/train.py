"""``facerig train``: build the preprocessed sample pool and train the RigAnyFace network.

facerig train pool --n 300                 # train-split generator samples -> pool
facerig train pool --n 12 --split eval     # a few held-out heads for validation
facerig train run --out runs/raf --steps 20000 [--time-limit 60]
facerig train run --out runs/raf           # resumes from runs/raf/last.pt
facerig train export runs/raf/best.pt      # -> src/facerig/weights/raf.npz (inference only, no torch needed)
facerig train average A.pt B.pt -o soup.pt # mean of the weights of runs branched from one model
facerig train pool --dir ~/.cache/facerig/encoder_pool --proxy-vertices 2000 --k 64 --families ict,makehuman
facerig train encoder --out runs/encoder --time-limit 40 --export   # expression encoder (invert without --neutral)
facerig train pool --unrigged --style strong --start 500000 --n 60   # unrigged heads (rigs withheld), stronger stylisation
facerig train run --init-from src/facerig/weights/raf.npz --two-d --p-unrigged 0.3 ...   # 2D terms + unrigged heads
"""

from __future__ import annotations

import argparse
import json

#: ``facerig train run --two-d``: the 2D loss weights (paper stage 1's img/mask/reg; dis2d on
#: mse3d's footing; the no-ground-truth terms' weights are this project's).
TWO_D_WEIGHTS = {
    "img": 10.0,
    "mask": 1.0,
    "dis2d": 100.0,  # in head widths^2 like mse3d (the paper's 1 is for its own units)
    "reg": 1e-4,
    "eye_close": 0.5,
    "mouth_open": 0.5,
    "mirror": 10.0,
    "rigid": 1.0,
    "smooth": 10.0,
}
#: ``facerig train pool --style strong``: SampleConfig overrides for stronger stylisation.
STRONG_STYLE = {
    "p_warp": 1.0,
    "p_exaggerate": 0.6,
    "warp_amplitude": (0.06, 0.25),
    "warp_stretch": (0.65, 1.5),
    "p_feature_warp": 0.8,
    "p_reframe": 0.6,
    "framings": ("face", "face", "no_neck", "back_removed"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    a = sub.add_parser("pool", help="preprocess generator samples into the training pool")
    a.add_argument("--dir", default=None, help="pool folder (default: cache_dir('train_pool'))")
    a.add_argument("--n", type=int, default=200, help="samples per family")
    a.add_argument("--start", type=int, default=0, help="first seed")
    a.add_argument("--split", default="train", choices=["train", "eval"])
    a.add_argument("--families", default="ict", help="comma-separated: ict,makehuman")
    a.add_argument("--proxy-vertices", type=int, default=5000)
    a.add_argument("--k", type=int, default=128)
    a.add_argument(
        "--workers",
        type=int,
        default=1,
        help="build items in this many processes (one BLAS thread each; same files as one process)",
    )
    a.add_argument(
        "--sample",
        default="{}",
        help="JSON overrides of the generator's SampleConfig, e.g. '{\"p_warp\": 1.0}' for a pool of "
        "stylised heads (use another --dir or --start: item names record family and seed only)",
    )
    a.add_argument(
        "--unrigged",
        action="store_true",
        help="withhold the rigs: unrigged items (unrigged_<family>_<seed>.npz) that training reaches only "
        "through the losses needing no ground truth (facerig.train.losses_2d)",
    )
    a.add_argument(
        "--style",
        choices=["default", "strong"],
        default="default",
        help="strong: every head warped harder (creature proportions), anime eyes and snouts on 80 %%, "
        "face-mask cuts on ~30 %% (SampleConfig preset; --sample overrides it)",
    )
    a.add_argument(
        "--heads",
        nargs="+",
        default=None,
        metavar="MESH",
        help="also (or only, with --n 0) make unrigged items of these head meshes, e.g. ../shared/data/heads/*.obj "
        "(their rigs are ignored; they are the project's out-of-family measure, so training on them makes "
        "them in-family)",
    )
    r = sub.add_parser("run", help="train (resumes from OUT/last.pt)")
    r.add_argument("--pool", default=None, help="pool folder (default: cache_dir('train_pool'))")
    r.add_argument("--out", default="runs/raf")
    r.add_argument("--steps", type=int, default=20000)
    r.add_argument("--lr", type=float, default=1e-4)
    r.add_argument("--warmup", type=int, default=500)
    r.add_argument("--restart-period", type=int, default=5000)
    r.add_argument("--queries", type=int, default=4, help="one-hot queries per head and step")
    r.add_argument("--combos", type=int, default=2, help="random combinations per head and step")
    r.add_argument(
        "--jitter", type=float, default=0.005, help="random translation of the normalised head per step (head widths)"
    )
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--device", default="auto")
    r.add_argument(
        "--time-limit",
        type=float,
        default=0.0,
        help="minutes (0 = none); with --steps 0 the run lasts this long and its learning rate anneals over that time",
    )
    r.add_argument(
        "--cache-items",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep pool items on the device after their first use (default: on for CUDA; ~7 MB per item)",
    )
    r.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="decay of a moving average of the weights per step, used for validation, best.pt and "
        "rigging (0 = off; 0.999 averages over ~1,000 steps)",
    )
    r.add_argument(
        "--frame-spread",
        type=float,
        default=1.0,
        help="head-frame augmentation: show a head in a frame up to this factor wider or narrower "
        "(log-uniform; 1 = off)",
    )
    r.add_argument(
        "--face-frame",
        action="store_true",
        help="show every head in the face-measured frame that `facerig rig` uses, "
        "measured once per head by the network the run starts (or resumes) from",
    )
    r.add_argument("--p-frame", type=float, default=0.0, help="share of steps with a rescaled head frame (0 = off)")
    r.add_argument(
        "--init-from",
        default="",
        help="start from this checkpoint's (or weights file's) weights and architecture (--model may widen its inputs)",
    )
    r.add_argument(
        "--model",
        default="{}",
        help="JSON overrides of RAFConfig (of the --init-from architecture when given), e.g. '{\"use_global\": false}'",
    )
    r.add_argument("--loss", default="{}", help="JSON overrides of the loss weights, e.g. '{\"act3d\": 1.0}'")
    r.add_argument(
        "--p-unrigged",
        type=float,
        default=0.0,
        help="share of steps on the pool's unrigged items (unrigged_*.npz; no-ground-truth losses only)",
    )
    r.add_argument(
        "--ckpt-every", type=int, default=250, help="steps between checkpoints (last.pt) and validations (best.pt)"
    )
    r.add_argument("--log-every", type=int, default=25, help="steps between log lines")
    r.add_argument("--n2d", type=int, default=2, help="queries per rigged step that the rendered 2D terms render")
    r.add_argument("--image-size", type=int, default=64, help="pixels of the rendered 2D terms' images")
    r.add_argument(
        "--two-d",
        action="store_true",
        help="the 2D recipe: img 10, mask 1, dis2d 100, reg 1e-4 on rigged heads; eye_close 0.5, mouth_open 0.5, "
        "mirror 10, rigid 1, smooth 10 on unrigged ones (--loss overrides)",
    )
    r.add_argument(
        "--no-2d", action="store_true", help="ablation: rendered terms with ground truth off (img, mask, dis2d)"
    )
    r.add_argument("--no-unrigged", action="store_true", help="ablation: no unrigged items (--p-unrigged 0)")
    r.add_argument("--no-semantic", action="store_true", help="ablation: lmk2d, ec2d, eye_close and mouth_open off")
    c = sub.add_parser("encoder", help="train the expression encoder (`facerig invert` without --neutral)")
    c.add_argument("--pool", default=None, help="pool folder (default: cache_dir('encoder_pool'))")
    c.add_argument("--out", default="runs/encoder")
    c.add_argument("--time-limit", type=float, default=40.0, help="minutes (the learning rate anneals over them)")
    c.add_argument("--steps", type=int, default=0, help="stop after this many steps instead (0 = use --time-limit)")
    c.add_argument("--lr", type=float, default=1e-3)
    c.add_argument("--poses", type=int, default=8, help="poses per head and step")
    c.add_argument(
        "--weight-loss",
        choices=["bce", "l1"],
        default="bce",
        help="weight term: cross-entropy on the logits (the shipped run's) or L1 (learns faster on a toy pool)",
    )
    c.add_argument(
        "--disp-weight",
        type=float,
        default=0.0,
        help="weight of the dense per-vertex displacement target (needs --model '{\"disp_head\": true}')",
    )
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--model", default="{}", help="JSON overrides of EncoderConfig, e.g. '{\"width\": 48}'")
    c.add_argument(
        "--export",
        nargs="?",
        const="",
        default=None,
        metavar="NPZ",
        help="write the best checkpoint as weights (default path: the package's weights/encoder.npz)",
    )
    e = sub.add_parser("export", help="strip a checkpoint to inference weights")
    e.add_argument("checkpoint")
    e.add_argument(
        "-o",
        "--output",
        default=None,
        help="default: the package's weights/raf.npz (weights/encoder.npz for an encoder checkpoint)",
    )
    e.add_argument("--note", default="", help="free text stored in the weights' meta")
    v = sub.add_parser("average", help="average the weights of checkpoints of one architecture")
    v.add_argument("checkpoints", nargs="+")
    v.add_argument("-o", "--output", required=True, help="output checkpoint (.pt)")
    v.add_argument("--weights", default="", help="comma-separated weight per checkpoint (default: equal)")


def run(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        from facerig.errors import FacerigError

        raise FacerigError("training needs torch: pip install 'facerig[train]' (pins torch==2.13.0, the CPU build)")
    if args.action == "pool":
        from facerig.errors import FacerigError
        from facerig.train.dataset import build_pool

        if args.workers < 1:
            raise FacerigError(f"--workers must be at least 1 (got {args.workers})")
        from dataclasses import fields

        from facerig.data.generator import SampleConfig

        try:
            over = json.loads(args.sample)
        except json.JSONDecodeError as e:
            raise FacerigError(f"--sample is not JSON: {e}") from None
        known = {f.name for f in fields(SampleConfig)} - {"split"}
        if not isinstance(over, dict) or set(over) - known:
            raise FacerigError(
                f"--sample wants a JSON object of SampleConfig fields; unknown: "
                f"{sorted(set(over) - known) if isinstance(over, dict) else over!r}"
            )
        over = {k: tuple(v) if isinstance(v, list) else v for k, v in over.items()}
        if args.style == "strong":
            over = {**STRONG_STYLE, **over}
        if args.heads:
            from facerig.train.dataset import build_unrigged_heads

            build_unrigged_heads(args.heads, args.dir, proxy_vertices=args.proxy_vertices, k=args.k)
        if args.n <= 0:
            return 0
        build_pool(
            args.dir,
            args.n,
            start=args.start,
            families=tuple(args.families.split(",")),
            split=args.split,
            proxy_vertices=args.proxy_vertices,
            k=args.k,
            workers=args.workers,
            config=SampleConfig(split=args.split, **over),
            withhold_rig=args.unrigged,
        )
        return 0
    if args.action == "run":
        from facerig.models.raf.config import RAFConfig
        from facerig.train.dataset import default_pool_dir
        from facerig.train.loop import TrainConfig, train
        from facerig.train.losses import LossWeights

        model = RAFConfig().to_dict()
        if args.init_from:  # a run from given weights keeps their architecture unless --model changes it
            from facerig.models.raf.weights import read_weights

            try:
                model.update(read_weights(args.init_from)[0])
            except (OSError, KeyError, ValueError) as e:
                from facerig.errors import FacerigError

                raise FacerigError(f"cannot read --init-from {args.init_from}: {e}") from None
        model.update(json.loads(args.model))
        loss = LossWeights().to_dict()
        unknown = set(json.loads(args.loss)) - set(loss)
        if unknown:
            from facerig.errors import FacerigError

            raise FacerigError(f"unknown loss terms {sorted(unknown)}; known: {sorted(loss)}")
        if args.two_d:
            loss.update(TWO_D_WEIGHTS)
        loss.update(json.loads(args.loss))
        from facerig.train.losses import RENDER_TERMS, SEMANTIC_TERMS

        for off, terms in ((args.no_2d, RENDER_TERMS), (args.no_semantic, SEMANTIC_TERMS)):
            if off:
                loss.update(dict.fromkeys(terms, 0.0))
        cfg = TrainConfig(
            pool_dir=str(args.pool or default_pool_dir()),
            out_dir=args.out,
            steps=args.steps,
            lr=args.lr,
            warmup=args.warmup,
            restart_period=args.restart_period,
            n_onehot=args.queries,
            n_combo=args.combos,
            jitter=args.jitter,
            seed=args.seed,
            threads=args.threads,
            device=args.device,
            time_limit_min=args.time_limit,
            cache_items=args.cache_items,
            ema=args.ema,
            model=model,
            frame_spread=args.frame_spread,
            p_frame=args.p_frame,
            face_frame=args.face_frame,
            init_from=args.init_from,
            weights=loss,
            p_unrigged=0.0 if args.no_unrigged else args.p_unrigged,
            n2d=args.n2d,
            image_size=args.image_size,
            ckpt_every=args.ckpt_every,
            eval_every=args.ckpt_every,
            log_every=args.log_every,
        )
        best = train(cfg, log=lambda s: print(s, flush=True))
        print(f"best checkpoint: {best}")
        return 0
    if args.action == "encoder":
        from facerig.errors import FacerigError
        from facerig.models.encoder.config import EncoderConfig
        from facerig.train.encoder import EncoderTrainConfig, export_encoder, train_encoder

        try:
            over = json.loads(args.model)
        except json.JSONDecodeError as e:
            raise FacerigError(f"--model is not JSON: {e}") from None
        model = EncoderConfig().to_dict()
        if not isinstance(over, dict) or set(over) - set(model):
            raise FacerigError(f"--model wants a JSON object of EncoderConfig fields; known: {sorted(model)}")
        model.update(over)
        cfg = EncoderTrainConfig(
            pool_dir=str(args.pool or ""),
            out_dir=args.out,
            time_limit_min=args.time_limit,
            steps=args.steps,
            lr=args.lr,
            poses=args.poses,
            threads=args.threads,
            seed=args.seed,
            weight_loss=args.weight_loss,
            disp_weight=args.disp_weight,
            model=model,
        )
        best = train_encoder(cfg, log=lambda s: print(s, flush=True))
        print(f"best checkpoint: {best}")
        if args.export is not None:
            print(f"wrote {export_encoder(best, args.export or None)}")
        return 0
    if args.action == "export":
        import torch

        from facerig.models.raf.weights import export_weights
        from facerig.train.encoder import export_encoder

        if "head_hidden" in torch.load(args.checkpoint, map_location="cpu", weights_only=False).get("config", {}):
            print(f"wrote {export_encoder(args.checkpoint, args.output, note=args.note)} (expression encoder)")
            return 0
        path = export_weights(args.checkpoint, args.output, note=args.note)
        print(f"wrote {path}")
        return 0
    if args.action == "average":
        from facerig.train.average import average_checkpoints

        w = [float(x) for x in args.weights.split(",")] if args.weights else None
        path = average_checkpoints(args.checkpoints, args.output, w)
        print(f"wrote {path} (mean of {len(args.checkpoints)} checkpoints)")
        return 0
    return 2
