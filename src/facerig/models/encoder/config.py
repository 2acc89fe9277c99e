"""The expression encoder's configuration, free of torch: shared by the NumPy runtime
(:mod:`.runtime`), the torch network (:mod:`.network`) and training (:mod:`facerig.train.encoder`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class EncoderConfig:
    """Hyper-parameters of :class:`facerig.models.encoder.network.ExpressionEncoder` (saved with
    the weights).

    num_shapes: outputs (ARKit-52 order); n_hks: heat-kernel-signature channels appended to the
    posed proxy's xyz; width / n_block: the DiffusionNet; head_hidden: the MLP after pooling;
    k_eig: eigenpairs of the proxy's operators; proxy_vertices: the proxy size the posed mesh
    is decimated to (what it was trained on).
    """

    num_shapes: int = 52
    n_hks: int = 16
    width: int = 64
    n_block: int = 4
    head_hidden: int = 128
    k_eig: int = 64
    proxy_vertices: int = 2000
    extra: dict = field(default_factory=dict)

    @property
    def c_in(self) -> int:
        return 3 + self.n_hks

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EncoderConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)
