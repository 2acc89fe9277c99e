"""meshopt-compressed glTF bufferViews (``EXT_meshopt_compression`` / ``KHR_meshopt_compression``).

gltfpack and glTF-Transform store vertex and index data compressed per bufferView: the view's
extension names the compressed bytes (``buffer``, ``byteOffset``, ``byteLength``) and how to
decode them (``count`` elements of ``byteStride`` bytes, ``mode`` ATTRIBUTES / TRIANGLES /
INDICES, ``filter`` NONE / OCTAHEDRAL / QUATERNION / EXPONENTIAL, and COLOR for the KHR
extension). :func:`decode_view` checks every one of those against the extension's rules and the
parent bufferView, then decodes with the optional ``meshopt`` package (meshoptimizer's own
decoder, release 1.3, as a wheel; imported only when a file needs it). The decoded bytes are the
parent bufferView's bytes: accessors read them exactly as they would uncompressed data, so the
vertex order is the file's (the order the compressor chose), nothing is re-sorted.

Every problem raises :class:`facerig.errors.MeshError` with one line naming it (through
``doc.error``): a missing decoder (with the pip command), a malformed extension, lengths that do
not agree, or a stream the decoder rejects (corrupt or truncated).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the two names of the same bufferView codec (EXT first, the Khronos one since 2025)
MESHOPT_EXTENSIONS = ("EXT_meshopt_compression", "KHR_meshopt_compression")
MESHOPT_HINT = "meshopt-compressed glTF needs the meshopt decoder: pip install meshopt"
_MODES = ("ATTRIBUTES", "TRIANGLES", "INDICES")
_FILTERS = {
    "EXT_meshopt_compression": ("NONE", "OCTAHEDRAL", "QUATERNION", "EXPONENTIAL"),
    "KHR_meshopt_compression": ("NONE", "OCTAHEDRAL", "QUATERNION", "EXPONENTIAL", "COLOR"),
}


def view_extension(doc, bv: dict, where: str) -> tuple[str, dict] | None:
    """The meshopt extension of bufferView JSON ``bv`` -> (extension name, its object), or None."""
    exts = doc.get_dict(bv, "extensions", where)
    for name in MESHOPT_EXTENSIONS:
        if name in exts:
            ext = exts[name]
            if not isinstance(ext, dict):
                raise doc.error(f"{where}: '{name}' must be an object")
            return name, ext
    return None


def decoder_available() -> bool:
    """True when the ``meshopt`` package can be imported (checked without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("meshopt") is not None
    except (ImportError, ValueError):
        return False


def decode_view(doc, name: str, ext: dict, length: int, stride: int | None, where: str) -> bytes:
    """Decode one compressed bufferView.

    Args:
        doc: the :class:`facerig.io.gltf_decode.GltfDocument` (buffers, limits, errors).
        name: the extension's name (:data:`MESHOPT_EXTENSIONS`).
        ext: the extension object of the bufferView.
        length: the parent bufferView's ``byteLength`` (the decoded size, count * byteStride).
        stride: the parent bufferView's ``byteStride`` or None.
        where: ``"bufferView i"`` for messages.

    Returns:
        The decoded bytes, exactly ``length`` of them.

    Raises:
        MeshError: no decoder, malformed extension, lengths that disagree, corrupt stream.
    """
    w = f"{where} {name}"
    buf = doc.get_int(ext, "buffer", w, default=None)
    off = doc.get_int(ext, "byteOffset", w, default=0)
    clen = doc.get_int(ext, "byteLength", w, default=None)
    estride = doc.get_int(ext, "byteStride", w, default=None, minimum=1)
    count = doc.get_int(ext, "count", w, default=None)
    for key, value in (("buffer", buf), ("byteLength", clen), ("byteStride", estride), ("count", count)):
        if value is None:
            raise doc.error(f"{w}: '{key}' is missing")
    mode, filt = ext.get("mode"), ext.get("filter", "NONE")
    if mode not in _MODES:
        raise doc.error(f"{w}: 'mode' must be one of {', '.join(_MODES)}, got {str(mode)[:40]!r}")
    if filt not in _FILTERS[name]:
        raise doc.error(f"{w}: 'filter' must be one of {', '.join(_FILTERS[name])}, got {str(filt)[:40]!r}")
    if stride is not None and stride != estride:
        raise doc.error(f"{w}: byteStride {estride} differs from the bufferView's byteStride {stride}")
    if estride * count != length:
        raise doc.error(
            f"{w}: {count} elements of {estride} bytes ({estride * count} bytes) do not fill the bufferView's "
            f"byteLength {length}"
        )
    if mode == "ATTRIBUTES":
        if estride % 4 or estride > 256:
            raise doc.error(f"{w}: ATTRIBUTES need a byteStride divisible by 4 and at most 256, got {estride}")
        need = {"OCTAHEDRAL": (4, 8), "QUATERNION": (8,), "COLOR": (4, 8)}.get(filt)
        if need is not None and estride not in need:
            raise doc.error(f"{w}: filter {filt} needs a byteStride of {' or '.join(map(str, need))}, got {estride}")
    else:
        if estride not in (2, 4):
            raise doc.error(f"{w}: {mode} need a byteStride of 2 or 4, got {estride}")
        if filt != "NONE":
            raise doc.error(f"{w}: filter {filt} is only allowed with ATTRIBUTES, not {mode}")
        if mode == "TRIANGLES" and count % 3:
            raise doc.error(f"{w}: TRIANGLES need a count divisible by 3, got {count}")
    data = doc.buffer(buf)
    if off + clen > len(data):
        raise doc.error(
            f"{w}: compressed bytes (offset {off} + length {clen}) run past buffer {buf} ({len(data)} bytes)"
        )
    doc._count(length, f"{w}: decoded data")
    if count == 0:
        return b""
    try:
        import meshopt
    except ImportError:
        raise doc.error(MESHOPT_HINT) from None
    src = np.frombuffer(memoryview(data)[off : off + clen], np.uint8)
    try:
        out = meshopt.decode_gltf_buffer(src, count, estride, mode, None if filt == "NONE" else filt)
    except (ValueError, RuntimeError, TypeError, MemoryError) as e:
        raise doc.error(
            f"{w}: cannot decode the compressed data ({_first_line(e)[:80]}): corrupt or truncated"
        ) from None
    raw = np.ascontiguousarray(out).view(np.uint8).reshape(-1)
    if raw.size != length:
        raise doc.error(f"{w}: the decoder gave {raw.size} bytes for a {length}-byte bufferView")
    return raw.tobytes()


def is_fallback_buffer(doc, index: Any) -> bool:
    """True for a buffer tagged ``{"extensions": {"EXT_meshopt_compression": {"fallback": true}}}``."""
    b = doc.item("buffers", index, "buffer")
    exts = b.get("extensions")
    if not isinstance(exts, dict):
        return False
    return any(isinstance(exts.get(n), dict) and exts[n].get("fallback") is True for n in MESHOPT_EXTENSIONS)


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else e.__class__.__name__


__all__ = [
    "MESHOPT_EXTENSIONS",
    "MESHOPT_HINT",
    "decode_view",
    "decoder_available",
    "is_fallback_buffer",
    "view_extension",
]
