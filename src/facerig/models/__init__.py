"""Rigging methods and networks.

Every method is reached through :func:`facerig.models.registry.rig_mesh`.
"""
