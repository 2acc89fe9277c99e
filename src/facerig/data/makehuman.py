"""MakeHuman hm08 head family (CC0): a second topology, proportion model and ARKit rig author.

Data: ``$FACERIG_DATA/makehuman`` (see its README): ``3dobjs/base.obj`` (whole body + helper
geometry, decimetres, +Y up, face +Z, character's left +X), ``targets/`` (macro and regional
shape targets, ``idx dx dy dz`` text, optionally gzipped), ``faceunits01/`` (52 ARKit targets).

The head cut (:func:`head_cut`): polygons of group ``body`` whose vertices all lie above
``y = 5.5`` dm on the base mesh (head and neck, cut above the shoulders; the faceunits move
nothing below y = 5.78) plus the helper groups the faceunits move: eyes, upper/lower teeth,
tongue, eyelashes. ``cut_index`` (V,) maps head vertices to ``base.obj`` vertex indices (the cut
keeps base.obj order).

Identities (:meth:`MakeHumanFamily.sample_neutral`): a random convex macro blend following
``macrodetails/macro.json`` (race Dirichlet x gender x age in [child..old] x muscle x weight x
height x proportions, weights multiplied per combination file) plus random regional targets of
the head groups of ``target.json`` (head, neck, mouth, nose, eyes, ears, chin, cheek, forehead,
eyebrows; each category active with probability 1/2, a signed value ~ N(0, (0.4 e)^2) picks the
negative or positive target, sided categories get the same value +- a small asymmetry). The
exaggeration ``e`` scales the regional values. Each identity is translated so that its skin
centroid is the template's (macro targets move the head with the body height). Ground truth = the 52 face units, the same deltas
for every identity. Everything is parsed once into ``cache_dir("makehuman")/mh_v1.npz``.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

import numpy as np

from facerig import config
from facerig.arkit import ARKIT52
from facerig.errors import DataError

_log = logging.getLogger(__name__)

CACHE_VERSION = 1
MM_PER_UNIT = 100.0  # decimetres
NECK_CUT_Y = 5.5
HEAD_TARGET_GROUPS = ("head", "neck", "mouth", "nose", "eyes", "ears", "chin", "cheek", "forehead", "eyebrows")
#: base.obj face group -> region name (ICT-compatible names where they exist)
HELPER_REGIONS: dict[str, str] = {
    "helper-l-eye": "eyeball_left",
    "helper-r-eye": "eyeball_right",
    "helper-upper-teeth": "teeth",
    "helper-lower-teeth": "teeth",
    "helper-tongue": "gums_tongue",
    "helper-l-eyelashes-1": "eyelashes_left",
    "helper-l-eyelashes-2": "eyelashes_left",
    "helper-r-eyelashes-1": "eyelashes_right",
    "helper-r-eyelashes-2": "eyelashes_right",
}
REGION_NAMES: tuple[str, ...] = (
    "skin",
    "eyeball_left",
    "eyeball_right",
    "teeth",
    "gums_tongue",
    "eyelashes_left",
    "eyelashes_right",
)
MACRO_AGE = (0.35, 1.0)  # child/young .. old (no babies)


def makehuman_dir(required: bool = True) -> Path | None:
    root = config.data_root(required)
    p = root / "makehuman" if root is not None else None
    if p is None or not (p / "3dobjs" / "base.obj").is_file():
        if required:
            raise DataError(f"MakeHuman data not found ({p}); set FACERIG_DATA")
        return None
    return p


def read_target(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A ``.target`` / ``.target.gz`` file -> (indices (n,) int64, deltas (n, 3) float64)."""
    p = Path(path)
    raw = gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()
    lines = [ln for ln in raw.split(b"\n") if ln.strip() and not ln.lstrip().startswith(b"#")]
    if not lines:
        return np.zeros(0, np.int64), np.zeros((0, 3))
    a = np.array(b" ".join(lines).split(), dtype=np.float64)
    if a.size != 4 * len(lines):
        raise DataError(f"{p}: target lines must be 'index dx dy dz'")
    a = a.reshape(-1, 4)
    return a[:, 0].astype(np.int64), a[:, 1:]


