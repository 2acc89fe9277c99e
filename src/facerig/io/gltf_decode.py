"""The one glTF 2.0 document loader and accessor decoder, used by every glTF reader of facerig.

:func:`load_document` parses a ``.glb`` (binary container) or ``.gltf`` (JSON) file into a
:class:`GltfDocument`; ``doc.accessor(i)`` decodes accessor ``i`` to a ``(count, ncomp)`` array
(byteStride, sparse substitution, normalised integers as the glTF spec defines them), and
``doc.buffer_view(i)`` / ``doc.image_bytes(i)`` give raw bytes (images, Draco streams); a
meshopt-compressed bufferView (``EXT_meshopt_compression`` / ``KHR_meshopt_compression``) gives
its decoded bytes (:mod:`facerig.io.gltf_meshopt`), so accessors never see the compression.
The mesh reader (:func:`facerig.io.readers.read_gltf`), the rig reader
(:func:`facerig.io.gltf.read_rig_gltf`) and the viewer's animation reader all go through it.

Safety (a glTF names other files and sizes; none of them is trusted):

- every size and index in the JSON is checked against what exists (accessor ``count * stride``
  inside its bufferView, bufferView inside its buffer, buffer inside the GLB chunk or file);
- external buffer / image URIs must stay inside the glTF file's folder: absolute paths,
  ``..`` (also percent-encoded), URL schemes and symlinks that lead out of the folder are
  refused, and so is anything that is not a regular file (``/dev/zero``, FIFOs, folders);
- an external buffer is read for exactly its declared ``byteLength`` after checking the file
  is that large; ``data:`` URIs are size-checked before they are decoded;
- one cap (``max_bytes``, default :data:`DEFAULT_MAX_BYTES` = 2 GiB) bounds the file itself,
  each buffer / image, the bytes read in all, and what an accessor may allocate; an accessor
  without a bufferView (zeros, e.g. a sparse morph target) may ask for at most 16 times the
  bytes the file and its buffers hold (or 64 MiB), so a tiny file cannot demand gigabytes.

Every problem raises :class:`facerig.errors.MeshError` with a one-line message naming it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

import numpy as np

from facerig.errors import MeshError
from facerig.io import gltf_meshopt

#: default cap on the glTF/GLB file, on each buffer or image, and on the bytes read in all
DEFAULT_MAX_BYTES = 2 * 1024**3

COMPONENT_TYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
NUM_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
INDEX_TYPES = (5121, 5123, 5125)
_GLB_MAGIC, _CHUNK_JSON, _CHUNK_BIN = b"glTF", 0x4E4F534A, 0x004E4942
_ZEROS_FLOOR = 64 * 1024**2  # an accessor without data may always ask for this many bytes of zeros
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class GltfDocument:
    """A parsed glTF: ``json`` (the document dict), buffers loaded on first use.

    Attributes:
        path: the file read.
        json: the glTF JSON as a dict.
        glb_bin: the GLB's BIN chunk (bytes) or None.
        max_bytes: the size cap (see module doc).
    """

    def __init__(self, path: Path, doc: dict, glb_bin: bytes | None, max_bytes: int, file_size: int = 0) -> None:
        self.path = path
        self.file_size = file_size
        self.json = doc
        self.glb_bin = glb_bin
        self.max_bytes = max_bytes
        self._buffers: dict[int, bytes] = {}
        self._decoded: dict[int, bytes] = {}  # meshopt-compressed bufferViews, decoded
        self._read_total = 0

    @property
    def decoded_views(self) -> int:
        """How many meshopt-compressed bufferViews were decoded so far."""
        return len(self._decoded)

    # ------------------------------------------------------------------ JSON helpers

    def error(self, message: str) -> MeshError:
        """A MeshError ``"<path>: <message>"`` (message on one line)."""
        return MeshError(f"{self.path}: {' '.join(str(message).split())}")

    def items(self, key: str) -> list:
        """Top-level array ``key`` (e.g. ``"accessors"``) as a list of dicts ([] when absent)."""
        v = self.json.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.error(f"glTF '{key}' must be an array of objects")
        return v

    def item(self, key: str, index: Any, what: str | None = None) -> dict:
        """Element ``index`` of top-level array ``key``; MeshError naming ``what`` if out of range."""
        arr = self.items(key)
        if not _is_int(index) or not 0 <= index < len(arr):
            raise self.error(f"{what or key} index {index!r} is out of range (the file has {len(arr)} {key})")
        return arr[index]

    def get_int(self, obj: dict, key: str, where: str, default: Any = None, minimum: int = 0) -> Any:
        """``obj[key]`` as an int >= ``minimum`` (``default`` when absent)."""
        v = obj.get(key, default)
        if v is default and key not in obj:
            return default
        if not _is_int(v) or v < minimum:
            raise self.error(f"{where}: '{key}' must be an integer >= {minimum}, got {v!r}")
        return v

    def get_dict(self, obj: dict, key: str, where: str) -> dict:
        """``obj[key]`` as a dict ({} when absent)."""
        v = obj.get(key, {})
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise self.error(f"{where}: '{key}' must be an object")
        return v

    def numbers(self, obj: dict, key: str, n: int, where: str) -> np.ndarray | None:
        """``obj[key]`` as a finite float64 array of length ``n`` (None when absent)."""
        v = obj.get(key)
        if v is None:
            return None
        if (
            not isinstance(v, list)
            or len(v) != n
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        ):
            raise self.error(f"{where}: '{key}' must be {n} numbers")
        a = np.asarray(v, dtype=np.float64)
        if not np.isfinite(a).all():
            raise self.error(f"{where}: '{key}' has a non-finite number")
        return a

    # ------------------------------------------------------------------ bytes

    def _count(self, n: int, what: str) -> None:
        if n > self.max_bytes:
            raise self.error(f"{what} is {n} bytes, over the {self.max_bytes}-byte limit")
        self._read_total += n
        if self._read_total > self.max_bytes:
            raise self.error(f"the glTF's buffers and images add up to over the {self.max_bytes}-byte limit")

    def _uri_bytes(self, uri: Any, what: str, length: int | None) -> bytes:
        """Bytes of a ``data:`` URI or of a file inside the glTF's folder (``length``: exact bytes to read)."""
        if not isinstance(uri, str) or not uri:
            raise self.error(f"{what}: 'uri' must be a non-empty string")
        if uri.startswith("data:"):
            head, sep, payload = uri.partition(",")
            if not sep:
                raise self.error(f"{what}: malformed data: URI (no comma)")
            if head.endswith(";base64"):
                if len(payload) // 4 * 3 > self.max_bytes:
                    raise self.error(f"{what}: data: URI is over the {self.max_bytes}-byte limit")
                try:
                    data = base64.b64decode(payload)
                except (binascii.Error, ValueError):
                    raise self.error(f"{what}: data: URI is not valid base64") from None
            else:
                if len(payload) > 3 * self.max_bytes:
                    raise self.error(f"{what}: data: URI is over the {self.max_bytes}-byte limit")
                data = unquote_to_bytes(payload)
            self._count(len(data), what)
            if length is not None:
                if len(data) < length:
                    raise self.error(f"{what}: data: URI holds {len(data)} bytes, fewer than its byteLength {length}")
                data = data[:length]
            return data
        f = self._confined(uri, what)
        try:
            st = os.stat(f)
        except OSError as e:
            raise self.error(f"{what}: file {uri!r} cannot be read ({e.strerror or e})") from None
        if not stat.S_ISREG(st.st_mode):
            raise self.error(f"{what}: {uri!r} is not a regular file")
        n = st.st_size if length is None else length
        if length is not None and st.st_size < length:
            raise self.error(f"{what}: file {uri!r} is {st.st_size} bytes, shorter than its byteLength {length}")
        self._count(n, what)
        try:
            with open(f, "rb") as fh:
                data = fh.read(n)
        except OSError as e:
            raise self.error(f"{what}: file {uri!r} cannot be read ({e.strerror or e})") from None
        if len(data) < n:
            raise self.error(f"{what}: file {uri!r} ended after {len(data)} of {n} bytes")
        return data

    def _confined(self, uri: str, what: str) -> Path:
        try:
            return confined_file(self.path.parent, uri, what)
        except MeshError as e:
            raise self.error(str(e)) from None

    def buffer(self, index: Any) -> bytes:
        """Buffer ``index`` as bytes, exactly ``byteLength`` long."""
        if _is_int(index) and index in self._buffers:
            return self._buffers[index]
        b = self.item("buffers", index, "buffer")
        what = f"buffer {index}"
        length = self.get_int(b, "byteLength", what, default=None)
        if length is None:
            raise self.error(f"{what}: 'byteLength' is missing")
        if length > self.max_bytes:
            raise self.error(f"{what}: byteLength {length} is over the {self.max_bytes}-byte limit")
        uri = b.get("uri")
        if uri is None:
            if self.glb_bin is None:
                raise self.error(f"{what} has no uri and the file has no GLB binary chunk")
            if index != 0:
                raise self.error(f"{what} has no uri (only buffer 0 may use the GLB binary chunk)")
            if len(self.glb_bin) < length:
                raise self.error(
                    f"{what}: GLB binary chunk holds {len(self.glb_bin)} bytes, fewer than its byteLength {length}"
                )
            data = self.glb_bin[:length]
        else:
            data = self._uri_bytes(uri, what, length)
        self._buffers[index] = data
        return data

    def buffer_view(self, index: Any, what: str = "") -> tuple[memoryview, int | None]:
        """BufferView ``index`` -> (its bytes as a memoryview, byteStride or None)."""
        bv = self.item("bufferViews", index, f"{what}bufferView".strip())
        where = f"bufferView {index}"
        buf_i = self.get_int(bv, "buffer", where, default=None)
        if buf_i is None:
            raise self.error(f"{where}: 'buffer' is missing")
        off = self.get_int(bv, "byteOffset", where, default=0)
        length = self.get_int(bv, "byteLength", where, default=None)
        if length is None:
            raise self.error(f"{where}: 'byteLength' is missing")
        stride = self.get_int(bv, "byteStride", where, default=None, minimum=1)
        meshopt = gltf_meshopt.view_extension(self, bv, where)
        if meshopt is not None and self._meshopt_decodes(meshopt[0], buf_i):
            if index not in self._decoded:
                self._decoded[index] = gltf_meshopt.decode_view(self, *meshopt, length, stride, where)
            return memoryview(self._decoded[index]), stride
        data = self.buffer(buf_i)
        if off + length > len(data):
            raise self.error(
                f"{where} (offset {off} + length {length}) runs past the end of buffer {buf_i} ({len(data)} bytes)"
            )
        return memoryview(data)[off : off + length], stride

    def _meshopt_decodes(self, name: str, parent_buffer: int) -> bool:
        """Whether a meshopt-compressed bufferView is decoded (True) or read from its uncompressed
        fallback (False: only when the decoder is missing, the extension is not required and the
        parent buffer holds real data); MeshError naming the missing package otherwise."""
        if gltf_meshopt.decoder_available():
            return True
        required = self.json.get("extensionsRequired", [])
        if (isinstance(required, list) and name in required) or gltf_meshopt.is_fallback_buffer(self, parent_buffer):
            raise self.error(gltf_meshopt.MESHOPT_HINT)
        return False

    def image_bytes(self, index: Any) -> tuple[bytes, str | None]:
        """Image ``index`` -> (encoded bytes, mimeType or None) from its bufferView or URI."""
        img = self.item("images", index, "image")
        what = f"image {index}"
        mime = img.get("mimeType")
        if mime is not None and not isinstance(mime, str):
            raise self.error(f"{what}: 'mimeType' must be a string")
        if "bufferView" in img:
            view, _ = self.buffer_view(img["bufferView"], f"{what} ")
            return bytes(view), mime
        if "uri" not in img:
            raise self.error(f"{what} has neither a uri nor a bufferView")
        uri = img["uri"]
        if isinstance(uri, str) and uri.startswith("data:") and mime is None:
            m = re.match(r"data:([^;,]+)", uri)
            mime = m.group(1) if m else None
        return self._uri_bytes(uri, what, None), mime

    # ------------------------------------------------------------------ accessors

    def accessor_info(self, index: Any) -> tuple[dict, np.dtype, int, int]:
        """Accessor ``index`` -> (its JSON, component dtype (little-endian), ncomp, count), checked."""
        acc = self.item("accessors", index, "accessor")
        where = f"accessor {index}"
        ctype = acc.get("componentType")
        if not _is_int(ctype) or ctype not in COMPONENT_TYPES:
            raise self.error(f"{where}: unknown componentType {ctype!r}")
        typ = acc.get("type")
        if not isinstance(typ, str) or typ not in NUM_COMPONENTS:
            raise self.error(f"{where}: unknown type {typ!r}")
        count = self.get_int(acc, "count", where, default=None)
        if count is None:
            raise self.error(f"{where}: 'count' is missing")
        dtype = np.dtype(COMPONENT_TYPES[ctype]).newbyteorder("<")
        ncomp = NUM_COMPONENTS[typ]
        if count * ncomp * dtype.itemsize > self.max_bytes:
            raise self.error(f"{where}: {count} elements are over the {self.max_bytes}-byte limit")
        return acc, dtype, ncomp, count

    def _strided(
        self, view: memoryview, stride: int | None, offset: int, count: int, dtype: np.dtype, ncomp: int, where: str
    ) -> np.ndarray:
        item = dtype.itemsize * ncomp
        stride = stride or item
        if stride < item:
            raise self.error(f"{where}: byteStride {stride} is smaller than one element ({item} bytes)")
        need = offset + (stride * (count - 1) + item if count else 0)
        if need > len(view):
            raise self.error(
                f"{where}: {count} elements (stride {stride}, offset {offset}) run past the end of "
                f"their bufferView ({len(view)} bytes)"
            )
        if count == 0:
            return np.zeros((0, ncomp), dtype.newbyteorder("="))
        raw = np.frombuffer(view, np.uint8)[offset:need]
        if stride == item:
            rows = raw
        else:
            rows = np.lib.stride_tricks.as_strided(raw, (count, item), (stride, 1), writeable=False)
        return np.ascontiguousarray(rows).view(dtype).reshape(count, ncomp).astype(dtype.newbyteorder("="))

    def accessor(self, index: Any) -> np.ndarray:
        """Accessor ``index`` -> (count, ncomp) array: its component type, or float32 when
        ``normalized`` (signed: ``max(c / (2^(b-1) - 1), -1)``, unsigned: ``c / (2^b - 1)``);
        byteStride honoured; sparse values substituted; zeros without a bufferView."""
        acc, dtype, ncomp, count = self.accessor_info(index)
        where = f"accessor {index}"
        if "bufferView" in acc:
            view, stride = self.buffer_view(acc["bufferView"], f"{where} ")
            off = self.get_int(acc, "byteOffset", where, default=0)
            out = self._strided(view, stride, off, count, dtype, ncomp, where)
        else:  # zeros (sparse-only or empty data): bounded by the data the file really holds
            need = count * ncomp * dtype.itemsize
            if need > max(_ZEROS_FLOOR, 16 * (self.file_size + self._read_total)):
                raise self.error(
                    f"{where} has no bufferView but asks for {need} bytes of zeros, far more than the file holds"
                )
            out = np.zeros((count, ncomp), dtype.newbyteorder("="))
        sp = acc.get("sparse")
        if sp is not None:
            out = self._sparse(sp, out, dtype, ncomp, count, where)
        if acc.get("normalized") is True and dtype.kind in "iu":
            if dtype.itemsize == 4:
                raise self.error(f"{where}: 'normalized' is not allowed with 32-bit components")
            top = float(np.iinfo(dtype).max)
            out = out.astype(np.float32) / np.float32(top)
            if dtype.kind == "i":
                out = np.maximum(out, np.float32(-1.0))
        return out

    def _sparse(self, sp: Any, out: np.ndarray, dtype: np.dtype, ncomp: int, count: int, where: str) -> np.ndarray:
        if not isinstance(sp, dict):
            raise self.error(f"{where}: 'sparse' must be an object")
        w = f"{where} sparse"
        n = self.get_int(sp, "count", w, default=None, minimum=1)
        if n is None:
            raise self.error(f"{w}: 'count' is missing")
        if n > count:
            raise self.error(f"{w}: count {n} is larger than the accessor's count {count}")
        ind, vals = self.get_dict(sp, "indices", w), self.get_dict(sp, "values", w)
        ictype = ind.get("componentType")
        if ictype not in INDEX_TYPES:
            raise self.error(f"{w}: indices componentType must be 5121, 5123 or 5125, got {ictype!r}")
        if "bufferView" not in ind or "bufferView" not in vals:
            raise self.error(f"{w}: indices and values need a bufferView")
        idt = np.dtype(COMPONENT_TYPES[ictype]).newbyteorder("<")
        iv, _ = self.buffer_view(ind["bufferView"], f"{w} indices ")
        idx = self._strided(iv, None, self.get_int(ind, "byteOffset", w, default=0), n, idt, 1, f"{w} indices")
        vv, _ = self.buffer_view(vals["bufferView"], f"{w} values ")
        v = self._strided(vv, None, self.get_int(vals, "byteOffset", w, default=0), n, dtype, ncomp, f"{w} values")
        idx = idx.reshape(-1).astype(np.int64)
        if idx.size and idx.max() >= count:
            raise self.error(f"{w}: index {int(idx.max())} is past the accessor's count {count}")
        out = out.copy()
        out[idx] = v
        return out

    def positions(self, index: Any, what: str) -> np.ndarray:
        """A POSITION accessor -> (N, 3) float64, refused unless VEC3 and finite."""
        acc, _, ncomp, _ = self.accessor_info(index)
        if ncomp != 3 or acc.get("type") != "VEC3":
            raise self.error(f"{what}: POSITION accessor {index} must be VEC3, got {acc.get('type')!r}")
        with np.errstate(invalid="ignore"):  # a signalling NaN warns in the cast; refused below
            p = self.accessor(index).astype(np.float64)
        if not np.isfinite(p).all():
            raise self.error(f"{what}: POSITION accessor {index} has NaN or infinite coordinates")
        return p

    def attribute(self, index: Any, ncomp: int, what: str) -> np.ndarray:
        """A vertex attribute accessor (NORMAL, TEXCOORD_0 ...) -> (N, ncomp) float64 (NaN / inf -> 0)."""
        acc, _, nc, _ = self.accessor_info(index)
        if nc < ncomp or acc.get("type") not in ("VEC2", "VEC3", "VEC4"):
            raise self.error(f"{what}: accessor {index} has type {acc.get('type')!r}, expected {ncomp} components")
        with np.errstate(invalid="ignore"):  # a signalling NaN warns in the cast
            a = self.accessor(index)[:, :ncomp].astype(np.float64)
        a[~np.isfinite(a)] = 0.0  # a broken normal or UV is dropped, not the mesh
        return a

    def indices(self, index: Any, num_vertices: int, what: str) -> np.ndarray:
        """An ``indices`` accessor -> (N,) int64, refused unless unsigned SCALAR and < ``num_vertices``."""
        acc, _, ncomp, _ = self.accessor_info(index)
        if ncomp != 1 or acc.get("componentType") not in INDEX_TYPES:
            raise self.error(f"{what}: indices accessor {index} must be unsigned integer SCALARs")
        idx = self.accessor(index).reshape(-1).astype(np.int64)
        if idx.size and idx.max() >= num_vertices:
            raise self.error(f"{what}: vertex index {int(idx.max())} is past the primitive's {num_vertices} vertices")
        return idx


