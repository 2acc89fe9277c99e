"""VRM avatars (``.vrm``): a glTF binary with a ``VRM`` (0.x) or ``VRMC_vrm`` (1.0) extension.

The mesh is read by the glTF reader (:func:`facerig.io.readers.read_gltf`: node transforms,
parts, materials; skins and the face mesh's own morph targets ignored). What VRM adds is a
declared facing, which the format fixes per version (glTF's +Y up in both):

- VRM 0.x (extension ``VRM``, UniVRM / VRoid Studio before 1.0): the model faces **-Z**;
- VRM 1.0 (extension ``VRMC_vrm``): the model faces **+Z**, like glTF itself.

:func:`vrm_axes` reads that declaration from the document, never from the shape.
"""

from __future__ import annotations

from typing import Any

VRM0, VRM1 = "VRM", "VRMC_vrm"


def vrm_axes(doc) -> dict[str, Any] | None:
    """The axes a VRM document declares, or None for a glTF without a VRM extension.

    Args:
        doc: a :class:`facerig.io.gltf_decode.GltfDocument`.

    Returns:
        ``{"up": "+y", "forward": "-z" | "+z", "vrm": "0.x" | "1.0", "spec_version": str | None,
        "why": one line for notes}``; ``VRMC_vrm`` wins when a file carries both extensions.

    Raises:
        MeshError: a VRM extension that is not a JSON object (corrupt extension data).
    """
    exts = doc.get_dict(doc.json, "extensions", "glTF")
    found = [name for name in (VRM1, VRM0) if name in exts]
    if not found:
        return None
    name = found[0]
    ext = exts[name]
    if not isinstance(ext, dict):
        raise doc.error(f"corrupt VRM extension: '{name}' must be an object, got {type(ext).__name__}")
    spec = ext.get("specVersion")
    spec = spec[:20] if isinstance(spec, str) else None
    if name == VRM1:
        return {
            "up": "+y",
            "forward": "+z",
            "vrm": "1.0",
            "spec_version": spec,
            "why": f"VRM 1.0 (VRMC_vrm{' ' + spec if spec else ''}) declares +Y up and the model facing +Z",
        }
    return {
        "up": "+y",
        "forward": "-z",
        "vrm": "0.x",
        "spec_version": spec,
        "why": f"VRM 0.x (VRM extension{' ' + spec if spec else ''}) declares +Y up and the model facing -Z",
    }


__all__ = ["VRM0", "VRM1", "vrm_axes"]