def head_cut(base_obj: Path, y_cut: float = NECK_CUT_Y):
    """Cut the head from ``base.obj``.

    Returns:
        vertices (V, 3) f64 (dm), polygons (P, 4) int64 (cut indices), faces (F, 3) int64,
        regions (V,) int64 into :data:`REGION_NAMES`, cut_index (V,) int64 base.obj indices.
    """
    from facerig.io.obj import read_obj

    m = read_obj(base_obj)
    polys = [np.asarray(p, dtype=np.int64) for p in m.polygons]
    sizes = np.array([len(p) for p in polys])
    first_tri = np.concatenate([[0], np.cumsum(sizes - 2)[:-1]])
    pgroup = [m.group_names[g] for g in np.asarray(m.groups)[first_tri]]
    v = m.vertices
    keep, preg = [], []
    for i, (p, g) in enumerate(zip(polys, pgroup)):
        if g == "body" and (v[p, 1] > y_cut).all():
            keep.append(i)
            preg.append(0)
        elif g in HELPER_REGIONS:
            keep.append(i)
            preg.append(REGION_NAMES.index(HELPER_REGIONS[g]))
    used = np.zeros(v.shape[0], bool)
    for i in keep:
        used[polys[i]] = True
    cut_index = np.flatnonzero(used)
    remap = np.full(v.shape[0], -1, np.int64)
    remap[cut_index] = np.arange(cut_index.size)
    new_polys = [remap[polys[i]] for i in keep]
    regions = np.zeros(cut_index.size, np.int64)
    for p, r in zip(new_polys, preg):
        regions[p] = r
    from facerig.data.ict import triangulate

    return v[cut_index], new_polys, triangulate(new_polys), regions, cut_index


def _macro_parts(macro: dict, name: str, x: float) -> dict[str, float]:
    """Weights of the named levels of macro variable ``name`` at value ``x`` in [0, 1]."""
    for part in macro["macrotargets"][name]["parts"]:
        lo, hi = max(float(part["lowest"]), 0.0), min(float(part["highest"]), 1.0)
        if part["lowest"] <= x <= part["highest"] + 1e-9:
            t = float(np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0))
            out: dict[str, float] = {}
            if part["low"]:
                out[part["low"]] = out.get(part["low"], 0.0) + 1.0 - t
            if part["high"]:
                out[part["high"]] = out.get(part["high"], 0.0) + t
            return out
    return {}


