"""Geometry on arrays: connected components, canonical frame, operators, remeshing, correspondence.

Submodules are imported on demand (``from facerig.geometry.frame import fit_frame``) so that
heavy optional dependencies of one module never slow down or break another.
"""
