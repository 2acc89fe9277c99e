"""Training / evaluation data: head families, the sample generator and the validation set.

- :mod:`facerig.data.ict`        ICT FaceKit loader (``load_ict``), NPZ-cached, ARKit mapping.
- :mod:`facerig.data.makehuman`  MakeHuman hm08 head cut, macro/regional identities, face units.
- :mod:`facerig.data.families`   ``HeadFamily`` protocol, ``ICTFamily``, ``get_family``,
  train/eval identity split (``split_rng``).
- :mod:`facerig.data.generator`  ``generate_sample`` and its independent augmentation steps.
- :mod:`facerig.data.evalset`    the fixed validation set (``facerig data make-eval``).
- :mod:`facerig.data.landmarks`  automatic 68-landmark placement for heads without ICT
  correspondence.

Submodules are imported on demand (nothing heavy happens at ``import facerig.data``).
"""
