"""Wavefront OBJ reading and writing (numpy; keeps the file's ``v`` order exactly).

:func:`read_obj` supports triangles, quads and n-gons (fan-triangulated into ``faces``; the
original polygons are kept in ``polygons``), corners written ``a``, ``a/b``, ``a//c`` or
``a/b/c``, negative (relative) indices, several objects / groups (``o`` / ``g``, recorded per
triangle), ``usemtl`` / ``mtllib`` (recorded in ``info``), line continuations (``\\``) and
``v x y z [w]`` / ``v x y z r g b`` vertex lines (extra columns go to ``info``).
Points and lines (``p`` / ``l``) are counted in ``info`` and otherwise ignored.

Nothing is reordered, merged or dropped: vertex ``i`` of the returned mesh is the
``i``-th ``v`` line of the file.

Speed: a vectorised scanner (one regex pass per statement kind, numbers parsed in C by numpy)
reads the common layout (statements at line start, positive indices, one corner format per
file); anything else (negative indices, indented lines, trailing comments, mixed corner
formats, any error) goes to a line-by-line scanner, which also names the line of an error.
The ICT FaceKit head (26,719 vertices) reads in about 0.2 s. Validation (NaN, degenerate faces, ...) is
:func:`facerig.io.validate.validate_mesh`'s job; this module only raises
:class:`~facerig.errors.MeshError` when the file cannot be parsed as an OBJ at all.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerig.errors import MeshError
from facerig.io.atomic import atomic_path
from facerig.io.limits import DEFAULT_MAX_FACES, check_counts, read_limited
from facerig.io.mesh import Mesh


def read_obj(
    path: str | os.PathLike,
    *,
    max_vertices: int | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> Mesh:
    """Read an OBJ file into a :class:`Mesh` without reordering anything.

    Args:
        path: the ``.obj`` file.
        max_vertices: if given, raise :class:`MeshError` as soon as the number of ``v`` lines
            is known to exceed it (before parsing coordinates).
        max_faces: the same for ``f`` lines (and for triangles once polygons are split).
        max_bytes: file-size limit checked before reading (None: :func:`facerig.io.limits.max_file_bytes`).

    Returns:
        Mesh with
        ``vertices`` (V, 3) float64 in ``v``-line order;
        ``faces`` (F, 3) int64 fan triangulation of every ``f`` line, in file order;
        ``polygons``: None when every face is a triangle, else the original faces
        (an (P, n) int64 array when all faces have n corners, else a list of (n_i,) arrays);
        ``uv`` (T, 2) float64 ``vt`` coordinates (or None) and ``uv_faces`` the matching
        per-corner ``vt`` indices shaped like ``polygons`` (like ``faces`` when all triangles),
        or None when some face lacks ``vt``;
        ``normals`` (V, 3) when the file has exactly one ``vn`` per ``v`` used index-for-index;
        ``groups`` (F,) int64 index into ``group_names`` (``o``/``g`` names; None if the file
        names none); ``info`` with ``format``, ``mtllib``, ``materials``, ``face_material``
        (F,) int64 into ``materials`` (when ``usemtl`` is used), ``triangle_polygon`` (F,) int64
        (the 0-based ``f`` line each triangle comes from), and notes.

    Raises:
        MeshError: missing / binary / unparsable file (one line, with the offending line number).
    """
    path = Path(path)
    data = read_limited(path, max_bytes, empty_ok=True)
    if b"\0" in data[:65536]:
        raise MeshError(f"{path}: not a text OBJ file (binary data; is it really an .obj?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    del data
    if "\\\n" in text or "\\\r\n" in text:
        text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    limits = _Limits(max_vertices, max_faces)
    try:
        r = _parse_fast(text, path, limits)
    except _Fallback:
        r = _parse_slow(text, path, limits)
    return _assemble(r, path, limits)


@dataclass
class _Limits:
    max_vertices: int | None = None
    max_faces: int | None = DEFAULT_MAX_FACES


class _Fallback(Exception):
    """The vectorised scanner met something it does not handle; use the line-by-line one."""


@dataclass
class _Parsed:
    """Both scanners' output. Corner arrays are 0-based and range-checked."""

    vertices: np.ndarray  # (V, 3)
    extra: np.ndarray | None  # (V, k) extra v columns
    uv: np.ndarray | None  # (T, 2)
    vn: np.ndarray | None  # (N, 3) raw vn lines
    counts: np.ndarray  # (F,) corners per face
    vi: np.ndarray  # (C,) vertex index per corner
    ti: np.ndarray | None  # (C,)
    ni: np.ndarray | None  # (C,)
    f_group: np.ndarray  # (F,) into group_names, -1 = none
    group_names: list[str]
    f_mat: np.ndarray  # (F,) into materials, -1 = none
    materials: list[str]
    mtllibs: list[str]
    ignored: dict[str, int]
    unknown: dict[str, int]


