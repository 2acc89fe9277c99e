"""Projection and (later) differentiable rendering used by the training losses.

- :mod:`facerig.render.camera`: the fixed frontal camera of the normalised head frame, used to
  project landmarks for the 2D landmark and eye-closure losses.
- A differentiable rasteriser (images, masks, 2D displacement fields for the paper's 2D losses)
  belongs in ``facerig.render.raster`` next to it, consuming the same :class:`FrontalCamera`.
"""

from facerig.render.camera import FrontalCamera

__all__ = ["FrontalCamera"]