class MakeHumanFamily:
    """MakeHuman hm08 heads (see module doc). Attributes as :class:`HeadFamily`, plus
    ``polygons`` (quads), ``cut_index`` (V,) base.obj vertex of each head vertex, ``template``."""

    name = "makehuman"

    def __init__(self, path: str | Path | None = None) -> None:
        z = _load_cache(Path(path) if path else None)
        self.template = z["vertices"]
        self.faces = z["faces"]
        self.polygons = list(z["polygons"])
        self.uv = None
        self.uv_faces = None
        self.regions = z["regions"]
        self.region_names = REGION_NAMES
        self.cut_index = z["cut_index"]
        from facerig.geometry.components import connected_components

        self.parts = connected_components(self.template.shape[0], self.faces)
        self.landmarks68 = None
        self.mm_per_unit = MM_PER_UNIT
        fu_names = [str(n) for n in z["faceunit_names"]]
        self.names = [n for n in ARKIT52 if n in fu_names]
        self._deltas = z["faceunit_deltas"][[fu_names.index(n) for n in self.names]]
        self.target_names = [str(n) for n in z["target_names"]]
        self._tindex = {n: i for i, n in enumerate(self.target_names)}
        self._targets = z["target_deltas"]
        self._macro = json.loads(str(z["macro_json"]))
        self._categories = json.loads(str(z["categories_json"]))
        # frame reference vertices on the template (see frame_points)
        skin = np.flatnonzero(self.regions == 0)
        t = self.template
        mid = skin[np.abs(t[skin, 0]) < 1e-3]
        self._nose = int(mid[np.argmax(t[mid, 2])])
        back, front = t[skin, 2].min(), t[skin, 2].max()
        front_mid = mid[t[mid, 2] > back + 0.82 * (front - back)]
        self._chin = int(front_mid[np.argmin(t[front_mid, 1])])

    @property
    def num_vertices(self) -> int:
        return int(self.template.shape[0])

    def macro_weights(self, rng: np.random.Generator) -> dict[str, float]:
        """Random convex macro blend -> {target name: weight} (see module doc)."""
        race = dict(zip(("african", "asian", "caucasian"), rng.dirichlet([1.0, 1.0, 1.0])))
        vals = {
            "gender": rng.random(),
            "age": rng.uniform(*MACRO_AGE),
            "muscle": rng.random(),
            "weight": rng.random(),
            "height": rng.random(),
            "proportions": rng.random(),
        }
        lv = {k: _macro_parts(self._macro, k, x) for k, x in vals.items()}
        w: dict[str, float] = {}

        def add(name: str, weight: float) -> None:
            if weight > 1e-6 and name in self._tindex:
                w[name] = w.get(name, 0.0) + weight

        for r, wr in race.items():
            for g, wg in lv["gender"].items():
                for a, wa in lv["age"].items():
                    add(f"macrodetails/{r}-{g}-{a}", wr * wg * wa)
        for g, wg in lv["gender"].items():
            for a, wa in lv["age"].items():
                for m_, wm in lv["muscle"].items():
                    for wt, ww in lv["weight"].items():
                        base = wg * wa * wm * ww
                        add(f"macrodetails/universal-{g}-{a}-{m_}-{wt}", base)
                        for h, wh in lv["height"].items():
                            add(f"macrodetails/height/{g}-{a}-{m_}-{wt}-{h}", base * wh)
                        for p, wp in lv["proportions"].items():
                            add(f"macrodetails/proportions/{g}-{a}-{m_}-{wt}-{p}", base * wp)
        return w

    def regional_weights(self, rng: np.random.Generator, exaggeration: float = 1.0) -> dict[str, float]:
        """Random regional head targets -> {target name: weight}."""
        w: dict[str, float] = {}
        for group, c in self._categories:
            if rng.random() >= 0.5:
                continue
            v = float(rng.normal(0.0, 0.4 * exaggeration))
            op = c.get("opposites")
            if not op:
                for t in c["targets"]:
                    w[f"{group}/{t}"] = abs(v)
                continue
            sign = "negative" if v < 0 else "positive"
            if c.get("has_left_and_right"):
                asym = float(rng.normal(0.0, 0.1 * exaggeration))
                for side, a in (("left", asym), ("right", -asym)):
                    if op.get(f"{sign}-{side}"):
                        w[f"{group}/{op[f'{sign}-{side}']}"] = max(abs(v) + a, 0.0)
            elif op.get(f"{sign}-unsided"):
                w[f"{group}/{op[f'{sign}-unsided']}"] = abs(v)
        return {k: x for k, x in w.items() if k in self._tindex and x > 0}

    def neutral_from_weights(self, weights: dict[str, float]) -> np.ndarray:
        """(V, 3) float64 = template + sum_t w_t target_t, translated so that the skin centroid
        stays the template's (macro targets change body height and move the whole head)."""
        out = self.template.copy()
        for n, x in weights.items():
            out += x * self._targets[self._tindex[n]]
        skin = self.regions == 0
        out += self.template[skin].mean(0) - out[skin].mean(0)
        return out

    def sample_neutral(self, rng: np.random.Generator, exaggeration: float = 1.0) -> np.ndarray:
        w = self.macro_weights(rng)
        for k, x in self.regional_weights(rng, exaggeration).items():
            w[k] = w.get(k, 0.0) + x
        return self.neutral_from_weights(w)

    def deltas_for(self, neutral: np.ndarray) -> np.ndarray:
        return self._deltas

    def frame_points(self, neutral: np.ndarray) -> dict[str, list[float] | float]:
        """Reference points for :func:`facerig.data.generator.reframe` (no landmarks here):
        chin, nose tip, ear level (eye height, mid depth), brow height, face half width."""
        eyes = [neutral[self.regions == REGION_NAMES.index(r)].mean(0) for r in ("eyeball_left", "eyeball_right")]
        eye_c = 0.5 * (eyes[0] + eyes[1])
        eye_half = 0.5 * float(abs(eyes[0][0] - eyes[1][0]))
        chin, nose = neutral[self._chin], neutral[self._nose]
        skin = neutral[self.regions == 0]
        back, front = float(skin[:, 2].min()), float(skin[:, 2].max())
        ear = np.array([eye_c[0], eye_c[1], back + 0.6 * (front - back)])
        return {
            "chin": chin.tolist(),
            "nose": nose.tolist(),
            "ear": ear.tolist(),
            "brow_y": float(eye_c[1] + 0.16 * (eye_c[1] - chin[1])),
            "half_width": 2.3 * eye_half,
        }


