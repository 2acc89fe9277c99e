"""RigAnyFace's configuration, free of torch: shared by the NumPy runtime (:mod:`.runtime`), the
torch network (:mod:`.network`) and training.

- :class:`RAFConfig`: the network's hyper-parameters, saved with the weights (``config`` in the
  weights file, :mod:`.weights`).
- :data:`RIG_PROXY_VERTICES`: the proxy size rigging runs the network on (:mod:`.method`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class RAFConfig:
    """Hyper-parameters of :class:`RigAnyFace` (saved with the weights)."""

    num_shapes: int = 52
    n_hks: int = 16
    n_fourier: int = 0
    n_local: int = 0
    width: int = 128
    n_trunk: int = 4
    global_width: int = 64
    global_dim: int = 64
    cond_width: int = 32
    n_cond: int = 2
    k_eig: int = 128
    use_global: bool = True
    use_basis: bool = True
    cross_part: bool = False
    output_scale: float = 0.1
    extra: dict = field(default_factory=dict)

    @property
    def c_in(self) -> int:
        return 3 + self.n_hks + 6 * self.n_fourier + self.n_local

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RAFConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


#: Proxy size for rigging. The network was trained on ~5k-vertex proxies
#: (``facerig train pool``), but it is triangulation-agnostic, and a denser proxy loses less
#: detail when its displacements are carried back to the input: on the 26,719-vertex unseen
#: heads the error falls from 5k to 8k vertices (BENCHMARKS.md, "Inference settings", where the
#: weights measured and the command are given). The network's cost grows with it
#: (BENCHMARKS.md, "Rig speed").
RIG_PROXY_VERTICES = 8000
