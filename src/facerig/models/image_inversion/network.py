"""The dual-branch network (torch): one small CNN per modality (RGB, normal map), features
concatenated with the modality flags, an MLP to the 52 ARKit weights and a head-presence logit.

A missing modality (``use[:, m] = 0``) replaces that branch's features by a learned vector, so one
network reads RGB only, normals only or both.
"""

from __future__ import annotations

import torch
from torch import nn

from facerig.errors import FacerigError
from facerig.models.image_inversion.config import ImageInversionConfig

HEADS = ("relu", "ln_leaky")


def _block(cin: int, cout: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [
            nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=2 if i == 0 else 1, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers)


class Branch(nn.Module):
    """(B, 3, S, S) image in [0, 1] -> (B, feature)."""

    def __init__(self, config: ImageInversionConfig) -> None:
        super().__init__()
        if config.head not in HEADS:
            raise FacerigError(f"unknown image inversion branch head {config.head!r} (one of {', '.join(HEADS)})")
        chans = (3, *config.channels)
        self.convs = nn.Sequential(*[_block(a, b, n) for a, b, n in zip(chans[:-1], chans[1:], config.convs)])
        side = config.size // 16
        flat = nn.Linear(chans[-1] * side * side, config.feature)
        if config.head == "ln_leaky":
            self.fc = nn.Sequential(nn.Flatten(), flat, nn.LayerNorm(config.feature), nn.LeakyReLU(0.1))
        else:
            self.fc = nn.Sequential(nn.Flatten(), flat, nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x * 2.0 - 1.0))


class ImageInversionNet(nn.Module):
    """``forward(rgb (B,3,S,S), normals (B,3,S,S), use (B,2)) -> (weights (B,52), head_logit (B,))``.

    The weights are a linear output (a sigmoid would starve the gradient of the many weights near 0),
    clamped to [0, 1] in eval mode only, so training sees the raw values.
    """

    def __init__(self, config: ImageInversionConfig | None = None) -> None:
        super().__init__()
        self.config = config or ImageInversionConfig()
        c = self.config
        self.rgb = Branch(c)
        self.normals = Branch(c)
        self.missing = nn.Parameter(torch.zeros(2, c.feature))
        self.mlp = nn.Sequential(
            nn.Linear(2 * c.feature + 2, c.hidden),
            nn.LeakyReLU(0.1) if c.head == "ln_leaky" else nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Linear(c.hidden, c.n_out + 1),
        )

    def forward(self, rgb: torch.Tensor, normals: torch.Tensor, use: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = use.to(rgb.dtype)
        f_rgb = self.rgb(rgb) * u[:, :1] + self.missing[0] * (1 - u[:, :1])
        f_nrm = self.normals(normals) * u[:, 1:] + self.missing[1] * (1 - u[:, 1:])
        out = self.mlp(torch.cat([f_rgb, f_nrm, u], dim=1))
        w = out[:, :-1]
        return (w if self.training else w.clamp(0.0, 1.0)), out[:, -1]
