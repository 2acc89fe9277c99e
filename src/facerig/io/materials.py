"""Materials and textures carried from an input mesh to the glTF output.

A :class:`MaterialSet` is a self-contained piece of glTF: ``materials`` / ``textures`` /
``samplers`` as glTF JSON objects whose indices point into the set's own lists, and ``images``
as encoded bytes (PNG / JPEG, or what a texture extension allows). Readers fill it
(:func:`materials_from_gltf` for glTF / GLB input, :func:`facerig.io.mtl.materials_from_obj`
for OBJ + MTL); :func:`facerig.io.gltf.save_rig_gltf` embeds it (images as bufferViews).
A mesh keeps it in ``mesh.info["gltf_materials"]``; ``mesh.info["face_material"]`` (F,) indexes
``materials`` (-1: no material).
"""

from __future__ import annotations

import copy
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from facerig.errors import FacerigError

#: image MIME types glTF 2.0 core allows; others need an extension on the texture
CORE_MIME = ("image/png", "image/jpeg")


@dataclass
class MaterialSet:
    """glTF materials with their textures, samplers and images (bytes), self-contained.

    Attributes:
        materials: glTF material objects; texture ``index`` values point into ``textures``.
        textures: glTF texture objects; ``source`` into ``images``, ``sampler`` into ``samplers``.
        samplers: glTF sampler objects.
        images: dicts ``{"data": bytes, "mimeType": str, "name": str | None}``.
        extensions_used: extension names the objects above use.
        extensions_required: the subset the source file required.
        notes: what was dropped or replaced on the way (one line each).
    """

    materials: list[dict] = field(default_factory=list)
    textures: list[dict] = field(default_factory=list)
    samplers: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    extensions_used: list[str] = field(default_factory=list)
    extensions_required: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def without_textures(self) -> MaterialSet:
        """The same materials with every texture reference removed (for meshes without UVs)."""
        mats = []
        for m in self.materials:
            m = copy.deepcopy(m)
            _strip_textures(m, keep=lambda i: False)
            mats.append(m)
        used = sorted({e for m in mats for e in _extension_names(m)})
        return MaterialSet(
            materials=mats,
            extensions_used=used,
            extensions_required=[e for e in self.extensions_required if e in used],
            notes=self.notes + ["textures dropped: the output has no UVs"],
        )


def sniff_mime(data: bytes) -> str | None:
    """Image MIME type from the first bytes (PNG, JPEG, WebP, KTX2) or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:12] == b"\xabKTX 20\xbb\r\n\x1a\n":
        return "image/ktx2"
    return None


def white_png() -> bytes:
    """A 1x1 opaque white PNG (stands in for a texture image that cannot be read)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def _extension_names(obj: Any) -> set[str]:
    """Names of every ``extensions`` key anywhere inside a JSON object."""
    out: set[str] = set()
    if isinstance(obj, dict):
        ext = obj.get("extensions")
        if isinstance(ext, dict):
            out |= set(ext)
        for v in obj.values():
            out |= _extension_names(v)
    elif isinstance(obj, list):
        for v in obj:
            out |= _extension_names(v)
    return out


def _strip_textures(obj: Any, keep) -> int:
    """Remove textureInfo objects (``*Texture`` keys) whose ``index`` fails ``keep``; texCoord -> 0.
    Returns how many were removed."""
    removed = 0
    if isinstance(obj, dict):
        for k in list(obj):
            v = obj[k]
            if k.endswith("Texture") and isinstance(v, dict) and "index" in v:
                if not keep(v.get("index")):
                    del obj[k]
                    removed += 1
                    continue
                v.pop("texCoord", None)  # the output has TEXCOORD_0 only
            removed += _strip_textures(v, keep)
    elif isinstance(obj, list):
        for v in obj:
            removed += _strip_textures(v, keep)
    return removed


def materials_from_gltf(doc) -> MaterialSet | None:
    """The materials of a parsed glTF (:class:`facerig.io.gltf_decode.GltfDocument`), or None.

    Every material, texture, sampler and image is kept, in the file's order (so material ``i``
    of the set is material ``i`` of the file). Images are read from their bufferView / data URI
    / file inside the glTF's folder; one that cannot be read (missing, unsafe path, too large)
    becomes a 1x1 white PNG and a note. Texture references to missing textures are removed.
    """
    mats = doc.items("materials")
    if not mats:
        return None
    textures = [copy.deepcopy(t) for t in doc.items("textures")]
    samplers = [copy.deepcopy(s) for s in doc.items("samplers")]
    images_json = doc.items("images")
    notes: list[str] = []
    images = []
    for i, img in enumerate(images_json):
        try:
            data, mime = doc.image_bytes(i)
        except FacerigError as e:
            notes.append(f"image {i} replaced by a white pixel ({str(e).split(': ', 1)[-1]})")
            data, mime = white_png(), "image/png"
        mime = mime or sniff_mime(data)
        if mime is None:
            notes.append(f"image {i} replaced by a white pixel (unknown image format)")
            data, mime = white_png(), "image/png"
        images.append({"data": data, "mimeType": mime, "name": img.get("name")})
    for t in textures:
        for key, n in (("source", len(images)), ("sampler", len(samplers))):
            v = t.get(key)
            if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n):
                t.pop(key)
                notes.append(f"texture {key} {v!r} out of range: removed")
    materials = [copy.deepcopy(m) for m in mats]
    nt = len(textures)
    removed = sum(
        _strip_textures(m, lambda i: isinstance(i, int) and not isinstance(i, bool) and 0 <= i < nt) for m in materials
    )
    if removed:
        notes.append(f"{removed} texture references to missing textures removed")
    used = sorted(
        _extension_names(materials)
        | _extension_names(textures)
        | _extension_names(samplers)
        | _extension_names(list(images_json))
    )
    req = doc.json.get("extensionsRequired") or []
    required = sorted(e for e in used if isinstance(req, list) and e in req)
    return MaterialSet(
        materials=materials,
        textures=textures,
        samplers=samplers,
        images=images,
        extensions_used=used,
        extensions_required=required,
        notes=notes,
    )


__all__ = ["CORE_MIME", "MaterialSet", "materials_from_gltf", "sniff_mime", "white_png"]