def _assemble(r: _Parsed, path: Path, limits: _Limits | None = None) -> Mesh:
    """Triangulate and package a scan into a Mesh (see :func:`read_obj`)."""
    info: dict = {"format": "obj"}
    if r.extra is not None:
        info["vertex_extra"] = r.extra  # (V, k) w or r g b columns, as in the file
    faces = np.zeros((0, 3), np.int64)
    polygons = uv_faces = normals = groups = None
    group_names = list(r.group_names)
    materials = list(r.materials)
    counts, vi, ti, ni = r.counts, r.vi, r.ti, r.ni
    F = len(counts)
    if F:
        starts = np.zeros(F, np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        # fan triangulation: (c0, ck, ck+1), k = 1..n-2
        ntri = counts - 2
        if limits is not None:
            check_counts(path, faces=int(ntri.sum()), max_faces=limits.max_faces)
        tri_poly = np.repeat(np.arange(F, dtype=np.int64), ntri)
        tri_start = np.zeros(F, np.int64)
        np.cumsum(ntri[:-1], out=tri_start[1:])
        k = np.arange(len(tri_poly), dtype=np.int64) - tri_start[tri_poly] + 1
        base = starts[tri_poly]
        faces = np.stack([vi[base], vi[base + k], vi[base + k + 1]], axis=1)
        info["triangle_polygon"] = tri_poly
        all_tri = bool((counts == 3).all())
        if not all_tri:
            polygons = _split(vi, counts)
        if ti is not None:
            uv_faces = ti.reshape(-1, 3) if all_tri else _split(ti, counts)
        if ni is not None and r.vn is not None and len(r.vn) == len(r.vertices) and np.array_equal(ni, vi):
            normals = r.vn
        if (r.f_group >= 0).any():
            g = r.f_group
            if (g < 0).any():  # faces before the first o/g line
                group_names.append("default")
                g = np.where(g < 0, len(group_names) - 1, g)
            groups = g[tri_poly]
        if materials:
            m = r.f_mat
            if (m < 0).any():
                materials.append("")
                m = np.where(m < 0, len(materials) - 1, m)
            info["face_material"] = m[tri_poly]
        info["num_polygons"] = F
        info["polygon_sizes"] = {int(n): int(c) for n, c in zip(*np.unique(counts, return_counts=True))}
    if r.mtllibs:
        info["mtllib"] = r.mtllibs
    if materials:
        info["materials"] = materials
    if any(r.ignored.values()):
        info["ignored"] = r.ignored
    if r.unknown:
        info["unknown_statements"] = r.unknown
    return Mesh(
        vertices=r.vertices,
        faces=faces,
        polygons=polygons,
        uv=r.uv,
        uv_faces=uv_faces,
        normals=normals,
        groups=groups,
        group_names=group_names if groups is not None else [],
        source=str(path),
        info=info,
    )


def _too_many(path: Path, n_vertices: int, n_faces: int, limits: _Limits | None) -> None:
    if limits is not None:
        check_counts(path, n_vertices, n_faces, max_vertices=limits.max_vertices, max_faces=limits.max_faces)


# --------------------------------------------------------------------------- fast scanner

# Every pattern starts with a literal "\n" (the text gets one prepended) so that the regex
# engine can jump between line starts; ^ with re.M would try every character.
_RE_STATE = re.compile(r"\n(o|g|usemtl)(?:[ \t]+([^\r\n]*?))?[ \t]*(?=\r?\n|\Z)")
_RE_V = re.compile(r"\nv[ \t]+([^\r\n]*)")
_RE_VT = re.compile(r"\nvt[ \t]+([^\r\n]*)")
_RE_VN = re.compile(r"\nvn[ \t]+([^\r\n]*)")
_RE_F = re.compile(r"\nf[ \t]+([^\r\n]*)")
_RE_MTLLIB = re.compile(r"\nmtllib[ \t]+([^\r\n]*?)[ \t]*(?=\r?\n|\Z)")
_RE_L = re.compile(r"\nl[ \t]")
_RE_P = re.compile(r"\np[ \t]")
_RE_INDENTED = re.compile(r"\n[ \t]+(v|vt|vn|f|o|g|usemtl|mtllib)[ \t]")
# statements without data ("v" alone) and whitespace other than space / tab / CR / LF (no-break
# space, unit separator, form feed...): the line scanner explains or handles them
# statements with nothing after them (with trailing blanks the fast scanner sees an empty body and falls back)
_BARE = tuple(f"\n{k}{end}" for k in ("v", "vt", "vn", "f") for end in ("\n", "\r"))
_RE_ODD_SPACE = re.compile(r"[^\S \t\r\n]")
_ODD_ASCII_SPACE = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _odd(text: str) -> bool:
    """Anything only the line scanner handles: a bare statement, a lone CR, or whitespace other
    than space / tab / CR / LF (substring tests first: a regex pass costs ~15 ms per MB)."""
    if any(c in text for c in _ODD_ASCII_SPACE) or any(b in text for b in _BARE):
        return True
    if text.endswith(("\nv", "\nvt", "\nvn", "\nf")):
        return True
    if "\r" in text and text.count("\r") != text.count("\r\n"):  # a CR that does not end a line
        return True
    return not text.isascii() and _RE_ODD_SPACE.search(text) is not None


class _Labels:
    """OBJ ``o``/``g``/``usemtl`` state shared by both parsers: names in order of first use and
    the current group / material index (-1 = none). A ``g`` inside an ``o`` is named ``obj/group``."""

    def __init__(self) -> None:
        self.group_names: list[str] = []
        self.materials: list[str] = []
        self._group_index: dict[str, int] = {}
        self._material_index: dict[str, int] = {}
        self.group, self.material, self._obj = -1, -1, ""

    def marker(self, key: str, rest: str) -> None:
        if key == "usemtl":
            if rest not in self._material_index:
                self._material_index[rest] = len(self.materials)
                self.materials.append(rest)
            self.material = self._material_index[rest]
            return
        name = rest or "default"
        if key == "o":
            self._obj = name
        elif self._obj and self._obj != name:
            name = f"{self._obj}/{name}"
        if name not in self._group_index:
            self._group_index[name] = len(self.group_names)
            self.group_names.append(name)
        self.group = self._group_index[name]


def _has(text: str, *parts: str) -> bool:
    """Whether any of ``parts`` occurs in ``text``: a substring search, many times faster than a regex
    pass, decides whether the regex that needs one of them has anything to find."""
    return any(p in text for p in parts)


def _parse_fast(text: str, path: Path, limits: _Limits | None = None) -> _Parsed:
    """Vectorised scan (regex per statement kind + numpy parsing), for the common case.

    Raises _Fallback for anything unusual (negative indices, comments after data, mixed corner
    formats, bad numbers, out-of-range indices, ...): the line-by-line scanner then handles it
    and produces the precise error message.
    """
    text = "\n" + text
    if (_has(text, "\n ", "\n\t") and _RE_INDENTED.search(text)) or _odd(text):
        raise _Fallback  # indented statements, odd whitespace: rare, the line scanner handles them
    markers = list(_RE_STATE.finditer(text)) if _has(text, "\no", "\ng", "\nusemtl") else []
    bounds = [0] + [m.start() for m in markers] + [len(text)]
    labels = _Labels()
    v_b: list[str] = []
    vt_b: list[str] = []
    vn_b: list[str] = []
    f_b: list[str] = []
    seg_nf: list[int] = []
    seg_group: list[int] = []
    seg_mat: list[int] = []
    for i in range(len(bounds) - 1):
        if i > 0:
            key, rest = markers[i - 1].group(1), (markers[i - 1].group(2) or "").strip()
            labels.marker(key, rest)
        seg = text[bounds[i] : bounds[i + 1]] if len(bounds) > 2 else text
        fb = _RE_F.findall(seg)
        v_b += _RE_V.findall(seg)
        vt_b += _RE_VT.findall(seg) if "\nvt" in seg else []
        vn_b += _RE_VN.findall(seg) if "\nvn" in seg else []
        f_b += fb
        seg_nf.append(len(fb))
        seg_group.append(labels.group)
        seg_mat.append(labels.material)
    if not v_b:
        raise _Fallback  # let the slow scanner explain what the file is
    _too_many(path, len(v_b), len(f_b), limits)
    vjoined = "\n".join(v_b)
    if "#" in vjoined:
        raise _Fallback
    counts = _token_counts(vjoined, len(v_b))
    width = int(counts[0])
    if width < 3 or not (counts == width).all():
        raise _Fallback
    arr = _fromstring(vjoined, np.float64, len(v_b) * width).reshape(-1, width)
    vertices = np.ascontiguousarray(arr[:, :3])
    extra = arr[:, 3:] if width > 3 else None
    uv = None
    if vt_b:
        j = "\n".join(vt_b)
        c = _token_counts(j, len(vt_b))
        w = int(c.min())
        if w < 1 or not (c == w).all():
            raise _Fallback
        uv = _fromstring(j, np.float64, len(vt_b) * w).reshape(-1, w)
        uv = uv[:, :2] if w >= 2 else np.concatenate([uv, np.zeros_like(uv)], 1)
    vn = None
    if vn_b:
        j = "\n".join(vn_b)
        c = _token_counts(j, len(vn_b))
        if not (c == 3).all():
            raise _Fallback
        vn = _fromstring(j, np.float64, len(vn_b) * 3).reshape(-1, 3)

    F = len(f_b)
    vi = np.zeros(0, np.int64)
    ti = ni = None
    counts_f = np.zeros(0, np.int64)
    if F:
        fj = "\n".join(f_b)
        if "#" in fj or "-" in fj or "+" in fj:  # comments, relative indices: need line-by-line counts
            raise _Fallback
        counts_f = _token_counts(fj, F)
        if (counts_f < 3).any():
            raise _Fallback
        C = int(counts_f.sum())
        if "/" not in fj:
            vi = _fromstring(fj, np.int64, C)
        else:
            b = np.frombuffer(fj.encode("latin-1", errors="replace"), np.uint8)
            ws = (b == 32) | (b == 9) | (b == 10) | (b == 13)
            starts = ~ws & np.concatenate([[True], ws[:-1]])
            tok = np.cumsum(starts) - 1
            ns = np.bincount(tok[b == 47], minlength=C)
            if len(ns) != C or not (ns == ns[0]).all() or ns[0] not in (1, 2):
                raise _Fallback
            ns0 = int(ns[0])
            fj = fj.replace("//", "/0/")
            vals = _fromstring(fj.replace("/", " "), np.int64, C * (ns0 + 1)).reshape(C, ns0 + 1)
            vi = vals[:, 0]
            t = vals[:, 1]
            ti = t if (t > 0).all() else None
            if ns0 == 2:
                n_ = vals[:, 2]
                ni = n_ if (n_ > 0).all() else None
        vi = vi - 1
        if vi.min() < 0 or vi.max() >= len(vertices):
            raise _Fallback
        if ti is not None:
            ti = ti - 1
            if uv is None or ti.max() >= len(uv):
                raise _Fallback
        if ni is not None:
            ni = ni - 1
            if vn is None or ni.max() >= len(vn):
                raise _Fallback
    seg_nf_a = np.asarray(seg_nf, np.int64)
    return _Parsed(
        vertices=vertices,
        extra=extra,
        uv=uv,
        vn=vn,
        counts=counts_f,
        vi=vi,
        ti=ti,
        ni=ni,
        f_group=np.repeat(np.asarray(seg_group, np.int64), seg_nf_a),
        group_names=labels.group_names,
        f_mat=np.repeat(np.asarray(seg_mat, np.int64), seg_nf_a),
        materials=labels.materials,
        mtllibs=[m.strip() for m in _RE_MTLLIB.findall(text)] if "\nmtllib" in text else [],
        ignored={k: len(rx.findall(text)) if "\n" + k in text else 0 for k, rx in (("l", _RE_L), ("p", _RE_P))},
        unknown={},
    )


def _token_counts(joined: str, n_lines: int) -> np.ndarray:
    """Whitespace-separated tokens on each line of ``joined`` ("\\n"-separated) -> (n_lines,)."""
    b = np.frombuffer(joined.encode("latin-1", errors="replace"), np.uint8)
    if len(b) == 0:
        return np.zeros(n_lines, np.int64)
    ws = (b == 32) | (b == 9) | (b == 10) | (b == 13)
    starts = ~ws & np.concatenate([[True], ws[:-1]])
    line = np.cumsum(b == 10)
    counts = np.bincount(line[starts], minlength=n_lines)
    if len(counts) != n_lines:
        raise _Fallback
    return counts.astype(np.int64)


_FLOAT_CHARS = str.maketrans("", "", "0123456789eE.+- \t\r\n")


def _fromstring(s: str, dtype, expected: int) -> np.ndarray:
    """Parse whitespace-separated numbers in C; _Fallback unless exactly ``expected`` parse.

    numpy stops at a bad token (numpy >= 2 raises), so fewer numbers than tokens means a bad
    one; an empty corner field ("3//", "3/1/") likewise leaves too few numbers. Floats must be
    plain decimals (``nan``, ``0x1p3`` go to the line scanner: one C pass, ~1 ms per MB)."""
    if np.dtype(dtype).kind == "f" and s.translate(_FLOAT_CHARS):
        raise _Fallback
    try:
        out = np.fromstring(s, dtype=dtype, sep=" ")
    except ValueError:
        raise _Fallback from None
    if out.size != expected:
        raise _Fallback
    return out


# --------------------------------------------------------------------------- line-by-line scanner


def _parse_slow(text: str, path: Path, limits: _Limits | None = None) -> _Parsed:
    """Line-by-line scan: handles everything OBJ allows and names the line of any error.

    Lines end at LF (CR LF, or CR alone in a file without LF), as a text editor counts them;
    any other Unicode whitespace (no-break space, unit separator...) is only whitespace.
    """
    lines = text.split("\n") if ("\n" in text or "\r" not in text) else text.split("\r")
    v_lines: list[str] = []
    v_lineno: list[int] = []
    vt_lines: list[str] = []
    vt_lineno: list[int] = []
    vn_count = 0
    vn_lines: list[str] = []
    vn_lineno: list[int] = []
    f_lines: list[str] = []
    f_lineno: list[int] = []
    f_nv: list[int] = []  # number of v/vt/vn seen when each f line appears (negative indices)
    f_nvt: list[int] = []
    f_nvn: list[int] = []
    f_group: list[int] = []
    f_mat: list[int] = []
    labels = _Labels()
    mtllibs: list[str] = []
    n_lines = n_points = 0
    unknown: dict[str, int] = {}

    for lineno, ln in enumerate(lines, 1):
        if not ln:
            continue
        c = ln[0]
        c1 = ln[1:2]
        if c == "v" and (c1 == " " or c1 == "\t"):  # the common statements first, without split()
            v_lines.append(ln[2:])
            v_lineno.append(lineno)
        elif c == "f" and (c1 == " " or c1 == "\t"):
            f_lines.append(ln[2:])
            f_lineno.append(lineno)
            f_nv.append(len(v_lines))
            f_nvt.append(len(vt_lines))
            f_nvn.append(vn_count)
            f_group.append(labels.group)
            f_mat.append(labels.material)
        elif c == "#":
            continue
        else:
            parts = ln.split(None, 1)  # any Unicode whitespace separates (and may indent)
            if not parts or parts[0].startswith("#"):
                continue  # blank (e.g. only a no-break space) or an indented comment
            key = parts[0]
            rest = parts[1].strip() if len(parts) > 1 else ""
            if key == "v":
                v_lines.append(rest)
                v_lineno.append(lineno)
            elif key == "vt":
                vt_lines.append(rest)
                vt_lineno.append(lineno)
            elif key == "vn":
                vn_lines.append(rest)
                vn_lineno.append(lineno)
                vn_count += 1
            elif key == "f":
                f_lines.append(rest)
                f_lineno.append(lineno)
                f_nv.append(len(v_lines))
                f_nvt.append(len(vt_lines))
                f_nvn.append(vn_count)
                f_group.append(labels.group)
                f_mat.append(labels.material)
            elif key in ("o", "g", "usemtl"):
                labels.marker(key, rest)
            elif key == "mtllib":
                mtllibs.append(rest)
            elif key == "l":
                n_lines += 1
            elif key == "p":
                n_points += 1
            elif key in _KNOWN_OTHER:
                continue
            else:
                unknown[key] = unknown.get(key, 0) + 1

    if not v_lines:
        if unknown and not f_lines and not vt_lines:
            first = next(iter(unknown))[:20]
            raise MeshError(f"{path}: not an OBJ mesh (no 'v' vertex lines; first unknown statement {first!r})")
        raise MeshError(f"{path}: no vertices (no 'v' lines in the file)")
    _too_many(path, len(v_lines), len(f_lines), limits)

    vertices, extra = _parse_vertices(v_lines, v_lineno, path)
    uv = None
    if vt_lines:
        uv = _parse_floats(vt_lines, vt_lineno, path, "vt", min_cols=1)
        uv = uv[:, :2] if uv.shape[1] >= 2 else np.concatenate([uv, np.zeros_like(uv)], 1)
    vn = _parse_floats(vn_lines, vn_lineno, path, "vn", min_cols=3)[:, :3] if vn_lines else None

    counts = np.zeros(0, np.int64)
    vi = np.zeros(0, np.int64)
    ti = ni = None
    if f_lines:
        counts, vi, ti, ni = _parse_face_corners(f_lines, f_lineno, path)
        if (counts < 3).any():
            bad = int(np.flatnonzero(counts < 3)[0])
            raise MeshError(
                f"{path}: line {f_lineno[bad]}: face has {int(counts[bad])} corner(s); a face needs at least 3"
            )
        vi = _resolve(
            vi, np.repeat(np.asarray(f_nv, np.int64), counts), len(vertices), "vertex", f_lineno, counts, path
        )
        if ti is not None:
            ti = _resolve(
                ti,
                np.repeat(np.asarray(f_nvt, np.int64), counts),
                len(vt_lines),
                "texture coordinate",
                f_lineno,
                counts,
                path,
            )
        if ni is not None:
            ni = _resolve(
                ni, np.repeat(np.asarray(f_nvn, np.int64), counts), vn_count, "normal", f_lineno, counts, path
            )
    return _Parsed(
        vertices=vertices,
        extra=extra,
        uv=uv,
        vn=vn,
        counts=counts,
        vi=vi,
        ti=ti,
        ni=ni,
        f_group=np.asarray(f_group, np.int64),
        group_names=labels.group_names,
        f_mat=np.asarray(f_mat, np.int64),
        materials=labels.materials,
        mtllibs=mtllibs,
        ignored={"l": n_lines, "p": n_points},
        unknown=unknown,
    )


_KNOWN_OTHER = frozenset(
    (
        "s",
        "vp",
        "cstype",
        "deg",
        "curv",
        "curv2",
        "surf",
        "parm",
        "end",
        "usemap",
        "maplib",
        "shadow_obj",
        "trace_obj",
        "bevel",
        "c_interp",
        "d_interp",
        "lod",
        "mg",
        "bmat",
        "step",
        "trim",
        "hole",
        "scrv",
        "sp",
        "con",
        "ctech",
        "stech",
    )
)


def write_obj(
    path: str | os.PathLike,
    vertices: np.ndarray,
    faces_or_polygons: np.ndarray | Sequence[Sequence[int]],
    *,
    uv: np.ndarray | None = None,
    uv_faces: np.ndarray | Sequence[Sequence[int]] | None = None,
    header: str | None = None,
) -> None:
    """Write an OBJ atomically (temporary sibling + rename).

    Args:
        vertices: (V, 3) positions, written in order with shortest round-trip precision
            (``read_obj`` gives back the identical float64 values).
        faces_or_polygons: (F, n) int array or a list of index sequences (0-based).
        uv: optional (T, 2) texture coordinates (``vt`` lines).
        uv_faces: per-corner indices into ``uv``, same shape as ``faces_or_polygons``.
        header: optional comment text (each line prefixed with ``#``).
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"vertices must be (V, 3), got {vertices.shape}")
    parts: list[str] = []
    if header:
        parts.append("\n".join("# " + h for h in header.splitlines()))
    parts.append((("v %r %r %r\n" * len(vertices)) % tuple(vertices.reshape(-1).tolist())).rstrip("\n"))
    if uv is not None:
        uv = np.asarray(uv, dtype=np.float64)
        parts.append("\n".join("vt " + " ".join(repr(c) for c in row) for row in uv.tolist()))
    polys = _as_rows(faces_or_polygons)
    if uv is not None and uv_faces is not None:
        uvrows = _as_rows(uv_faces)
        if len(uvrows) != len(polys):
            raise ValueError(f"uv_faces has {len(uvrows)} faces, faces has {len(polys)}")
        parts.append(
            "\n".join("f " + " ".join(f"{a + 1}/{b + 1}" for a, b in zip(p, t)) for p, t in zip(polys, uvrows))
        )
    else:
        parts.append("\n".join("f " + " ".join(str(a + 1) for a in p) for p in polys))
    text = "\n".join(p for p in parts if p) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- helpers


def _as_rows(x) -> list[list[int]]:
    if isinstance(x, np.ndarray):
        return x.astype(np.int64).tolist()
    return [np.asarray(p, dtype=np.int64).tolist() for p in x]


def _split(flat: np.ndarray, counts: np.ndarray):
    """Corner array (sum n_i,) -> (P, n) array if all n_i equal, else list of (n_i,) arrays."""
    if (counts == counts[0]).all():
        return flat.reshape(len(counts), int(counts[0]))
    # one gather per polygon size, then the rows (views) in file order: np.split would make one
    # Python-level slice per polygon (0.15 s for the 26k polygons of the ICT head)
    starts = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out: list = [None] * len(counts)
    for n in np.unique(counts):
        idx = np.flatnonzero(counts == n)
        block = flat[starts[idx, None] + np.arange(int(n))]
        for i, row in zip(idx.tolist(), block):
            out[i] = row
    return out


def _strip_comments(lines: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Drop trailing ``# ...`` tokens (``v 1 2 3 # note``) from split rows."""
    if any("#" in ln for ln in lines):
        rows = [r[: next((i for i, t in enumerate(r) if t.startswith("#")), len(r))] for r in rows]
    return rows


def _parse_vertices(v_lines: list[str], v_lineno: list[int], path: Path):
    """``v`` line bodies -> ((V, 3) float64, (V, k) extra columns or None)."""
    rows = _strip_comments(v_lines, [ln.split() for ln in v_lines])
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    if (lens < 3).any():
        bad = int(np.flatnonzero(lens < 3)[0])
        raise MeshError(f"{path}: line {v_lineno[bad]}: vertex needs 3 coordinates, got {int(lens[bad])}")
    width = int(lens.max())
    if (lens == width).all():
        arr = _float_rows(rows, v_lineno, path, "v", width)
        return (arr, None) if width == 3 else (np.ascontiguousarray(arr[:, :3]), arr[:, 3:])
    return _float_rows([r[:3] for r in rows], v_lineno, path, "v", 3), None


def _float_rows(rows: list[list[str]], linenos: list[int], path: Path, what: str, width: int) -> np.ndarray:
    """Rows of ``width`` number tokens -> (N, width) float64; a bad token is named with its line."""
    try:
        return np.array(list(itertools.chain.from_iterable(rows)), dtype=np.float64).reshape(-1, width)
    except ValueError:
        for r, ln in zip(rows, linenos):
            for t in r:
                try:
                    float(t)
                except ValueError:
                    raise MeshError(f"{path}: line {ln}: bad number {t[:30]!r} in a '{what}' line") from None
        raise MeshError(f"{path}: bad number in a '{what}' line") from None


def _parse_floats(lines: list[str], linenos: list[int], path: Path, what: str, min_cols: int) -> np.ndarray:
    """``vt`` / ``vn`` line bodies -> (N, w) float64, w = the fewest values on a line (>= min_cols)."""
    rows = _strip_comments(lines, [ln.split() for ln in lines])
    lens = [len(r) for r in rows]
    width = min(lens)
    if width < min_cols:
        i = lens.index(width)
        raise MeshError(f"{path}: line {linenos[i]}: a '{what}' line needs {min_cols} values, got {width}")
    return _float_rows([r[:width] for r in rows], linenos, path, what, width)


# a face corner: v, v/vt, v//vn or v/vt/vn, each an integer (negative = relative)
_INT = r"[+-]?[0-9]+"
_CORNER = rf"{_INT}(?:/{_INT}/{_INT}|//{_INT}|/{_INT})?"
_RE_CORNER = re.compile(_CORNER)
_RE_CORNERS = re.compile(rf"(?:{_CORNER})(?: (?:{_CORNER}))*")


def _explain_corners(rows: list[list[str]], linenos: list[int], path: Path) -> None:
    """Raise MeshError naming the first line with a corner that is not v, v/vt, v//vn or v/vt/vn,
    or with an index too large for a 64-bit integer."""
    for r, ln in zip(rows, linenos):
        for t in r:
            if not _RE_CORNER.fullmatch(t):
                raise MeshError(
                    f"{path}: line {ln}: bad face corner {t[:30]!r} (expected v, v/vt, v//vn or "
                    "v/vt/vn with integer indices)"
                )
            for x in t.split("/"):
                if x and abs(int(x)) >= 2**63:
                    raise MeshError(f"{path}: line {ln}: face index {x[:30]} is out of range")
    raise MeshError(f"{path}: bad face index in an 'f' line")


def _ints(tokens: list[str], rows: list[list[str]], linenos: list[int], path: Path) -> np.ndarray:
    """Integer tokens (already checked by :data:`_RE_CORNERS`) -> (N,) int64; overflow names the line."""
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        _explain_corners(rows, linenos, path)
        raise  # unreachable: _explain_corners always raises


def _parse_face_corners(f_lines: list[str], f_lineno: list[int], path: Path):
    """``f`` line bodies -> counts (F,), v (C,), vt (C,) or None, vn (C,) or None (raw 1-based/negative)."""
    rows = _strip_comments(f_lines, [ln.split() for ln in f_lines])
    counts = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    tokens = list(itertools.chain.from_iterable(rows))
    flat = " ".join(tokens)
    if tokens and not _RE_CORNERS.fullmatch(flat):
        _explain_corners(rows, f_lineno, path)
    if "/" not in flat:
        return counts, _ints(tokens, rows, f_lineno, path), None, None
    nslash = np.fromiter((t.count("/") for t in tokens), dtype=np.int64, count=len(tokens))
    C = len(tokens)
    if (nslash == nslash[0]).all() and nslash[0] in (1, 2):
        ns = int(nslash[0])
        has_empty_t = "//" in flat
        if ns == 2 and has_empty_t and flat.count("//") != C:
            return _parse_corners_slow(tokens, counts, rows, f_lineno, path)
        if ns == 2 and has_empty_t:  # a//c everywhere
            vals = _ints(flat.replace("//", " ").split(), rows, f_lineno, path).reshape(C, 2)
            return counts, vals[:, 0], None, vals[:, 1]
        vals = _ints(flat.replace("/", " ").split(), rows, f_lineno, path).reshape(C, ns + 1)
        return counts, vals[:, 0], vals[:, 1], (vals[:, 2] if ns == 2 else None)
    return _parse_corners_slow(tokens, counts, rows, f_lineno, path)


def _parse_corners_slow(tokens: list[str], counts: np.ndarray, rows: list[list[str]], linenos: list[int], path: Path):
    """Mixed corner formats: per-token parse; a column is kept only if every corner has it."""
    fields = [t.split("/") for t in tokens]
    v = _ints([f[0] for f in fields], rows, linenos, path)

    def column(j: int):
        vals = [f[j] if len(f) > j else "" for f in fields]
        if any(x == "" for x in vals):
            return None
        return _ints(vals, rows, linenos, path)

    return counts, v, column(1), column(2)


_PLURAL = {"vertex": "vertices", "texture coordinate": "texture coordinates", "normal": "normals"}


def _resolve(
    idx: np.ndarray, n_seen: np.ndarray, n_total: int, what: str, f_lineno: list[int], counts: np.ndarray, path: Path
) -> np.ndarray:
    """1-based / negative OBJ indices (C,) -> 0-based (C,). Negative indices count back from
    ``n_seen`` (the count defined before that ``f`` line); index 0 and indices outside
    ``[0, n_total)`` raise MeshError naming the file line."""
    out = np.where(idx > 0, idx - 1, n_seen + idx)
    bad = (idx == 0) | (out < 0) | (out >= n_total)
    if bad.any():
        corner = int(np.flatnonzero(bad)[0])
        face = int(np.searchsorted(np.cumsum(counts), corner, side="right"))
        raise MeshError(
            f"{path}: line {f_lineno[face]}: {what} index {int(idx[corner])} is out of range "
            f"({n_total} {_PLURAL[what]} defined)"
        )
    return out
