"""Hyper-parameters of the image inversion network (torch-free)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class ImageInversionConfig:
    """Dual-branch CNN sizes.

    Attributes:
        size: square input side in pixels (images are resized to it).
        channels: output channels of the four stride-2 stages of each branch.
        convs: 3x3 convolutions per stage (the first with stride 2).
        feature: per-branch feature size (after flattening the last (size / 16)^2 map).
        hidden: MLP hidden size.
        n_out: 52 ARKit weights (the head-presence logit is one more output).
        head: each branch's feature layer: ``"relu"`` (Linear + ReLU; the first shipped weights, whose
            features died during training) or ``"ln_leaky"`` (Linear + LayerNorm + LeakyReLU(0.1), and
            LeakyReLU in the MLP: no unit can go permanently silent).
    """

    size: int = 96
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)
    convs: tuple[int, int, int, int] = (1, 1, 2, 2)
    feature: int = 256
    hidden: int = 256
    n_out: int = 52
    head: str = "relu"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ImageInversionConfig:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("channels", "convs"):
            if k in kw:
                kw[k] = tuple(int(c) for c in kw[k])
        return cls(**kw)