def _cache_path() -> Path:
    return config.cache_dir("makehuman") / f"mh_v{CACHE_VERSION}.npz"


def _load_cache(path: Path | None) -> dict:
    cp = _cache_path()
    if not cp.is_file():
        _convert(path or makehuman_dir(), cp)
    with np.load(cp, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    counts = d.pop("poly_counts")
    d["polygons"] = np.split(d.pop("poly_index").astype(np.int64), np.cumsum(counts)[:-1])
    return d


def _convert(root: Path, out: Path) -> None:
    t0 = time.time()
    config.cache_note("makehuman", f"the MakeHuman head conversion of {root}", cost="about 30 s")
    verts, polys, faces, regions, cut_index = head_cut(root / "3dobjs" / "base.obj")
    V = verts.shape[0]
    remap = np.full(int(cut_index.max()) + 100000, -1, np.int64)
    remap[cut_index] = np.arange(V)

    def dense(path: Path) -> np.ndarray:
        idx, d = read_target(path)
        ok = idx < remap.size
        idx, d = idx[ok], d[ok]
        r = remap[idx]
        out_arr = np.zeros((V, 3), np.float32)
        out_arr[r[r >= 0]] = d[r >= 0]
        return out_arr

    tdir = root / "targets"
    macro = json.loads((tdir / "macrodetails" / "macro.json").read_text())
    tj = json.loads((tdir / "target.json").read_text())
    names, arrays = [], []
    for p in sorted((tdir / "macrodetails").rglob("*.target*")):
        rel = p.relative_to(tdir).as_posix().split(".target")[0]
        names.append(rel)
        arrays.append(dense(p))
    cats = []
    for g in HEAD_TARGET_GROUPS:
        for c in tj.get(g, {}).get("categories", []):
            cats.append((g, c))
            for t in c["targets"]:
                p = next((q for q in (tdir / g / f"{t}.target.gz", tdir / g / f"{t}.target") if q.is_file()), None)
                if p is not None and f"{g}/{t}" not in names:
                    names.append(f"{g}/{t}")
                    arrays.append(dense(p))
    fdir = root / "faceunits01" / "targets" / "faceunits"
    fu = sorted(fdir.glob("*.target*"))
    if not fu:
        raise DataError(f"{fdir}: no face unit targets")
    fu_names = [p.name.split(".target")[0] for p in fu]
    fu_d = np.stack([dense(p) for p in fu])
    from facerig.io.atomic import atomic_path

    counts = np.array([len(p) for p in polys], np.int64)
    with atomic_path(out, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                version=np.int64(CACHE_VERSION),
                vertices=verts,
                faces=faces,
                poly_counts=counts,
                poly_index=np.concatenate(polys).astype(np.int32),
                regions=regions,
                cut_index=cut_index,
                target_names=np.array(names),
                target_deltas=np.stack(arrays),
                faceunit_names=np.array(fu_names),
                faceunit_deltas=fu_d,
                macro_json=np.array(json.dumps(macro)),
                categories_json=np.array(json.dumps(cats)),
            )
    _log.info(
        "  makehuman: cached %s (%d head vertices, %d targets, %.0f MB, %.1f s)",
        out,
        V,
        len(names),
        out.stat().st_size / 1e6,
        time.time() - t0,
    )
