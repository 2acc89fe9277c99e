"""facerig: turn a static 3D head mesh into an ARKit-52 FACS blendshape rig.

Packages, by concern (PyTorch3D-style separation):

- :mod:`facerig.io`        mesh and rig formats (read any head faithfully, write rigs)
- :mod:`facerig.geometry`  Laplacian, eigenbasis, gradients, remeshing, correspondence, frames
- :mod:`facerig.data`      head families (ICT FaceKit, MakeHuman) and the sample generator
- :mod:`facerig.models`    rigging methods: zero rig, deformation transfer, RigAnyFace network
- :mod:`facerig.render`    projection / rasterisation (2D losses; later issues)
- :mod:`facerig.train`     training loops and losses
- :mod:`facerig.eval`      metrics and the evaluation harness
"""

__version__ = "0.1.0"
