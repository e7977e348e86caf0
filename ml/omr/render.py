"""Renderer: real music (music21's bundled corpus or any MusicXML file) engraved by verovio to SVG,
rasterised by cairosvg at a chosen dpi, with every symbol's bounding box and class in pixels.

Boxes come from the SVG geometry itself (glyph outlines, stroked lines, polygons, ellipses) under the
accumulated transforms, so they are tight and exact; text (titles, labels, measure numbers, tempo) is
stripped before rasterising, which also keeps fonts out of the picture. Output is deterministic: verovio
gets a fixed id seed and no header/footer.
"""
from __future__ import annotations

import functools
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from xml.etree import ElementTree as ET

import numpy as np

from formats.omr import deepscores
from ml.omr.config import RenderConfig

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# SMuFL code point -> DeepScores-style class name.
GLYPH_CLASSES: dict[str, str] = {
    "E0A0": "noteheadDoubleWhole", "E0A2": "noteheadWhole", "E0A3": "noteheadHalf", "E0A4": "noteheadBlack",
    "E0A9": "noteheadXBlack",
    "E050": "clefG", "E052": "clefG8vb", "E053": "clefG8va", "E05C": "clefCAlto", "E062": "clefF",
    "E069": "clefUnpitchedPercussion",
    **{f"E08{i}": f"timeSig{i}" for i in range(10)}, "E08A": "timeSigCommon", "E08B": "timeSigCutCommon",
    "E240": "flag8thUp", "E241": "flag8thDown", "E242": "flag16thUp", "E243": "flag16thDown",
    "E244": "flag32ndUp", "E245": "flag32ndDown", "E246": "flag64thUp", "E247": "flag64thDown",
    "E260": "accidentalFlat", "E261": "accidentalNatural", "E262": "accidentalSharp",
    "E263": "accidentalDoubleSharp", "E264": "accidentalDoubleFlat",
    "E4A0": "articAccentAbove", "E4A1": "articAccentBelow", "E4A2": "articStaccatoAbove",
    "E4A3": "articStaccatoBelow", "E4A4": "articTenutoAbove", "E4A5": "articTenutoBelow",
    "E4A6": "articStaccatissimoAbove", "E4A7": "articStaccatissimoBelow",
    "E4AC": "articMarcatoAbove", "E4AD": "articMarcatoBelow",
    "E4C0": "fermataAbove", "E4C1": "fermataBelow",
    "E4E2": "restDoubleWhole", "E4E3": "restWhole", "E4E4": "restHalf", "E4E5": "restQuarter",
    "E4E6": "rest8th", "E4E7": "rest16th", "E4E8": "rest32nd", "E4E9": "rest64th",
    "E520": "dynamicPiano", "E521": "dynamicMezzo", "E522": "dynamicForte", "E523": "dynamicRinforzando",
    "E524": "dynamicSforzando", "E525": "dynamicZ", "E526": "dynamicNiente",
    "E527": "dynamicPPPPPP", "E528": "dynamicPPPPP", "E529": "dynamicPPPP", "E52A": "dynamicPPP",
    "E52B": "dynamicPP", "E52C": "dynamicMP", "E52D": "dynamicMF", "E52E": "dynamicPF", "E52F": "dynamicFF",
    "E530": "dynamicFFF", "E531": "dynamicFFFF", "E534": "dynamicFortePiano", "E535": "dynamicForzando",
    "E536": "dynamicSforzando1", "E539": "dynamicSforzato", "E53C": "dynamicRinforzando1",
    "E26A": "accidentalParensLeft", "E26B": "accidentalParensRight",
    "E566": "ornamentTrill", "E567": "ornamentTurn", "E56C": "ornamentMordent", "E56D": "ornamentMordentInverted",
    **{f"E88{i}": f"tuplet{i}" for i in range(10)},
    "E4CE": "breathMarkComma", "E047": "segno", "E048": "coda",
}
KEY_CLASSES = {"accidentalFlat": "keyFlat", "accidentalSharp": "keySharp", "accidentalNatural": "keyNatural"}
# Element classes drawn with lines/polygons/curves and their symbol class.
ELEMENT_CLASSES = {
    "stem": "stem", "beam": "beam", "barLine": "barline", "ledgerLines": "ledgerLine", "tie": "tie",
    "slur": "slur", "dots": "augmentationDot", "grpSym": "brace", "tupletBracket": "tupletBracket",
    "hairpin": "hairpin", "mRest": "restWhole", "bracketSpan": "bracket", "octave": "ottava",
}
MERGE_ELEMENTS = {"grpSym", "tupletBracket", "hairpin", "octave"}   # all primitives form one symbol


