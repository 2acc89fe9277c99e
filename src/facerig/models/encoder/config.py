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
    is decimated to (what it was trained on); n_fourier: octaves of sin/cos of xyz (periods 1 head
    width down to 2^-(n-1)); highpass: when > 0, also ``highpass x (xyz - its projection on the
    k_eig eigenvectors)``, the detail of the surface beyond the basis (lips, lids), scaled up;
    n_rff: random Fourier features ``cos(xyz . omega_j + phi_j)`` (omega_j ~ N(0, rff_sigma^2 I),
    fixed at construction and saved with the weights) pooled by the same mass-weighted mean and
    read by the head beside the DiffusionNet's pooled features: the surface's Fourier
    coefficients, a global shape descriptor that a pose changes where the face moves;
    n_attn: attention pools beside the mean: each a learned per-vertex score (a linear map of the
    DiffusionNet's features) softmax-normalised over the surface (times the vertex mass), pooling
    the features where it looks (a blink moves a tiny area that a mean over the head dilutes);
    output: ``"sigmoid"`` (weights = sigmoid of the head's output) or ``"linear"`` (the head's
    output clamped to [0, 1] at inference; trained unclamped with an L1 loss, so the gradient does
    not vanish where a sigmoid saturates); disp_head: a per-vertex linear map of the DiffusionNet's
    features to the vertex's displacement from the neutral (B,V,3), trained as an auxiliary dense
    target (:mod:`facerig.train.encoder`, ``disp_weight``) and unused at inference.
    """

    num_shapes: int = 52
    n_hks: int = 16
    width: int = 32
    n_block: int = 2
    head_hidden: int = 128
    k_eig: int = 64
    proxy_vertices: int = 2000
    n_fourier: int = 5
    highpass: float = 0.0
    n_rff: int = 512
    rff_sigma: float = 24.0
    n_attn: int = 0
    output: str = "sigmoid"
    disp_head: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def c_in(self) -> int:
        return 3 + self.n_hks + 6 * self.n_fourier + (3 if self.highpass else 0)

    @property
    def pooled(self) -> int:
        """Channels the head reads: mean pool, attention pools, random Fourier features."""
        return self.width * (1 + self.n_attn) + self.n_rff

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> EncoderConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)
