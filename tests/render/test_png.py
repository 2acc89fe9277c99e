import struct
import zlib

import numpy as np
import pytest
import torch

from facerig.errors import FacerigError
from facerig.render.png import encode_png, write_png


def _decode(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(tag + body)
        ihdr = body if tag == b"IHDR" else ihdr
        idat += body if tag == b"IDAT" else b""
        pos += 12 + n
    w, h, depth, ctype = struct.unpack(">IIBB", ihdr[:10])
    c = {0: 1, 2: 3, 6: 4}[ctype]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, c)


def test_png_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(_decode(encode_png(img)), img)
    f = torch.tensor([[0.0, 0.5], [1.0, 2.0]])  # floats are clipped to [0, 1]
    assert _decode(encode_png(f))[..., 0].tolist() == [[0, 128], [255, 255]]
    write_png(tmp_path / "a.png", img[..., :1].repeat(4, axis=2))
    assert _decode((tmp_path / "a.png").read_bytes()).shape == (5, 7, 4)
    with pytest.raises(FacerigError, match="shape"):
        encode_png(np.zeros((4, 4, 2)))