@dataclass
class Symbol:
    cls: str
    bbox: tuple[float, float, float, float]   # x0, y0, x1, y1 in page pixels (pixel edges)
    element: str = ""
    id: str = ""

    def to_dict(self) -> dict:
        return {"class": self.cls, "bbox": [round(v, 3) for v in self.bbox], "element": self.element, "id": self.id}


@dataclass
class Page:
    image: np.ndarray                  # H x W uint8, white paper = 255
    symbols: list[Symbol]
    dpi: float
    piece: str = ""
    page: int = 1
    font: str = "Leipzig"
    svg: str = field(default="", repr=False)
    staff_lines: list[float] = field(default_factory=list)   # y of every staff line, for DS2's notehead split

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def boxes(self, classes: Iterable[str] | None = None) -> np.ndarray:
        keep = set(classes) if classes is not None else None
        rows = [s.bbox for s in self.symbols if keep is None or s.cls in keep]
        return np.asarray(rows, dtype=np.float64).reshape(-1, 4)

    def annotation(self) -> dict:
        return {"piece": self.piece, "page": self.page, "dpi": self.dpi, "font": self.font,
                "width": self.size[0], "height": self.size[1], "symbols": [s.to_dict() for s in self.symbols],
                "staff_lines": [round(y, 3) for y in self.staff_lines]}


# --------------------------------------------------------------------------------------------- sources

def musicxml_for(piece: str) -> str:
    """MusicXML text for a corpus name (``bach/bwv66.6``) or a file path (.xml, .musicxml, .mxl, or any
    format music21 reads)."""
    return _musicxml_cached(piece)


@functools.lru_cache(maxsize=64)
def _musicxml_cached(piece: str) -> str:
    path = Path(piece)
    if not path.exists():
        from music21 import corpus

        try:
            found = corpus.getWork(piece)
        except Exception as e:  # music21 raises its own CorpusException
            raise ValueError(f"no corpus work or file named {piece!r}") from e
        if not found:
            raise ValueError(f"no corpus work or file named {piece!r}")
        path = Path(found[0] if isinstance(found, list) else found)
    suffix = path.suffix.lower()
    if suffix == ".mxl":
        with zipfile.ZipFile(path) as zf:
            container = zf.read("META-INF/container.xml").decode("utf-8", "replace")
            m = re.search(r'full-path="([^"]+)"', container)
            name = m.group(1) if m else next(n for n in zf.namelist() if n.endswith(".xml") and "META" not in n)
            return zf.read(name).decode("utf-8", "replace")
    if suffix in (".xml", ".musicxml"):
        return path.read_text(encoding="utf-8", errors="replace")
    from music21 import converter
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = converter.parse(str(path))
    return GeneralObjectExporter(score).parse().decode("utf-8")


def _toolkit(cfg: RenderConfig):
    import verovio

    try:
        verovio.enableLog(verovio.LOG_OFF if hasattr(verovio, "LOG_OFF") else False)
    except Exception:  # pragma: no cover - logging switch differs between verovio versions
        pass
    tk = verovio.toolkit()
    tk.setOptions({
        "xmlIdSeed": cfg.id_seed, "header": "none", "footer": "none", "adjustPageHeight": False,
        "pageWidth": int(round(cfg.page_width_mm * 10)), "pageHeight": int(round(cfg.page_height_mm * 10)),
        "scale": cfg.scale, "font": cfg.font, "breaks": "auto", "spacingSystem": cfg.spacing_system,
        "svgViewBox": False,
    })
    return tk


def engrave(piece: str, cfg: RenderConfig = RenderConfig()) -> list[str]:
    """All pages of a piece as verovio SVG strings (text stripped)."""
    return list(_engrave_cached(piece, cfg))


