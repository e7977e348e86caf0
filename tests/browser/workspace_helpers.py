"""Helpers for the workspace tests: real images behind the assets, screenshots, image<->screen maths."""
from pathlib import Path

from PIL import Image, ImageDraw

from webapp.assets.storage import media_path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"


def write_shot(asset, seed: int = 0) -> None:
    """A balloon-like picture at the asset's original path, so the viewer shows a real image."""
    img = Image.new("RGB", (asset.width, asset.height), (18, 24, 34))
    draw = ImageDraw.Draw(img)
    w, h = asset.width, asset.height
    draw.ellipse([w * 0.08, h * 0.3, w * 0.92, h * 0.7], fill=(120, 150, 175), outline=(220, 230, 240), width=4)
    draw.line([w * 0.3 + seed * 20, h * 0.42, w * 0.55 + seed * 20, h * 0.47], fill=(40, 40, 40), width=3)
    path = media_path(asset.original)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of an image pixel in the workspace viewer (the page's own conversion)."""
    return tuple(page.evaluate("([x, y]) => window.LOUPE_WS.viewer.toScreen(x, y)", [x, y]))


def open_workspace(page, url: str) -> None:
    """Open an item's workspace and wait until its image is on screen; on a timeout, say which requests failed."""
    failures: list[str] = []
    on_response = lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}")  # noqa: E731
    on_failed = lambda r: failures.append(f"failed {r.url}: {r.failure}")  # noqa: E731
    on_console = lambda m: m.type == "error" and failures.append(f"console: {m.text}")  # noqa: E731
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("console", on_console)
    page.bring_to_front()   # a page behind another may get no animation frames, and the viewer draws in them
    try:
        page.goto(url)
        page.wait_for_selector("body[data-workspace=ready]")
        page.wait_for_function("window.LOUPE_WS.viewer.osd.world.getItemAt(0) && "
                               "window.LOUPE_WS.viewer.osd.world.getItemAt(0).getFullyLoaded()")
    except Exception as exc:
        state = page.evaluate("""() => { const v = window.LOUPE_WS.viewer.osd, w = v.world, n = w.getItemCount();
            const loaded = [...Array(n).keys()].map(i => w.getItemAt(i).getFullyLoaded());
            const t = w.getItemAt(0), il = v.imageLoader;
            return {items: n, loaded, size: [v.container.clientWidth, v.container.clientHeight],
                    visibility: document.visibilityState,
                    tilesLoading: t && t._tilesLoading, jobs: il.jobsInProgress, queued: il.jobQueue.length,
                    opacity: t && t.getOpacity(), zoom: v.viewport.getZoom(true), src: t && t.source.url}; }""")
        raise AssertionError(f"workspace image not loaded: {state}; failures: {failures[-20:]}") from exc
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)
        page.remove_listener("console", on_console)
