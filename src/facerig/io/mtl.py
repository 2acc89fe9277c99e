"""OBJ materials (``mtllib`` / ``usemtl``) as a glTF :class:`~facerig.io.materials.MaterialSet`.

:func:`materials_from_obj` reads the MTL files an OBJ names (``mesh.info["mtllib"]``), next to
the OBJ and confined to its folder like glTF buffers (:func:`facerig.io.gltf_decode.confined_file`),
and makes one glTF material per OBJ material name, in the order of ``mesh.info["materials"]``
(so ``mesh.info["face_material"]`` indexes it unchanged):

- ``Kd`` r g b -> ``baseColorFactor`` (alpha from ``d``, or ``1 - Tr``; blend mode when < 1);
- ``map_Kd`` -> ``baseColorTexture``: the image file (PNG or JPEG) embedded, options such as
  ``-s`` / ``-o`` / ``-clamp`` skipped (``-clamp on`` -> CLAMP_TO_EDGE sampler);
- metallic 0, roughness 0.7 (OBJ's Phong terms have no faithful PBR equivalent).

A material the MTL does not define, a missing MTL or an unusable texture (missing, outside the
folder, not PNG/JPEG) gives the default material (or no texture) and a note; nothing here raises.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from facerig.errors import FacerigError, MeshError
from facerig.io.gltf_decode import DEFAULT_MAX_BYTES, confined_file
from facerig.io.materials import CORE_MIME, MaterialSet, sniff_mime
from facerig.io.mesh import Mesh

#: ``map_*`` options and how many arguments each takes (the file name follows them)
_MAP_OPTIONS = {
    "-blendu": 1,
    "-blendv": 1,
    "-bm": 1,
    "-boost": 1,
    "-cc": 1,
    "-clamp": 1,
    "-imfchan": 1,
    "-mm": 2,
    "-o": 3,
    "-s": 3,
    "-t": 3,
    "-texres": 1,
    "-type": 1,
}


def parse_mtl(text: str) -> dict[str, dict]:
    """MTL text -> ``{material name: {"Kd": (3,) floats, "d": float, "map_Kd": (file, clamp)}}``
    (only the keys present)."""
    out: dict[str, dict] = {}
    cur: dict | None = None
    for line in text.splitlines():
        tok = line.strip().split()
        if not tok or tok[0].startswith("#"):
            continue
        key, args = tok[0], tok[1:]
        if key == "newmtl":
            cur = out.setdefault(" ".join(args), {})
        elif cur is None:
            continue
        elif key == "Kd" and len(args) >= 3:
            try:
                cur["Kd"] = tuple(min(max(float(a), 0.0), 1.0) for a in args[:3])
            except ValueError:
                pass
        elif key in ("d", "Tr") and args:
            try:
                a = float(args[-1])
            except ValueError:
                continue
            cur["d"] = min(max(a if key == "d" else 1.0 - a, 0.0), 1.0)
        elif key == "map_Kd" and args:
            i, clamp = 0, False
            while i < len(args) and args[i] in _MAP_OPTIONS:
                if args[i] == "-clamp" and i + 1 < len(args):
                    clamp = args[i + 1] == "on"
                i += 1 + _MAP_OPTIONS[args[i]]
            if i < len(args):
                cur["map_Kd"] = (" ".join(args[i:]), clamp)
    return out


def _read_confined(folder: Path, name: str, what: str, limit: int) -> bytes:
    """Bytes of a regular file ``name`` inside ``folder`` (MeshError otherwise)."""
    f = confined_file(folder, name.replace("\\", "/"), what)
    st = os.stat(f)
    if not stat.S_ISREG(st.st_mode):
        raise MeshError(f"{what}: {name!r} is not a regular file")
    if st.st_size > limit:
        raise MeshError(f"{what}: {name!r} is over the {limit}-byte limit")
    with open(f, "rb") as fh:
        return fh.read(limit)


def materials_from_obj(mesh: Mesh, *, max_bytes: int = DEFAULT_MAX_BYTES) -> MaterialSet | None:
    """The OBJ's materials (see module doc), or None when the mesh names none.

    Args:
        mesh: an OBJ :class:`Mesh` with ``source`` and ``info["materials"]`` (and ``info["mtllib"]``).
        max_bytes: cap on each MTL / image file.
    """
    names = mesh.info.get("materials")
    if not names or not mesh.source:
        return None
    folder = Path(mesh.source).parent
    notes: list[str] = []
    defs: dict[str, dict] = {}
    for lib in mesh.info.get("mtllib") or []:
        try:
            text = _read_confined(folder, lib, f"mtllib {lib!r}", max_bytes).decode("utf-8", "replace")
        except (FacerigError, OSError) as e:
            notes.append(f"{str(e)[:160]}")
            continue
        for k, v in parse_mtl(text).items():
            defs.setdefault(k, v)
    ms = MaterialSet(notes=notes)
    image_of: dict[tuple[str, bool], int] = {}
    for name in names:
        d = defs.get(name)
        if d is None and name:
            notes.append(f"material {name!r} not defined in the MTL: default material")
        d = d or {}
        color = list(d.get("Kd", (0.8, 0.8, 0.8))) + [d.get("d", 1.0)]
        mat: dict = {
            "name": name or "default",
            "pbrMetallicRoughness": {
                "baseColorFactor": [float(c) for c in color],
                "metallicFactor": 0.0,
                "roughnessFactor": 0.7,
            },
            "doubleSided": False,
        }
        if color[3] < 1.0:
            mat["alphaMode"] = "BLEND"
        if "map_Kd" in d:
            tex = _texture(ms, image_of, folder, d["map_Kd"], max_bytes, notes)
            if tex is not None:
                mat["pbrMetallicRoughness"]["baseColorTexture"] = {"index": tex}
        ms.materials.append(mat)
    return ms


def _texture(
    ms: MaterialSet, image_of: dict, folder: Path, spec: tuple[str, bool], limit: int, notes: list[str]
) -> int | None:
    """Index of the texture for a ``map_Kd`` (file, clamp), adding image / sampler / texture once."""
    name, clamp = spec
    if spec in image_of:
        return image_of[spec]
    try:
        data = _read_confined(folder, name, f"map_Kd {name!r}", limit)
    except (FacerigError, OSError) as e:
        notes.append(f"texture skipped: {str(e)[:160]}")
        return None
    mime = sniff_mime(data)
    if mime not in CORE_MIME:
        notes.append(f"texture {name!r} skipped: not a PNG or JPEG image (glTF embeds only those)")
        return None
    ms.images.append({"data": data, "mimeType": mime, "name": Path(name).stem})
    wrap = 33071 if clamp else 10497  # CLAMP_TO_EDGE / REPEAT
    ms.samplers.append({"magFilter": 9729, "minFilter": 9987, "wrapS": wrap, "wrapT": wrap})
    ms.textures.append({"source": len(ms.images) - 1, "sampler": len(ms.samplers) - 1})
    image_of[spec] = len(ms.textures) - 1
    return image_of[spec]


__all__ = ["materials_from_obj", "parse_mtl"]