@functools.lru_cache(maxsize=32)
def _engrave_cached(piece: str, cfg: RenderConfig) -> tuple[str, ...]:
    tk = _toolkit(cfg)
    if not tk.loadData(musicxml_for(piece)):
        raise ValueError(f"verovio could not load {piece!r}")
    return tuple(strip_text(tk.renderToSVG(i + 1)) for i in range(tk.getPageCount()))


def page_count(piece: str, cfg: RenderConfig = RenderConfig()) -> int:
    return len(engrave(piece, cfg))


_TEXT_RE = re.compile(r"<text\b[^>]*/>|<text\b.*?</text>", re.S)


def strip_text(svg: str) -> str:
    return _TEXT_RE.sub("", svg)


# --------------------------------------------------------------------------------------------- render

def render_page(piece: str, page: int = 1, cfg: RenderConfig = RenderConfig()) -> Page:
    svgs = engrave(piece, cfg)
    if not 1 <= page <= len(svgs):
        raise ValueError(f"{piece!r} has {len(svgs)} page(s); asked for page {page}")
    return render_svg(svgs[page - 1], cfg, piece=piece, page=page)


def render_piece(piece: str, cfg: RenderConfig = RenderConfig(), max_pages: int | None = None) -> list[Page]:
    svgs = engrave(piece, cfg)[: max_pages or None]
    return [render_svg(s, cfg, piece=piece, page=i + 1) for i, s in enumerate(svgs)]


def page_pixels(cfg: RenderConfig) -> tuple[int, int]:
    return (int(round(cfg.page_width_mm / 25.4 * cfg.dpi)), int(round(cfg.page_height_mm / 25.4 * cfg.dpi)))


def render_svg(svg: str, cfg: RenderConfig = RenderConfig(), piece: str = "", page: int = 1) -> Page:
    import cairosvg

    width, height = page_pixels(cfg)
    sized = re.sub(r'<svg width="[^"]*" height="[^"]*"', f'<svg width="{width}px" height="{height}px"', svg, count=1)
    png = cairosvg.svg2png(bytestring=sized.encode("utf-8"), output_width=width, output_height=height,
                           background_color="white")
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.uint8).copy()
    lines: list[float] = []
    symbols = svg_symbols(svg, width, height, staff_lines=lines)
    return Page(image=image, symbols=symbols, dpi=cfg.dpi, piece=piece, page=page, font=cfg.font, svg=svg,
                staff_lines=sorted(lines))


# --------------------------------------------------------------------------------------------- geometry

def _parse_transform(text: str | None) -> np.ndarray:
    m = np.eye(3)
    if not text:
        return m
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text):
        v = [float(a) for a in re.split(r"[\s,]+", args.strip()) if a]
        t = np.eye(3)
        if name == "translate":
            t[0, 2], t[1, 2] = v[0], (v[1] if len(v) > 1 else 0.0)
        elif name == "scale":
            t[0, 0], t[1, 1] = v[0], (v[1] if len(v) > 1 else v[0])
        elif name == "matrix":
            t[:2, :] = np.array(v).reshape(3, 2).T
        elif name == "rotate":
            a = math.radians(v[0])
            r = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
            if len(v) == 3:
                r = _translate(v[1], v[2]) @ r @ _translate(-v[1], -v[2])
            t = r
        m = m @ t
    return m


def _translate(x: float, y: float) -> np.ndarray:
    t = np.eye(3)
    t[0, 2], t[1, 2] = x, y
    return t


