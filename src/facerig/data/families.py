"""Head families: parametric sources of (neutral, ARKit deltas) pairs for training/evaluation.

A family (:class:`HeadFamily`) has a fixed topology and produces random identities
(``sample_neutral``) and their ground-truth blendshapes (``deltas_for``).

Identity split (train vs held-out): every random draw goes through :func:`split_rng`, which seeds
``numpy.random.default_rng(SeedSequence([seed, SPLIT_TAGS[split]]))``. The ``"train"`` and
``"eval"`` streams are different SeedSequence entropy pools, so identity ``seed=s`` of the eval
split is never the identity of any training seed (the PCA weights are continuous draws from
independent streams; no training seed reproduces an eval identity). The bundled example uses
its own ``"example"`` stream. Training code must only use ``split="train"``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

#: SeedSequence tag per split (see module doc).
SPLIT_TAGS: dict[str, int] = {"train": 0, "eval": 1, "example": 2}


def split_rng(seed: int, split: str = "train", *stream: int) -> np.random.Generator:
    """Deterministic generator for ``seed`` in ``split`` (optionally a numbered sub-stream)."""
    if split not in SPLIT_TAGS:
        raise ValueError(f"unknown split {split!r} (expected one of {sorted(SPLIT_TAGS)})")
    return np.random.default_rng(np.random.SeedSequence([int(seed), SPLIT_TAGS[split], *stream]))


@runtime_checkable
class HeadFamily(Protocol):
    """What the sample generator needs from a head family.

    Attributes:
        name: short family name (``"ict"``, ``"makehuman"``).
        faces: (F, 3) int64 triangles of the family topology.
        parts: (V,) int64 connected-component labels.
        regions: (V,) int64 index into ``region_names``.
        region_names: semantic region names (ICT names: ``face``, ``head_neck``, ``eyeball_left``...).
        landmarks68: (68,) int64 Multi-PIE landmark vertices, or None.
        names: (K,) ARKit names of ``deltas_for``.
        mm_per_unit: millimetres per mesh unit.
    """

    name: str
    faces: np.ndarray
    parts: np.ndarray
    regions: np.ndarray
    region_names: tuple[str, ...]
    landmarks68: np.ndarray | None
    names: list[str]
    mm_per_unit: float

    def sample_neutral(self, rng: np.random.Generator, exaggeration: float = 1.0) -> np.ndarray:
        """A random identity's neutral (V, 3) float64."""
        ...

    def deltas_for(self, neutral: np.ndarray) -> np.ndarray:
        """Ground-truth ARKit deltas (K, V, 3) float32 for ``neutral`` (V, 3)."""
        ...


class ICTFamily:
    """ICT FaceKit identities (26,719 vertices, cm) with ICT's 51 ARKit shapes.

    ``sample_neutral(rng, e)`` = neutral + sum_i w_i mode_i, w_i ~ N(0, e^2) over the 100 modes
    (e = 1: the PCA prior; e = 2.5-3: exaggerated, caricature-like identities).
    ``deltas_for`` returns the same deltas for every identity (ICT's light model).

    Extra attributes for writing OBJs like the original: ``polygons``, ``uv``, ``uv_faces``,
    ``template`` (V, 3) generic neutral.
    """

    name = "ict"

    def __init__(self, model=None, num_modes: int = 100) -> None:
        from facerig.data.ict import load_ict

        self.model = model if model is not None else load_ict()
        m = self.model
        self.num_modes = int(num_modes)
        self.faces = m.faces
        self.parts = m.parts
        self.regions = m.regions
        self.region_names = tuple(m.region_names)
        self.landmarks68 = m.landmarks68
        self.names, self._deltas = m.arkit()
        self.mm_per_unit = float(m.mm_per_unit)
        self.polygons = m.polygons
        self.uv = m.uv
        self.uv_faces = m.uv_faces
        self.template = m.neutral
        self._modes = m.identity_modes[: self.num_modes].reshape(self.num_modes, -1)

    @property
    def num_vertices(self) -> int:
        return int(self.template.shape[0])

    def identity_weights(self, rng: np.random.Generator, exaggeration: float = 1.0) -> np.ndarray:
        """(num_modes,) float64 weights ~ N(0, exaggeration^2)."""
        return rng.normal(0.0, float(exaggeration), size=self.num_modes)

    def neutral_from_weights(self, w: np.ndarray) -> np.ndarray:
        """(V, 3) float64 neutral for identity weights ``w`` (num_modes,)."""
        w = np.asarray(w, dtype=np.float32)
        return self.template + (w @ self._modes).reshape(-1, 3).astype(np.float64)

    def sample_neutral(self, rng: np.random.Generator, exaggeration: float = 1.0) -> np.ndarray:
        return self.neutral_from_weights(self.identity_weights(rng, exaggeration))

    def deltas_for(self, neutral: np.ndarray) -> np.ndarray:
        return self._deltas


_FAMILIES: dict[str, object] = {}


def get_family(name: str = "ict") -> HeadFamily:
    """Family by name (``"ict"`` or ``"makehuman"``), constructed once per process."""
    if name not in _FAMILIES:
        if name == "ict":
            _FAMILIES[name] = ICTFamily()
        elif name == "makehuman":
            from facerig.data.makehuman import MakeHumanFamily

            _FAMILIES[name] = MakeHumanFamily()
        else:
            raise ValueError(f"unknown head family {name!r} (ict, makehuman)")
    return _FAMILIES[name]  # type: ignore[return-value]
