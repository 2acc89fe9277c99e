"""Expression encoder (Neural Face Rigging's, Qin et al. 2023): ARKit-52 weights of a posed head
without its neutral.

- :mod:`.config`: :class:`~.config.EncoderConfig` (hyper-parameters, saved with the weights).
- :mod:`.network`: the torch network (training).
- :mod:`.runtime`: the same function in NumPy (inference, no torch) and :func:`~.runtime.encode_frames`
  (posed meshes -> (T, 52) weights).
- :mod:`.weights`: where the shipped weights are and loading them (file format:
  :mod:`facerig.models.raf.weights`).
"""