_PATH_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def path_points(d: str, samples: int = 12) -> np.ndarray:
    """Points outlining an SVG path (curves sampled), for a tight bounding box."""
    tokens = _PATH_TOKEN.findall(d)
    pts: list[tuple[float, float]] = []
    i, cmd = 0, ""
    cur = np.zeros(2)
    start = np.zeros(2)
    last_ctrl: np.ndarray | None = None
    ts = np.linspace(0, 1, samples + 1)[1:, None]

    def nums(k):
        nonlocal i
        vals = [float(tokens[i + j]) for j in range(k)]
        i += k
        return vals

    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                cur = start.copy()
                last_ctrl = None
                continue
        if not cmd:
            i += 1
            continue
        rel = cmd.islower()
        c = cmd.upper()
        base = cur if rel else np.zeros(2)
        ctrl = None
        if c == "M":
            x, y = nums(2)
            cur = base + (x, y)
            start = cur.copy()
            pts.append(tuple(cur))
            cmd = "l" if rel else "L"
        elif c == "L":
            x, y = nums(2)
            cur = base + (x, y)
            pts.append(tuple(cur))
        elif c == "H":
            (x,) = nums(1)
            cur = np.array([cur[0] + x if rel else x, cur[1]])
            pts.append(tuple(cur))
        elif c == "V":
            (y,) = nums(1)
            cur = np.array([cur[0], cur[1] + y if rel else y])
            pts.append(tuple(cur))
        elif c in "CS":
            if c == "C":
                v = nums(6)
                p1, p2, p3 = base + v[0:2], base + v[2:4], base + v[4:6]
            else:
                v = nums(4)
                p1 = 2 * cur - last_ctrl if last_ctrl is not None else cur.copy()
                p2, p3 = base + v[0:2], base + v[2:4]
            curve = ((1 - ts) ** 3) * cur + 3 * ((1 - ts) ** 2) * ts * p1 + 3 * (1 - ts) * ts ** 2 * p2 + ts ** 3 * p3
            pts.extend(map(tuple, curve))
            cur, ctrl = p3, p2
        elif c in "QT":
            if c == "Q":
                v = nums(4)
                p1, p2 = base + v[0:2], base + v[2:4]
            else:
                v = nums(2)
                p1 = 2 * cur - last_ctrl if last_ctrl is not None else cur.copy()
                p2 = base + v[0:2]
            curve = ((1 - ts) ** 2) * cur + 2 * (1 - ts) * ts * p1 + ts ** 2 * p2
            pts.extend(map(tuple, curve))
            cur, ctrl = p2, p1
        elif c == "A":  # arcs are rare in engraving; bound them by their end point
            v = nums(7)
            cur = base + v[5:7]
            pts.append(tuple(cur))
        last_ctrl = ctrl
    return np.asarray(pts, dtype=np.float64).reshape(-1, 2)


def _stroked_line_points(pts: np.ndarray, width: float, round_cap: bool) -> np.ndarray:
    if width <= 0 or len(pts) == 0:
        return pts
    out = []
    for a, b in zip(pts[:-1], pts[1:]) if len(pts) > 1 else [(pts[0], pts[0])]:
        d = b - a
        n = np.array([-d[1], d[0]])
        norm = np.hypot(*n)
        n = n / norm * width / 2 if norm > 0 else np.array([width / 2, width / 2])
        out.extend([a + n, a - n, b + n, b - n])
        if round_cap:
            r = width / 2
            for p in (a, b):
                out.extend([p + (r, r), p - (r, r)])
    return np.asarray(out)


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if len(pts) == 0:
        return pts
    h = np.c_[pts, np.ones(len(pts))] @ m.T
    return h[:, :2] / h[:, 2:3]


