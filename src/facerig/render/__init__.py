"""Projection and differentiable rendering (PyTorch, any device) for the 2D losses and rig inversion.

- :mod:`.camera`: the fixed frontal camera of the normalised head frame (landmark losses).
- :mod:`.cameras`: batched perspective cameras (FOV or focal length, R/T or look-at).
- :mod:`.rasterize`: nearest face, perspective-correct barycentrics and depth per pixel.
- :mod:`.interpolate`: per-vertex attributes -> per-pixel (colours, normals, 2D displacement).
- :mod:`.normals`, :mod:`.shading`, :mod:`.normal_map`: vertex normals, Lambert shading,
  camera-space normal maps (RGB = (n + 1) / 2).
- :mod:`.antialias`: antialiasing of silhouettes (against the background and between surfaces,
  through the mesh's silhouette edges: :mod:`.topology`) and the soft (differentiable) mask.
- :mod:`.displacement`: 2D displacement fields of a deformation (the paper's 2D displacement loss).
- :mod:`.renderer`: everything in one call; :mod:`.png`: PNG writer without Pillow.

Conventions: camera looks down its -Z, +Y up; screen pixels from the top-left corner, y down.
"""

from facerig.render.antialias import antialias, silhouette_crossings, soft_silhouette
from facerig.render.camera import FrontalCamera
from facerig.render.cameras import PerspectiveCameras, look_at_view_transform
from facerig.render.displacement import displacement_2d
from facerig.render.interpolate import interpolate_packed, interpolate_vertex_attributes, unpack_pixels
from facerig.render.normal_map import normal_map
from facerig.render.normals import face_normals, vertex_normals
from facerig.render.png import encode_png, write_png
from facerig.render.rasterize import Fragments, rasterize_meshes
from facerig.render.renderer import Rendering, project_and_rasterize, render_mesh
from facerig.render.shading import lambert_shade
from facerig.render.topology import face_neighbours

__all__ = [
    "Fragments",
    "FrontalCamera",
    "PerspectiveCameras",
    "Rendering",
    "antialias",
    "displacement_2d",
    "encode_png",
    "face_neighbours",
    "face_normals",
    "interpolate_packed",
    "interpolate_vertex_attributes",
    "lambert_shade",
    "look_at_view_transform",
    "normal_map",
    "project_and_rasterize",
    "rasterize_meshes",
    "render_mesh",
    "silhouette_crossings",
    "soft_silhouette",
    "unpack_pixels",
    "vertex_normals",
    "write_png",
]
