"""MaterialSet from a glTF (facerig.io.materials): unreadable or unsafe images become a white pixel
with a note, dangling texture references are removed, extensions are collected."""

from __future__ import annotations

import json

from facerig.io.gltf_decode import load_document
from facerig.io.materials import materials_from_gltf, sniff_mime, white_png


def test_white_png_is_a_png():
    assert sniff_mime(white_png()) == "image/png"
    assert sniff_mime(b"\xff\xd8\xff\xe0rest") == "image/jpeg" and sniff_mime(b"GIF89a") is None


def test_unsafe_or_missing_images_become_white_pixels(tmp_path):
    (tmp_path / "secret.png").write_bytes(white_png())
    sub = tmp_path / "model"
    sub.mkdir()
    (sub / "ok.png").write_bytes(white_png() + b"tail")
    doc = {
        "asset": {"version": "2.0"},
        "extensionsRequired": ["KHR_texture_transform"],
        "images": [{"uri": "ok.png"}, {"uri": "../secret.png"}, {"uri": "missing.png"}, {"uri": "/etc/hostname"}],
        "textures": [{"source": 0}, {"source": 1, "sampler": 5}],
        "materials": [
            {
                "name": "a",
                "pbrMetallicRoughness": {
                    "baseColorTexture": {"index": 0, "texCoord": 1, "extensions": {"KHR_texture_transform": {}}}
                },
            },
            {"name": "b", "normalTexture": {"index": 7}},
        ],
    }
    p = sub / "m.gltf"
    p.write_text(json.dumps(doc))
    ms = materials_from_gltf(load_document(p))
    assert ms.images[0]["data"] == white_png() + b"tail" and ms.images[0]["mimeType"] == "image/png"
    assert all(img["data"] == white_png() for img in ms.images[1:])
    assert sum("white pixel" in n for n in ms.notes) == 3
    assert "sampler" not in ms.textures[1]  # out of range: removed
    assert "normalTexture" not in ms.materials[1]  # texture 7 does not exist
    assert "texCoord" not in ms.materials[0]["pbrMetallicRoughness"]["baseColorTexture"]  # output has TEXCOORD_0 only
    assert ms.extensions_used == ["KHR_texture_transform"] and ms.extensions_required == ["KHR_texture_transform"]
    assert "baseColorTexture" not in ms.without_textures().materials[0]["pbrMetallicRoughness"]