def svg_symbols(svg: str, width: int, height: int, staff_lines: list[float] | None = None) -> list[Symbol]:
    """Every symbol's class and pixel box, from the SVG geometry, for a raster of ``width`` x ``height``;
    the y of each staff line is appended to ``staff_lines`` when given."""
    root = ET.fromstring(svg)
    glyphs: dict[str, tuple[str, np.ndarray]] = {}
    for g in root.iter(f"{SVG_NS}g"):
        gid = g.get("id", "")
        m = re.match(r"^(E[0-9A-F]{3})-", gid)
        if m:
            pts = [_apply(_parse_transform(p.get("transform")), path_points(p.get("d", "")))
                   for p in g.iter(f"{SVG_NS}path")]
            glyphs[gid] = (m.group(1), np.vstack(pts) if pts else np.zeros((0, 2)))

    inner = root.find(f"{SVG_NS}svg")
    vb = [float(v) for v in inner.get("viewBox").split()] if inner is not None and inner.get("viewBox") else \
        [0, 0, float(width), float(height)]
    s = min(width / vb[2], height / vb[3])
    to_px = np.array([[s, 0, (width - vb[2] * s) / 2 - vb[0] * s], [0, s, (height - vb[3] * s) / 2 - vb[1] * s],
                      [0, 0, 1]])

    symbols: list[Symbol] = []
    merged: dict[str, list] = {}

    def element_class(classes: list[str]) -> tuple[str, str]:
        for el_cls, el_id in reversed(classes):
            if el_cls in ELEMENT_CLASSES or el_cls in ("note", "accid", "keyAccid", "rest", "clef", "meterSig",
                                                       "dynam", "artic", "fermata", "flag", "staff", "trill",
                                                       "tupletNum", "notehead", "mRest", "keySig"):
                return el_cls, el_id
        return (classes[-1] if classes else ("", ""))

    def add(cls_name: str, element: str, el_id: str, pts: np.ndarray, merge: bool):
        if len(pts) == 0:
            return
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        if merge:
            merged.setdefault(el_id, [cls_name, element, []])[2].append(pts)
            return
        symbols.append(Symbol(cls_name, (float(x0), float(y0), float(x1), float(y1)), element, el_id))

    def walk(node, m: np.ndarray, ctx: list[tuple[str, str]], in_defs: bool):
        tag = node.tag.replace(SVG_NS, "")
        if tag in ("defs", "style", "desc", "title", "text"):
            return
        m = m @ _parse_transform(node.get("transform"))
        if tag == "svg" and node is not root and node.get("viewBox"):
            m = to_px
        if tag == "g":
            klass = node.get("class", "")
            if "bounding-box" in klass or "placeholder" in klass:
                return
            if klass:
                ctx = ctx + [(klass.split()[0], node.get("id") or f"{klass.split()[0]}@{len(symbols)}")]
        el, el_id = element_class(ctx) if ctx else ("", "")
        if el == "staff" and tag in ("path",):
            if staff_lines is not None:  # a staff line: not a symbol, but where noteheads sit on or between
                pts = _apply(m, path_points(node.get("d", "")))
                if len(pts) and np.ptp(pts[:, 1]) < 0.5 * max(1.0, np.ptp(pts[:, 0])):
                    staff_lines.append(float(pts[:, 1].mean()))
            return
        merge = el in MERGE_ELEMENTS
        if tag == "use":
            ref = node.get(XLINK_HREF) or node.get("href") or ""
            code, gpts = glyphs.get(ref.lstrip("#"), ("", np.zeros((0, 2))))
            cls_name = GLYPH_CLASSES.get(code, f"glyph{code}")
            if el == "keyAccid" or (el == "keySig"):
                cls_name = KEY_CLASSES.get(cls_name, cls_name)
            if el in ("grpSym",):
                cls_name = ELEMENT_CLASSES[el]
            if el == "mRest":
                cls_name = GLYPH_CLASSES.get(code, "restWhole")
            add(cls_name, el, el_id + f"#{len(symbols)}" if not merge else el_id,
                _apply(m, gpts), merge)
            return
        if tag in ("path", "polygon", "polyline", "rect", "ellipse", "circle", "line"):
            sw = float(node.get("stroke-width", "0") or 0)
            round_cap = node.get("stroke-linecap") == "round"
            if tag == "path":
                pts = path_points(node.get("d", ""))
                filled = bool(re.search(r"[CcQqSsTtZz]", node.get("d", "")))
                pts = np.vstack([pts, _stroked_line_points(pts, sw, round_cap)]) if filled else \
                    _stroked_line_points(pts, sw, round_cap)
            elif tag in ("polygon", "polyline"):
                nums_ = [float(v) for v in re.split(r"[\s,]+", node.get("points", "").strip()) if v]
                pts = np.asarray(nums_, dtype=np.float64).reshape(-1, 2)
                if tag == "polyline":
                    pts = _stroked_line_points(pts, sw, round_cap)
            elif tag == "rect":
                x, y = float(node.get("x", 0)), float(node.get("y", 0))
                w, h = float(node.get("width", 0)), float(node.get("height", 0))
                pts = np.array([[x, y], [x + w, y + h]])
            elif tag in ("ellipse", "circle"):
                cx, cy = float(node.get("cx", 0)), float(node.get("cy", 0))
                rx = float(node.get("rx", node.get("r", 0)))
                ry = float(node.get("ry", node.get("r", 0)))
                pts = np.array([[cx - rx, cy - ry], [cx + rx, cy + ry]])
            else:
                pts = np.array([[float(node.get("x1", 0)), float(node.get("y1", 0))],
                                [float(node.get("x2", 0)), float(node.get("y2", 0))]])
                pts = _stroked_line_points(pts, sw, round_cap)
            cls_name = ELEMENT_CLASSES.get(el)
            if cls_name is None:
                return
            add(cls_name, el, el_id if merge else f"{el_id}#{len(symbols)}", _apply(m, pts), merge)
            return
        for child in node:
            walk(child, m, ctx, in_defs)

    walk(root, np.eye(3), [], False)
    for el_id, (cls_name, element, parts) in merged.items():
        pts = np.vstack(parts)
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        symbols.append(Symbol(cls_name, (float(x0), float(y0), float(x1), float(y1)), element, el_id))
    out = []
    for sym in symbols:
        x0, y0, x1, y1 = sym.bbox
        x0, x1 = max(0.0, x0), min(float(width), x1)
        y0, y1 = max(0.0, y0), min(float(height), y1)
        if x1 - x0 > 0.05 and y1 - y0 > 0.05:
            sym.bbox = (x0, y0, x1, y1)
            out.append(sym)
    out.sort(key=lambda s: (round(s.bbox[1]), s.bbox[0], s.cls))
    return out