def confined_file(folder: str | os.PathLike, uri: str, what: str) -> Path:
    """The existing file a relative URI (percent-encoded) names inside ``folder``.

    Refused (MeshError ``"<what>: ..."``): URL schemes, absolute or drive paths, ``..`` parts
    (also as ``%2e%2e``), NUL bytes, missing files, and paths that leave ``folder`` through a
    symlink. Whether it is a regular file is for the caller to check (``os.stat``).
    """
    if not isinstance(uri, str) or not uri:
        raise MeshError(f"{what}: the file name must be a non-empty string")
    if _SCHEME.match(uri) and not re.match(r"^[A-Za-z]:[\\/]", uri):
        raise MeshError(f"{what}: URI {uri[:60]!r} is not a relative file path (URLs are not fetched)")
    rel = unquote(uri)
    parts = re.split(r"[\\/]+", rel)
    if (
        "\0" in rel
        or rel.startswith(("/", "\\"))
        or os.path.isabs(rel)
        or re.match(r"^[A-Za-z]:", rel)
        or ".." in parts
    ):
        raise MeshError(f"{what}: URI {uri[:60]!r} points outside the folder of the file that names it")
    base = Path(folder).resolve()
    try:
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        raise MeshError(f"{what}: file {uri[:60]!r} not found next to the file that names it") from None
    if not target.is_relative_to(base):
        raise MeshError(f"{what}: {uri[:60]!r} leads outside the folder of the file that names it (symlink)")
    return target


