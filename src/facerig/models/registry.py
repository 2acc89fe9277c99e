"""The one interface every rigging method goes through.

A method is a function ``fn(mesh: Mesh, **options) -> MethodOutput`` registered under a
name. Modules are imported lazily (torch is only imported by methods that need it).

Methods:

- ``zero``  the zero rig (all deltas 0): the scale of the problem.
- ``dt``    deformation transfer (Sumner & Popovic 2004) from the ICT FaceKit template,
            given landmark correspondences (``landmarks=`` JSON path), plus non-rigid registration.
- ``raf``   the RigAnyFace network with the shipped weights.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from facerig import __version__
from facerig.errors import FacerigError
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig


@dataclass
class MethodOutput:
    """What a method returns.

    names: (K,) ARKit names; deltas: (K, V, 3) in the input mesh's units and vertex order;
    meta: method-specific notes (e.g. ``missing`` shapes it cannot produce).
    """

    names: list[str]
    deltas: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


# name -> "module:function"
METHODS: dict[str, str] = {
    "zero": "facerig.models.zero:rig_zero",
    "dt": "facerig.models.deformation_transfer:rig_deformation_transfer",
    "raf": "facerig.models.raf.method:rig_raf",
}


# Methods in order of preference for ``facerig rig`` without ``--method``. On the validation set
# (BENCHMARKS.md) raf is far better than deformation transfer on heads from other authors and
# families (the external rigs), several times faster end to end, and needs nothing but its
# shipped weights; dt is still more accurate on ICT-derived heads, so `--method dt` remains for
# ICT-like heads when the ICT FaceKit data is present.
PREFERENCE: tuple[str, ...] = ("raf", "dt")


def method_available(name: str) -> bool:
    """Whether ``name`` can run on this machine (weights / template data present)."""
    if name == "raf":
        try:
            from facerig.models.raf.weights import weights_available
            return bool(weights_available())
        except ImportError:
            return False
    if name == "dt":
        from facerig.config import ict_dir

        try:
            return ict_dir(required=False) is not None
        except Exception:  # noqa: BLE001 - a misconfigured path just means "not available"
            return False
    return name in METHODS


def default_method() -> str:
    """The first available method of :data:`PREFERENCE` (``zero`` if none is)."""
    for name in PREFERENCE:
        if method_available(name):
            return name
    return "zero"


def get_method(name: str) -> Callable[..., MethodOutput]:
    if name not in METHODS:
        raise FacerigError(f"unknown method {name!r}; choose one of: {', '.join(METHODS)}")
    mod, fn = METHODS[name].split(":")
    return getattr(importlib.import_module(mod), fn)


def rig_mesh(mesh: Mesh, method: str | None = None, parts: np.ndarray | None = None, **options: Any) -> Rig:
    """Rig ``mesh`` with ``method``; returns a :class:`Rig` in the input's units and order."""
    method = method or default_method()
    fn = get_method(method)
    t0 = time.perf_counter()
    out = fn(mesh, **options)
    seconds = time.perf_counter() - t0
    deltas = np.asarray(out.deltas, dtype=np.float32)
    if deltas.shape != (len(out.names), mesh.num_vertices, 3):
        raise RuntimeError(f"method {method} returned deltas {deltas.shape} for {mesh.num_vertices} vertices")
    meta = {"method": method, "facerig_version": __version__, "seconds": round(seconds, 3),
            "units": "input units (deltas are in the same units and frame as the input vertices)",
            "num_vertices": mesh.num_vertices, "source": mesh.source}
    meta.update(out.meta)
    return Rig(names=list(out.names), deltas=deltas, neutral=mesh.vertices, faces=mesh.faces,
               parts=parts, meta=meta)
