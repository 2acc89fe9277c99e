"""End to end: the viewer page in headless Chromium (Playwright) renders and morphs the rig.

Needs ``pip install playwright`` and a Chromium binary (Debian: ``apt-get install chromium`` ->
/usr/bin/chromium; or FACERIG_CHROMIUM=/path/to/chrome). Skipped only when one of those is absent.
Rendering is software WebGL 2 (SwiftShader); the whole module takes ~10 s.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facerig.viewer import ViewerServer, load_animation
from fixtures.egg import egg_rig

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


def find_chromium() -> str | None:
    env = os.environ.get("FACERIG_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None  # Playwright's own download would also do, but it is not used here


CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip("no chromium binary (apt-get install chromium, or set FACERIG_CHROMIUM)", allow_module_level=True)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--mute-audio",
]

# copy the WebGL canvas into a 2D canvas and read its RGBA pixels (preserveDrawingBuffer is on)
READ_PIXELS = """() => {
  const c = document.getElementById('view'); const o = document.createElement('canvas');
  o.width = c.width; o.height = c.height; const g = o.getContext('2d'); g.drawImage(c, 0, 0);
  const d = g.getImageData(0, 0, o.width, o.height).data; let s = '';
  for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
  return [o.width, o.height, btoa(s)];
}"""


@pytest.fixture(scope="module")
def take(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("anim") / "take.json"
    # frame 0 is neutral (so the first image is the neutral pose), then the jaw opens and closes
    p.write_text(
        json.dumps(
            {"fps": 4, "names": ["jawOpen", "eyeBlink_L"], "frames": [[0, 0], [0.5, 0.5], [1, 1], [0.5, 0], [0, 0]]}
        )
    )
    return p


@pytest.fixture(scope="module")
def server(take):
    rig = egg_rig()
    with ViewerServer(rig, port=0, animation=load_animation(take, rig.names)).start() as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 820, "height": 460}, device_scale_factor=1)
    pg = ctx.new_page()
    pg.errors, pg.foreign = [], []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: None if r.url.startswith(server.url) else pg.foreign.append(r.url))
    pg.goto(server.url)
    pg.wait_for_function(
        "window.facerigViewer && (window.facerigViewer.ready || window.facerigViewer.error)", timeout=25_000
    )
    assert pg.evaluate("window.facerigViewer.error") is None
    yield pg
    assert pg.errors == [] and pg.foreign == []  # no JS errors, nothing fetched from elsewhere
    ctx.close()


def pixels(pg) -> np.ndarray:
    w, h, b64 = pg.evaluate(READ_PIXELS)
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(h, w, 4)[..., :3].astype(np.int16)


def after_render(pg, action) -> None:
    """Run ``action`` and wait until the page has drawn at least one new frame."""
    before = pg.evaluate("window.facerigViewer.frame")
    action()
    pg.wait_for_function(f"window.facerigViewer.frame > {before}", timeout=10_000)


def changed(a: np.ndarray, b: np.ndarray, thresh: int = 24) -> np.ndarray:
    return np.abs(a - b).max(-1) > thresh


def test_slider_search_reset_orbit(page, server, tmp_path):
    status = page.locator("#status").inner_text()
    for s in ("738 vertices", "1,472 faces", "7 shapes", "method synthetic", "units cm"):
        assert s in status
    assert page.locator("body").get_attribute("data-state") == "ready"

    canvas = page.locator("#view")
    canvas.screenshot(path=str(tmp_path / "neutral.png"))
    first = pixels(page)
    h, w = first.shape[:2]
    background = first[2, 2]
    mesh = np.abs(first - background).max(-1) > 24
    assert mesh.mean() > 0.05, "the heads are not on the canvas"
    assert mesh[:, : w // 2].any() and mesh[:, w // 2 :].any(), "neutral and posed side by side"

    jaw = page.locator('input[data-shape="jawOpen"]')
    after_render(page, lambda: jaw.fill("1"))
    canvas.screenshot(path=str(tmp_path / "jaw-open.png"))
    opened = pixels(page)
    assert page.evaluate("window.facerigViewer.weights()") == {"jawOpen": 1}
    assert page.locator('.shape[data-name="jawOpen"] output').inner_text() == "1.00"
    diff = changed(first, opened)
    assert diff.mean() > 0.004, f"jawOpen=1 changed only {diff.mean():.4%} of the pixels"
    assert diff[:, w // 2 :].sum() > 20 * max(diff[:, : w // 2].sum(), 1), "only the posed (right) head moves"

    page.fill("#search", "jaw")
    visible = page.locator("#sliders .shape:not([hidden])")
    assert sorted(visible.evaluate_all("rows => rows.map(r => r.dataset.name)")) == ["jawForward", "jawLeft", "jawOpen"]
    assert page.locator("#count").inner_text() == "3 of 7 shapes"
    page.fill("#search", "")
    assert visible.count() == 7

    after_render(page, lambda: page.click("#reset"))
    assert page.evaluate("window.facerigViewer.weights()") == {}
    assert jaw.input_value() == "0"
    assert changed(first, pixels(page)).mean() < 0.001, "reset returns to the neutral image"

    # orbit: dragging on the canvas turns the camera
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    after_render(page, lambda: page.mouse.move(cx + 150, cy, steps=3))
    page.mouse.up()
    assert changed(first, pixels(page)).mean() > 0.01


def test_animation_scrub_and_play(page):
    assert page.locator("#anim").is_visible()
    assert page.evaluate("window.facerigViewer.weights()") == {}  # frame 0 is neutral
    after_render(page, lambda: page.locator("#scrub").fill("2"))
    assert page.evaluate("window.facerigViewer.weights()") == {"jawOpen": 1, "eyeBlinkLeft": 1}
    assert page.locator('input[data-shape="jawOpen"]').input_value() == "1"
    page.click("#play")
    assert page.locator("#play").inner_text() == "Pause"
    # it plays: the frame shown advances past frame 2 (1.0 s long take at 4 fps, looped)
    page.wait_for_function("document.getElementById('scrub').value !== '2'", timeout=10_000)
    page.click("#play")
    assert page.locator("#play").inner_text() == "Play"


def test_no_webgl_shows_an_error(browser, server):
    ctx = browser.new_context(viewport={"width": 600, "height": 400})
    pg = ctx.new_page()
    pg.add_init_script("HTMLCanvasElement.prototype.getContext = function () { return null; };")
    pg.goto(server.url)
    pg.wait_for_function("document.body.dataset.state === 'error'", timeout=15_000)
    assert "WebGL" in pg.locator("#status").inner_text()
    ctx.close()


@pytest.mark.slow
@pytest.mark.ict
def test_ict_sized_rig_stays_responsive(browser):
    """A real 26,719-vertex, 51-shape rig (ICT FaceKit) loads and morphs in software WebGL."""
    import time

    from facerig.errors import FacerigError
    from facerig.io.rig import Rig

    try:
        from facerig.data.ict import load_ict

        model = load_ict()
    except (ImportError, FacerigError) as e:
        pytest.skip(f"ICT FaceKit not available ({e})")
    names, deltas = model.arkit()
    rig = Rig(
        names=names, deltas=deltas, neutral=model.neutral, faces=model.faces, meta={"method": "ict", "units": "cm"}
    )
    t0 = time.perf_counter()
    with ViewerServer(rig, port=0).start() as server:
        build = time.perf_counter() - t0
        ctx = browser.new_context(viewport={"width": 1000, "height": 600}, device_scale_factor=1)
        pg = ctx.new_page()
        t0 = time.perf_counter()
        pg.goto(server.url)
        pg.wait_for_function(
            "window.facerigViewer && (window.facerigViewer.ready || window.facerigViewer.error)", timeout=60_000
        )
        load = time.perf_counter() - t0
        assert pg.evaluate("window.facerigViewer.error") is None
        assert "26,719 vertices" in pg.locator("#status").inner_text()
        first = pixels(pg)
        t0 = time.perf_counter()
        after_render(pg, lambda: pg.locator('input[data-shape="jawOpen"]').fill("1"))
        frame = time.perf_counter() - t0
        assert changed(first, pixels(pg)).mean() > 0.002
        ctx.close()
    print(f"payload {build:.2f} s, page ready {load:.2f} s, slider->frame {frame:.2f} s (software GL)")
    assert build < 10 and load < 30 and frame < 5
