"""Mesh and rig formats. Readers keep the file's vertex count and order exactly."""
