// facerig rig viewer: fetches /rig.json + /rig.bin (+ /anim.json) from the local facerig server
// and morphs the mesh on the GPU with three.js morph targets. No network beyond that server.
import * as THREE from './vendor/three-orbit.module.min.js';

const $ = (id) => document.getElementById(id);
const AXES = { '+x': [1, 0, 0], '-x': [-1, 0, 0], '+y': [0, 1, 0], '-y': [0, -1, 0], '+z': [0, 0, 1], '-z': [0, 0, -1] };

// Test / scripting hook (read by the e2e test; handy from the devtools console too).
const api = (window.facerigViewer = {
  ready: false, frame: 0, error: null, info: null,
  setWeight: () => {}, weights: () => ({}), reset: () => {}, play: () => {}, pause: () => {},
});

function fail(msg) {
  api.error = String(msg);
  document.body.dataset.state = 'error';
  $('status').textContent = 'error: ' + msg;
}

async function fetchOk(url, kind) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return kind === 'json' ? r.json() : r.arrayBuffer();
}

function views(info, buf) {
  const out = {};
  const ctor = { float32: Float32Array, uint32: Uint32Array };
  for (const [name, b] of Object.entries(info.buffers)) out[name] = new ctor[b.dtype](buf, b.offset, b.count);
  return out;
}

