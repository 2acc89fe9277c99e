"""RigAnyFace (FACS-conditioned DiffusionNet + global encoder) in one package, a file per job.

- :mod:`.config`: :class:`RAFConfig` and the rig's proxy size, free of torch (shared by the
  runtime, the torch network and training).
- :mod:`.weights`: the weights file format, where the shipped weights are, loading
  (:func:`load_model`) and exporting a training checkpoint.
- :mod:`.runtime`: the network's forward pass in NumPy/SciPy (rigging needs no torch).
- :mod:`.network`: the same network in torch, for training (imports torch).
- :mod:`.probe`: the face probe, the head check, the orientation search, the face-measured frame.
- :mod:`.orientation`: the head check's and ``--auto-orient``'s use of the probe on the shape
  prior's first candidates (:mod:`facerig.geometry.orient`).
- :mod:`.method`: ``rig_raf``, the ``raf`` rigging method (proxy, both passes, transfer back).

Nothing here imports torch except :mod:`.network`; importing the package imports nothing heavy.
"""