# --------------------------------------------------------------------------------------------- export

def class_list(pages: Iterable[Page]) -> list[str]:
    return sorted({s.cls for p in pages for s in p.symbols})


def page_record(page: Page, filename: str, image_id: int | None = None) -> dict:
    """A page as ``formats.omr.deepscores`` reads it (renderer classes, pixel boxes, staff lines)."""
    return {"id": image_id or page.page, "file_name": filename, "width": page.size[0], "height": page.size[1],
            "symbols": [{"class": s.cls, "bbox": list(s.bbox)} for s in page.symbols], "staff_lines": page.staff_lines}


def to_deepscores(pages: list[Page], filenames: list[str]) -> dict:
    """DeepScoresV2 JSON (DS2's class names and ids; classes DS2 lacks are left out)."""
    records = [page_record(p, f, i) for i, (p, f) in enumerate(zip(pages, filenames), start=1)]
    return json.loads("".join(deepscores.to_deepscores(records, "Loupe OMR renders (music21 corpus, verovio)")))


def to_coco(pages: list[Page], filenames: list[str]) -> dict:
    """COCO detection with DS2's class names and fixed ids as categories."""
    records = [page_record(p, f, i) for i, (p, f) in enumerate(zip(pages, filenames), start=1)]
    return json.loads("".join(deepscores.to_coco(records)))


def write_pages(pages: list[Page], out: str | Path, stem: str = "page") -> dict:
    """PNG per page + per-page JSON + deepscores.json + coco.json in ``out``."""
    from PIL import Image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for p in pages:
        name = f"{stem}{p.page:03d}.png"
        Image.fromarray(p.image).save(out / name, optimize=False, compress_level=3)
        (out / f"{stem}{p.page:03d}.json").write_text(json.dumps(p.annotation()))
        names.append(name)
    (out / "deepscores.json").write_text(json.dumps(to_deepscores(pages, names)))
    (out / "coco.json").write_text(json.dumps(to_coco(pages, names)))
    return {"pages": names, "symbols": sum(len(p.symbols) for p in pages)}


def load_page(png: str | Path) -> Page:
    """A page written by ``write_pages`` (PNG + sibling JSON); a bare PNG gives a page without symbols."""
    from PIL import Image

    png = Path(png)
    image = np.asarray(Image.open(png).convert("L"), dtype=np.uint8)
    meta = png.with_suffix(".json")
    if meta.exists():
        d = json.loads(meta.read_text())
        syms = [Symbol(s["class"], tuple(s["bbox"]), s.get("element", ""), s.get("id", "")) for s in d["symbols"]]
        return Page(image, syms, d.get("dpi", 150.0), d.get("piece", ""), d.get("page", 1), d.get("font", ""),
                    staff_lines=d.get("staff_lines", []))
    return Page(image, [], 150.0)