async function main() {
  const info = await fetchOk('/rig.json', 'json');
  api.info = info;
  document.title = `${info.title} · facerig viewer`;
  $('title').textContent = info.title;
  $('title').title = info.title;
  $('status').textContent = `loading ${(info.byte_length / 1e6).toFixed(1)} MB…`;
  const buf = await fetchOk('/rig.bin', 'bin');
  if (buf.byteLength !== info.byte_length) throw new Error(`rig.bin is ${buf.byteLength} bytes, expected ${info.byte_length}`);
  const a = views(info, buf);
  const V = info.num_vertices, K = info.num_shapes, names = info.names;

  // ---- renderer ----------------------------------------------------------------------------
  const canvas = $('view');
  let renderer;
  try {
    renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  } catch (e) {
    fail('WebGL 2 is not available in this browser (' + (e.message || e) + ')');
    return;
  }
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setClearColor(0x1d1f23, 1);
  canvas.addEventListener('webglcontextlost', (ev) => { ev.preventDefault(); fail('WebGL context lost (GPU memory?); reload the page'); });

  // ---- geometry: neutral + relative morph targets (deltas) ----------------------------------
  const geom = new THREE.BufferGeometry();
  geom.setAttribute('position', new THREE.BufferAttribute(a.positions, 3));
  if (a.normals) geom.setAttribute('normal', new THREE.BufferAttribute(a.normals, 3));
  if (a.indices) geom.setIndex(new THREE.BufferAttribute(a.indices, 1));
  if (K > 0) {
    const pos = [], nrm = [];
    for (let k = 0; k < K; k++) {
      const p = new THREE.BufferAttribute(a.deltas.subarray(k * V * 3, (k + 1) * V * 3), 3);
      p.name = names[k];
      pos.push(p);
      if (a.ndeltas) nrm.push(new THREE.BufferAttribute(a.ndeltas.subarray(k * V * 3, (k + 1) * V * 3), 3));
    }
    geom.morphAttributes.position = pos;
    if (a.ndeltas) geom.morphAttributes.normal = nrm;
    geom.morphTargetsRelative = true;
  }

  const lo = new THREE.Vector3(...info.bbox[0]), hi = new THREE.Vector3(...info.bbox[1]);
  const center = lo.clone().add(hi).multiplyScalar(0.5);
  const size = hi.clone().sub(lo);
  const up = new THREE.Vector3(...AXES[info.up]), fwd = new THREE.Vector3(...AXES[info.forward]);
  const right = new THREE.Vector3().crossVectors(up, fwd);
  const absDot = (v, w) => Math.abs(v.x * w.x) + Math.abs(v.y * w.y) + Math.abs(v.z * w.z);
  const width = Math.max(absDot(size, right), 1e-9), height = Math.max(absDot(size, up), 1e-9);
  const radius = Math.max(0.5 * size.length(), 1e-9);

  // the neutral copy shares the vertex/index buffers (uploaded once) but has no morph targets,
  // so it costs no morph work in the vertex shader
  const still = new THREE.BufferGeometry();
  for (const name of ['position', 'normal']) if (geom.getAttribute(name)) still.setAttribute(name, geom.getAttribute(name));
  if (geom.index) still.setIndex(geom.index);
  const makeObject = (g, color) => {
    if (a.indices) {
      const mat = new THREE.MeshStandardMaterial({ color, roughness: 0.62, metalness: 0.0, side: THREE.DoubleSide, flatShading: !a.normals });
      return new THREE.Mesh(g, mat);
    }
    return new THREE.Points(g, new THREE.PointsMaterial({ color, size: radius / 150 }));
  };
  const posed = makeObject(geom, 0xdcb49c);
  const neutral = makeObject(still, 0x9aa3ad);
  for (const o of [posed, neutral]) o.frustumCulled = false;  // morphs can leave the neutral's bounds
  if (K > 0 && !posed.morphTargetInfluences) posed.updateMorphTargets();
  const influences = posed.morphTargetInfluences || new Array(K).fill(0);

  const scene = new THREE.Scene();
  scene.add(posed, neutral);
  const camera = new THREE.PerspectiveCamera(30, 1, radius / 100, radius * 200);
  scene.add(camera);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x3a3d44, 1.4));
  const key = new THREE.DirectionalLight(0xffffff, 2.2);
  key.position.set(0.6, 0.8, 1.0);
  camera.add(key);  // the key light follows the camera (its target stays at the origin)

  const controls = new THREE.OrbitControls(camera, canvas);
  controls.enableDamping = false;
  controls.addEventListener('change', () => requestRender());

  // ---- layout: posed on the right, neutral on the left ----------------------------------------
  let sideBySide = true;
  const gap = 0.6 * width;
  function layout() {
    neutral.visible = sideBySide;
    posed.position.copy(center).negate();
    neutral.position.copy(center).negate();
    if (sideBySide) {
      posed.position.addScaledVector(right, gap);
      neutral.position.addScaledVector(right, -gap);
    }
  }
  function frameCamera() {
    resize();
    // fit the bounding box of what is shown (both heads when side by side) to the view
    const halfW = 0.5 * width + (sideBySide ? gap : 0), halfH = 0.5 * height;
    const depth = Math.max(absDot(size, fwd), 1e-9);
    const tanV = Math.tan(THREE.MathUtils.degToRad(camera.fov / 2));
    const dist = 1.12 * Math.max(halfH / tanV, halfW / (tanV * camera.aspect)) + 0.5 * depth;
    camera.up.copy(up);
    camera.position.copy(fwd).multiplyScalar(dist);
    controls.target.set(0, 0, 0);
    camera.near = dist / 100;
    camera.far = dist * 100;
    camera.updateProjectionMatrix();
    controls.update();
    requestRender();
  }

  const labels = { posed: $('label-posed'), neutral: $('label-neutral') };
  const tmp = new THREE.Vector3();
  function placeLabel(el, obj) {
    if (!obj.visible || !sideBySide) { el.style.display = 'none'; return; }
    tmp.copy(obj.position).add(center).addScaledVector(up, 0.5 * height * 1.08).project(camera);
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (tmp.z > 1 || tmp.z < -1) { el.style.display = 'none'; return; }
    el.style.display = 'block';
    el.style.left = `${((tmp.x + 1) / 2) * w}px`;
    el.style.top = `${Math.max(0, ((1 - tmp.y) / 2) * h - 18)}px`;
  }

  // ---- render on demand ---------------------------------------------------------------------
  let anim = null, advance = null;  // set up below when the server has an animation
  let pending = false;
  function requestRender() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  function resize() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    const s = renderer.getSize(new THREE.Vector2());
    if (w > 0 && h > 0 && (s.x !== w || s.y !== h)) {
      renderer.setSize(w, h, false);
      camera.aspect = w / h;
      camera.updateProjectionMatrix();
    }
  }
  function draw(now) {
    pending = false;
    if (anim && anim.playing) { advance(now); requestRender(); }
    resize();
    renderer.render(scene, camera);
    placeLabel(labels.posed, posed);
    placeLabel(labels.neutral, neutral);
    api.frame += 1;
  }
  new ResizeObserver(() => requestRender()).observe(canvas);

  // ---- sliders ------------------------------------------------------------------------------
  const rows = [], inputs = [], outputs = [];
  const list = $('sliders');
  const frag = document.createDocumentFragment();
  names.forEach((name, k) => {
    const row = document.createElement('div');
    row.className = 'shape' + (info.shape_max_displacement[k] > 0 ? '' : ' empty');
    row.dataset.name = name;
    const id = `w-${k}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = name;
    label.title = `${name}: max displacement ${info.shape_max_displacement[k]} (${info.units})`;
    const input = document.createElement('input');
    Object.assign(input, { type: 'range', min: '0', max: '1', step: '0.01', value: '0', id });
    input.dataset.shape = name;
    input.setAttribute('aria-label', name);
    const out = document.createElement('output');
    out.htmlFor = id;
    out.textContent = '0.00';
    input.addEventListener('input', () => setWeight(k, parseFloat(input.value)));
    input.addEventListener('dblclick', () => setWeight(k, 0));  // double-click a slider: back to 0
    label.addEventListener('dblclick', () => setWeight(k, influences[k] ? 0 : 1));
    row.append(label, input, out);
    frag.append(row);
    rows.push(row); inputs.push(input); outputs.push(out);
  });
  list.append(frag);

  function setWeight(k, v, fromAnim = false) {
    if (!(k >= 0 && k < K) || !Number.isFinite(v)) return;
    influences[k] = v;
    if (parseFloat(inputs[k].value) !== v) inputs[k].value = String(v);
    outputs[k].textContent = v.toFixed(2);
    rows[k].classList.toggle('active', v !== 0);
    if (!fromAnim) requestRender();
  }
  function reset() {
    if (anim) anim.pause();
    for (let k = 0; k < K; k++) setWeight(k, 0, true);
    requestRender();
  }
  const countEl = $('count');
  function filter() {
    const terms = $('search').value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    rows.forEach((row, k) => {
      const n = names[k].toLowerCase();
      const ok = terms.every((t) => n.includes(t));
      row.hidden = !ok;
      shown += ok;
    });
    countEl.textContent = terms.length ? `${shown} of ${K} shapes` : `${K} shapes`;
  }
  $('search').addEventListener('input', filter);
  $('search').addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.target.value = ''; filter(); } });
  $('reset').addEventListener('click', reset);
  $('side-by-side').addEventListener('change', (e) => { sideBySide = e.target.checked; layout(); frameCamera(); });
  $('wire').addEventListener('change', (e) => {
    for (const o of [posed, neutral]) if (o.material.wireframe !== undefined) o.material.wireframe = e.target.checked;
    requestRender();
  });
  $('frame').addEventListener('click', frameCamera);
  $('shot').addEventListener('click', () => {
    renderer.render(scene, camera);
    canvas.toBlob((blob) => {
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `${info.title.replace(/\.[^.]+$/, '')}-view.png`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });
  });
  filter();

  // ---- animation ----------------------------------------------------------------------------
  if (info.animation) {
    const d = await fetchOk('/anim.json', 'json');
    const index = new Map(names.map((n, k) => [n, k]));
    const cols = d.names.map((n) => index.get(n));
    const N = d.times.length;
    const step = d.interpolation === 'STEP';
    anim = {
      playing: false, t: 0, start: 0, frame: 0,
      play() {
        if (N < 2) return;
        if (this.t >= d.duration) this.t = 0;
        this.playing = true; this.start = performance.now() - this.t * 1000;
        $('play').textContent = 'Pause'; requestRender();
      },
      pause() { this.playing = false; $('play').textContent = 'Play'; },
      apply(t) {
        // linear interpolation between the keys around t
        let lo = 0, hi = N - 1;
        while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (d.times[mid] <= t) lo = mid; else hi = mid - 1; }
        const i = lo, j = Math.min(i + 1, N - 1);
        const span = d.times[j] - d.times[i];
        const f = span > 0 && !step ? Math.min(Math.max((t - d.times[i]) / span, 0), 1) : 0;
        const wi = d.weights[i], wj = d.weights[j];
        for (let c = 0; c < cols.length; c++) setWeight(cols[c], wi[c] + (wj[c] - wi[c]) * f, true);
        this.t = t; this.frame = i;
        $('scrub').value = String(i);
        $('anim-info').textContent = `${t.toFixed(2)} / ${d.duration.toFixed(2)} s · frame ${i + 1}/${N} · ${cols.length} channels`
          + (d.unmatched.length ? ` · ${d.unmatched.length} unmatched` : '');
        requestRender();
      },
    };
    advance = (now) => {
      let t = (now - anim.start) / 1000;
      if (t > d.duration) {
        if ($('loop').checked && d.duration > 0) { t %= d.duration; anim.start = now - t * 1000; } else { t = d.duration; anim.pause(); }
      }
      anim.apply(t);
    };
    $('anim').hidden = false;
    $('scrub').max = String(Math.max(N - 1, 0));
    $('scrub').addEventListener('input', (e) => { anim.pause(); anim.apply(d.times[parseInt(e.target.value, 10)]); });
    $('play').addEventListener('click', () => (anim.playing ? anim.pause() : anim.play()));
    anim.apply(0);
    api.animation = d;
  }

  // ---- keyboard -----------------------------------------------------------------------------
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement && e.target.type === 'search') return;
    if (e.key === 'r' || e.key === 'R') reset();
    else if (e.key === 'f' || e.key === 'F') frameCamera();
    else if (e.key === '/') { e.preventDefault(); $('search').focus(); }
    else if (e.key === ' ' && anim) { e.preventDefault(); anim.playing ? anim.pause() : anim.play(); }
  });

  // ---- status + API -------------------------------------------------------------------------
  const fmt = (n) => n.toLocaleString('en-US');
  const sizeTxt = [size.x, size.y, size.z].map((x) => x.toPrecision(3)).join(' × ');
  $('status').textContent = `${fmt(V)} vertices · ${fmt(info.num_faces)} faces · ${K} shapes · method ${info.method}`
    + ` · units ${info.units} · size ${sizeTxt}` + (info.missing.length ? ` · missing: ${info.missing.join(', ')}` : '');
  Object.assign(api, {
    setWeight: (name, v) => setWeight(names.indexOf(name), v),
    weights: () => Object.fromEntries(names.map((n, k) => [n, influences[k]]).filter(([, v]) => v !== 0)),
    reset,
    play: () => anim && anim.play(),
    pause: () => anim && anim.pause(),
    camera, controls, renderer,
  });

  layout();
  frameCamera();
  // mark ready only after the first frame with the mesh is on the canvas
  const firstFrame = api.frame;
  await new Promise((resolve) => {
    const poll = () => (api.frame > firstFrame ? resolve() : requestAnimationFrame(poll));
    requestAnimationFrame(poll);
  });
  api.ready = true;
  document.body.dataset.state = 'ready';
}

main().catch((e) => { console.error(e); fail(e.message || e); });
