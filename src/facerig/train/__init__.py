"""Training of the RigAnyFace network: losses, the preprocessed sample pool, the loop.

- :mod:`facerig.train.losses`  paper terms (3D MSE, 2D landmarks, eye closure) + slots for 2D terms
- :mod:`facerig.train.dataset` pool of generator samples with proxy operators, query sampling
- :mod:`facerig.train.loop`    Adam + warm-up + cosine restarts, checkpoints, resume, log
"""
