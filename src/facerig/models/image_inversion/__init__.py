"""Image-based rig inversion: ARKit-52 weights from an RGB image and/or a camera-space normal map.

- :mod:`.config`: :class:`ImageInversionConfig` (torch-free; saved with the weights).
- :mod:`.network`: the dual-branch CNN (torch).
- :mod:`.weights`: the weights file format, the shipped weights path.
- :mod:`.images`: reading and preparing images (Pillow; alpha, grayscale, any size).
- :mod:`.mirror`: the mirror test-time augmentation (mirror images, Left / Right weight swap).
- :mod:`.infer`: :func:`invert_images` (the Python API behind ``facerig invert-image``).

torch is optional for the rest of facerig; this model needs it (``pip install torch``).
"""