def load_document(path: str | os.PathLike, *, max_bytes: int | None = None) -> GltfDocument:
    """Parse a ``.glb`` / ``.gltf`` file (GLB detected by its magic, whatever the suffix).

    Args:
        path: the file.
        max_bytes: size cap (default :data:`DEFAULT_MAX_BYTES`), see the module doc.

    Returns:
        GltfDocument (buffers are read on first use).

    Raises:
        MeshError: missing / non-regular / oversized file, bad GLB header or chunks, bad JSON,
            not a glTF 2.0 document.
    """
    path = Path(path)
    cap = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except OSError as e:
        raise MeshError(f"{path}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise MeshError(f"{path}: not a regular file")
    if st.st_size > cap:
        raise MeshError(f"{path}: file is {st.st_size} bytes, over the {cap}-byte limit")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(cap + 1)
    except OSError as e:
        raise MeshError(f"{path}: cannot read ({e.strerror or e})") from None
    if len(raw) > cap:
        raise MeshError(f"{path}: file is over the {cap}-byte limit")
    glb_bin = None
    if raw[:4] == _GLB_MAGIC:
        text, glb_bin = _glb_chunks(path, raw)
    else:
        text = raw
    try:
        doc = json.loads(text.decode("utf-8-sig").rstrip("\0 \t\r\n"))
    except UnicodeDecodeError:
        raise MeshError(f"{path}: not a glTF file (the JSON is not UTF-8)") from None
    except json.JSONDecodeError as e:
        raise MeshError(f"{path}: not a glTF file (bad JSON at line {e.lineno} column {e.colno}: {e.msg})") from None
    except (ValueError, RecursionError) as e:
        raise MeshError(f"{path}: not a glTF file (bad JSON: {e.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise MeshError(f"{path}: not a glTF file (the JSON is not an object)")
    asset = doc.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if not isinstance(version, str) or not version.startswith("2."):
        raise MeshError(f"{path}: not a glTF 2.0 file (asset.version is {version!r})")
    return GltfDocument(path, doc, glb_bin, cap, file_size=len(raw))


def _glb_chunks(path: Path, raw: bytes) -> tuple[bytes, bytes | None]:
    """GLB bytes -> (JSON chunk bytes, BIN chunk bytes or None), every length checked."""
    if len(raw) < 20:
        raise MeshError(f"{path}: truncated GLB ({len(raw)} bytes, shorter than its header)")
    _, version, length = struct.unpack_from("<4sII", raw, 0)
    if version != 2:
        raise MeshError(f"{path}: GLB version {version} is not supported (glTF 2.0 only)")
    if length > len(raw):
        raise MeshError(f"{path}: truncated GLB (header says {length} bytes, the file has {len(raw)})")
    if length < 20:
        raise MeshError(f"{path}: bad GLB header (length {length})")
    off, k, text, binary = 12, 0, None, None
    while off < length:
        if off + 8 > length:
            raise MeshError(f"{path}: truncated GLB (chunk {k} header runs past the end)")
        clen, ctype = struct.unpack_from("<II", raw, off)
        if off + 8 + clen > length:
            raise MeshError(f"{path}: bad GLB chunk {k} length {clen} (runs past the end of the file)")
        body = raw[off + 8 : off + 8 + clen]
        if k == 0:
            if ctype != _CHUNK_JSON:
                raise MeshError(f"{path}: bad GLB (the first chunk is not JSON)")
            text = body
        elif ctype == _CHUNK_BIN and binary is None:
            binary = body
        off += 8 + clen
        k += 1
    if text is None:
        raise MeshError(f"{path}: GLB without a JSON chunk")
    return text, binary


__all__ = ["COMPONENT_TYPES", "DEFAULT_MAX_BYTES", "NUM_COMPONENTS", "GltfDocument", "confined_file", "load_document"]
