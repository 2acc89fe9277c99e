"""Evaluation: metrics (mm), the eval-set harness behind ``facerig eval``, and report tables.

- :mod:`facerig.eval.metrics`  per-shape / per-head errors and the interpenetration ratio
- :mod:`facerig.eval.harness`  :func:`~facerig.eval.harness.evaluate` over ``DIR/index.json``
- :mod:`facerig.eval.report`   rich and markdown tables
- :mod:`facerig.eval.check`    ``facerig check``: audit of any rig with no ground truth (with
  :mod:`facerig.geometry.face_parts` (skin, eyes, mouth parts), :mod:`facerig.geometry.raycast` (front ray cast), ``check_contact``)
"""
