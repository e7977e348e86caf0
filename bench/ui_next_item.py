"""The operator workspace in Chromium (Playwright, loopback, demo data): how long from pressing `n` to
the next item's image and the model's proposal being drawn, and how much memory Chromium holds on a
7000×10000 px page after panning across it at full resolution.

    python bench/ui_next_item.py [--items 50] [--part all|time|memory|soak] [--memory-dump]
    python bench/ui_next_item.py --part time --items 100 --compare [--modes images,lease] --busy
    python bench/ui_next_item.py --part soak --soak-items 200 --prefetch lease

``--compare``: the timing for each of ``--modes`` side by side in one run (one project and one browser page
each, the pages taking turns item by item): what the page does ahead of ``n``: ``images`` (the likely next
item's images only), ``item`` (also its details and proposal, drawn while take-next runs), ``lease`` (the
next item leased ahead with its details and images: ``n`` draws it with no request on the way), ``none``.
``--part soak``: the page's memory over a long session: the big page panned, then ``--soak-items`` items
(``n``, drawn, submit) in the same page, Chromium's PSS after a garbage collection every 50 items.
``--busy``: beside the measured page, a Celery infer worker predicting a stream of catheter items (a
freshly initialised model of the CPU preset registered as a scope's champion) and a real training run
(``python -m workers.pretrained build catheter`` into the work folder); both start before the timing
and are stopped after it.

Seeds a catheter project with the demo generator's balloons (3 shots each, tiles built) and a proposal
per item, serves it with daphne, then: the operator submits the proposal (Ctrl+Enter) and presses `n`;
the time runs from the key press to the workspace being ready with the next item's base image fully
loaded and every proposal shape drawn (the first item, opened from the queue page with a cold cache, is
not counted); where the time went is printed too: the workspace's performance marks and each request's
wait for the server and whether the browser's cache answered (Resource Timing). Memory: proportional set
size (PSS) summed over every Chromium process (browser, renderer, GPU, utility, zygote), after the big
page was panned tile by tile at 1:1, with the page's own share (minus the same browser on about:blank);
``--memory-dump`` adds Chromium's own accounting per process type and allocator. Targets: p95 <= 300 ms,
memory <= 500 MB.
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _busy_load import busy_report, start_busy  # noqa: E402
from _chromium_memory import chromium_pss_mb, memory_dump  # noqa: E402
from _loop_env import ROOT, prepare_environment, stop  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TARGET_P95_MS = 300
TARGET_MEMORY_MB = 500
TARGET_SOAK_PAGE_MB = 200   # the page's own share after the big page and 200 items
MODES = ["images", "item", "lease", "none"]
BIG = (7000, 10000)
PAN = """async () => {
              const v = window.LOUPE_WS.viewer.osd, base = v.world.getItemAt(0);
              v.viewport.zoomTo(base.imageToViewportZoom(1), null, true);
              const size = base.getContentSize(), view = v.viewport.getBoundsNoRotate();
              const w = view.width, h = view.height, n = [];
              const settle = () => new Promise((ok) => {  // tiles of this screen loaded (at most 2 s on a busy machine)
                const end = Date.now() + 2000;
                const check = () => (base.getFullyLoaded() || Date.now() > end) ? ok() : setTimeout(check, 20);
                setTimeout(check, 30);
              });
              const cols = Math.ceil(size.x / base.viewportToImageCoordinates(w, 0).x),
                rows = Math.ceil(size.y / base.viewportToImageCoordinates(0, h).y);
              for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) {
                const c = r % 2 ? cols - 1 - k : k;  // serpentine: every screen of the page once
                const p = base.imageToViewportCoordinates((c + 0.5) * size.x / cols, (r + 0.5) * size.y / rows);
                v.viewport.panTo(p, true); await settle(); n.push(1);
              }
              return n.length;
            }"""
DRAWN = r"""() => {
  const ws = window.LOUPE_WS;
  // the next item, ready (the one where `n` was pressed stays "ready" until the next one loads)
  if (document.body.dataset.workspace !== "ready" || !ws ||
      String(ws.item.id) === sessionStorage.getItem("prev")) return false;
  const base = ws.viewer.osd.world.getItemAt(0);
  if (!base || !base.getFullyLoaded()) return false;
  const want = ws.editor.proposal(ws.item.prediction, ws.view()).length;
  if (document.querySelectorAll(".layer-proposal .shape").length !== want) return false;
  const t0 = Number(sessionStorage.getItem("t0")), origin = performance.timeOrigin;
  const at = (name) => {  // the last mark of that name after the key press, in ms from it (null: none)
    const marks = performance.getEntriesByName(name), m = marks[marks.length - 1];
    return m && origin + m.startTime >= t0 ? origin + m.startTime - t0 : null;
  };
  // the requests made since the key press: how long each waited for the server and took to arrive
  const requests = {};
  for (const r of performance.getEntriesByType("resource")) {
    if (origin + r.startTime < t0) continue;
    const path = new URL(r.name).pathname;
    const take = r.name.includes("ahead=true") ? "take-ahead" : "take-next";
    const kind = path.endsWith("/take-next/") ? take : /\/api\/v1\/items\/\d+\/$/.test(path) ? "item"
      : path.endsWith("/revisions/") ? "revisions" : /\/(working|tiles|dzi)/.test(path) ? "image" : null;
    if (kind && !(kind in requests)) requests[kind] = {
      start: origin + r.startTime - t0, end: origin + r.responseEnd - t0, server: r.responseStart - r.requestStart,
      bytes: r.encodedBodySize, cached: r.transferSize === 0};
  }
  return {total: Date.now() - t0, taken: at("ws-taken"), item: at("ws-item"), opened: at("ws-opened"),
          ready: at("workspace-ready"), requests};
}"""


def seed(n_items: int, big_page: bool = True, projects: int = 1):
    from PIL import Image, ImageDraw

    from webapp.accounts.services import project_member_add, user_create
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.services import item_create, prediction_record, project_create
    from webapp.mlops.services import model_version_register
    from workers.demo_sources import generate_items, ground_truth

    operator = user_create(username="bench-op", password="loupe-pass-123", role="operator")
    version = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/tmp/bench")
    made = []
    generated = list(generate_items("catheter", n_items + 1, seed=7))  # made once: the same items in each
    for k in range(projects):  # the same items in each: --compare's two sides see the same work
        project = project_create(name=f"Catheter QA — bench {k + 1}", kind="catheter", scope_key="line:A",
                                 audit_share=0.0, golden_share=0.0)
        project_member_add(project_id=project.pk, user=operator)  # roles hold per project
        made.append(project)
        for i, (ext, files, roles, meta) in enumerate(generated):
            assets = [asset_ingest(data=data, name=name)[0] for name, data in files]
            for a in assets:
                asset_build_derivatives(asset_id=a.pk)
            item = item_create(project=project, asset_ids=[a.pk for a in assets], external_id=ext, meta=meta)
            truth = ground_truth("catheter", i, 7)
            prediction_record(item_id=item.pk, model_version_id=version.pk, payload=truth,
                              scores={"defect": 0.7, "types": {"axial_scratch": 0.6, "radial_scratch": 0.4,
                                                               "inclusion": 0.8, "bubble": 0.9}}, uncertainty=0.5)
    project = made if projects > 1 else made[0]
    if not big_page:
        return project, None
    # the big page: a broadsheet-sized image with structure in every tile
    big = Image.new("L", BIG, 235)
    draw = ImageDraw.Draw(big)
    for y in range(0, BIG[1], 37):
        draw.line([(0, y), (BIG[0], y + 400)], fill=(y * 7) % 200, width=3)
    for x in range(0, BIG[0], 53):
        draw.line([(x, 0), (x - 300, BIG[1])], fill=(x * 3) % 180, width=2)
    buf = io.BytesIO()
    big.save(buf, format="PNG", compress_level=1)
    page_project = project_create(name="Big page", kind="catheter", scope_key="line:big", audit_share=0.0,
                                  golden_share=0.0)
    project_member_add(project_id=page_project.pk, user=operator)
    asset = asset_ingest(data=buf.getvalue(), name="broadsheet.png")[0]
    asset_build_derivatives(asset_id=asset.pk)
    big_item = item_create(project=page_project, asset_ids=[asset.pk])
    return project, big_item


def serve() -> tuple[subprocess.Popen, str]:
    from django.conf import settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "webapp.config.asgi:application"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            return proc, base
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("daphne did not come up")


def report_times(times: list[float], phases: list[dict], label: str = "") -> None:
    times = sorted(times)
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"{label}n -> image + proposal drawn over {len(times)} items: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"max {times[-1]:.0f} ms (target p95 <= {TARGET_P95_MS} ms: ratio {p95 / TARGET_P95_MS:.2f})")

    def median(values):
        values = [v for v in values if v is not None]
        return f"{statistics.median(values):.0f} ms" if values else "-"

    # where the time goes: the workspace's own marks (absent in older versions) and its requests
    marks = [(k, median([p[k] for p in phases])) for k in ("taken", "item", "opened", "ready")]
    print("  medians from the key press: " + ", ".join(f"{k} {v}" for k, v in marks if v != "-")
          + f", drawn {p50:.0f} ms")
    for kind in ("take-next", "take-ahead", "item", "revisions", "image"):
        rows = [p["requests"][kind] for p in phases if kind in p["requests"]]
        if rows:
            print(f"  {kind} request ({len(rows)} of {len(phases)} items): "
                  f"starts {median([r['start'] for r in rows])}, server {median([r['server'] for r in rows])}, "
                  f"done {median([r['end'] for r in rows])}, "
                  f"{statistics.median([r['bytes'] for r in rows]) / 1024:.1f} KiB, "
                  f"from the browser cache {sum(r['cached'] for r in rows)}")


def login(page, base: str) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", "bench-op")
    page.fill("input[name=password]", "loupe-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/projects/")


def time_next_item(p, base: str, projects: list, modes: list[str], a) -> None:
    """n -> the next item drawn, over ``a.items`` items after the first, for each prefetch mode (one
    project and one browser page each; the pages take turns item by item, so both meet the same load)."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    sides = []
    for project, mode in zip(projects, modes):
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        # every request of the 50 items stays in the timeline (the default buffer holds 250)
        context.add_init_script(f"window.LOUPE_OSD_DRAWER = {a.drawer!r}; window.LOUPE_PREFETCH = {mode!r};"
                                "performance.setResourceTimingBufferSize(100000);")
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m, c=console: c.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e, c=console: c.append(f"pageerror: {e}"))
        page.on("response", lambda r, c=console: r.status >= 400 and c.append(f"HTTP {r.status}: {r.url}"))
        login(page, base)
        page.goto(f"{base}/projects/{project.slug}/")
        sides.append({"mode": mode, "page": page, "console": console, "times": [], "phases": []})
    for i in range(a.items + 1):
        for side in sides:
            step(side, i)
    for side in sides:
        label = f"[prefetch {side['mode']}] " if len(sides) > 1 else ""
        if side["times"]:
            report_times(side["times"], side["phases"], label)
        else:
            print(f"{label}n -> drawn: no items timed (--items 0)")
    browser.close()


def step(side: dict, i: int) -> None:
    """One item: n, wait until drawn (timed after the first), submit the proposal as it stands."""
    page, console, times, phases = side["page"], side["console"], side["times"], side["phases"]
    page.evaluate("sessionStorage.setItem('prev', String(window.LOUPE_WS ? window.LOUPE_WS.item.id : ''));"
                  "sessionStorage.setItem('t0', String(Date.now()))")
    page.keyboard.press("n")
    try:  # the first opens the page itself (scripts, a cold cache): more time on a busy machine
        drawn = page.wait_for_function(DRAWN, polling="raf", timeout=90000 if i == 0 else 30000).json_value()
    except Exception:
        print("not drawn:", page.url, page.evaluate("document.body.dataset.workspace"),
              *console[-20:], sep="\n  ", file=sys.stderr)
        raise
    if i > 0:  # the first opens a cold browser cache and connection
        times.append(drawn["total"])
        phases.append(drawn)
    page.keyboard.press("Control+Enter")  # submit the proposal as it stands
    try:
        page.wait_for_url("**/?saved=*", timeout=15000)
    except Exception:
        print("submit failed:", page.url, page.inner_text("#editor-errors"), file=sys.stderr)
        raise
    page.wait_for_function("document.body.dataset.workspace === 'ready' && "
                           "location.search.includes('saved')")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure_memory(p, base: str, big_item, a) -> None:
    """A browser of its own, measured blank first, then on the big page after panning it, then once more
    after a garbage collection (what of it was tiles already let go)."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + ["--js-flags=--expose-gc"])
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(f"window.LOUPE_OSD_DRAWER = {a.drawer!r};"
                            + (f"window.LOUPE_OSD_CACHE = {a.tile_cache};" if a.tile_cache else ""))
    page = context.new_page()
    page.goto("about:blank")
    page.wait_for_timeout(1500)
    blank = chromium_pss_mb(os.getpid())
    login(page, base)
    page.goto(f"{base}/items/{big_item.pk}/")
    page.wait_for_function(DRAWN.replace("const t0 =", "return true; const t0 ="), timeout=60000)
    before = chromium_pss_mb(os.getpid())
    t = time.monotonic()
    steps = page.evaluate(PAN)
    pan_s = time.monotonic() - t
    page.wait_for_timeout(500)
    parts: dict[str, float] = {}
    after = chromium_pss_mb(os.getpid(), parts)
    print(f"[{a.drawer} drawer, tile cache {a.tile_cache or 'default'}] {BIG[0]}×{BIG[1]} px page "
          f"panned at 1:1 across {steps} screens in {pan_s:.1f} s: Chromium PSS "
          f"{after:.0f} MB (blank browser {blank:.0f} MB, page opened {before:.0f} MB; the page's own share "
          f"{after - blank:.0f} MB; target <= {TARGET_MEMORY_MB} MB: ratio {after / TARGET_MEMORY_MB:.2f}, "
          f"page share {(after - blank) / TARGET_MEMORY_MB:.2f})")
    by_size = sorted(parts.items(), key=lambda kv: -kv[1])
    print("  by process: " + ", ".join(f"{k} {v:.0f} MB" for k, v in by_size))
    if a.memory_dump:
        dump = sorted(memory_dump(browser, page).items(), key=lambda kv: -kv[1])
        print("  Chromium's accounting: " + ", ".join(f"{k} {v:.0f} MB" for k, v in dump if v >= 1))
    page.evaluate("window.gc && window.gc()")
    page.wait_for_timeout(1500)
    collected = chromium_pss_mb(os.getpid())
    print(f"  after a JS garbage collection: {collected:.0f} MB (page share {collected - blank:.0f} MB; "
          f"ratio to target {collected / TARGET_MEMORY_MB:.2f})")
    browser.close()


def measure_soak(p, base: str, project, big_item, a) -> None:
    """One page over a long session: blank, the big page panned at 1:1, then ``a.soak_items`` items (n, drawn,
    submit) of ``project``; the page's own share of Chromium's PSS after a garbage collection every 50 items."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + ["--js-flags=--expose-gc"])
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(f"window.LOUPE_OSD_DRAWER = {a.drawer!r}; window.LOUPE_PREFETCH = {a.prefetch!r};"
                            "performance.setResourceTimingBufferSize(100000);")
    page = context.new_page()
    page.goto("about:blank")
    page.wait_for_timeout(1500)
    blank = chromium_pss_mb(os.getpid())

    parts: dict[str, float] = {}

    def share() -> float:
        page.evaluate("window.gc && window.gc()")
        page.wait_for_timeout(1000)
        parts.clear()
        return chromium_pss_mb(os.getpid(), parts) - blank

    def by_process() -> str:
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : -1")
        return ", ".join(f"{k} {v:.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])) + \
            f" MB; JS heap {heap:.0f} MB"

    login(page, base)
    page.goto(f"{base}/items/{big_item.pk}/")
    page.wait_for_function(DRAWN.replace("const t0 =", "return true; const t0 ="), timeout=60000)
    page.evaluate(PAN)
    print(f"[soak, prefetch {a.prefetch}] blank browser {blank:.0f} MB; the page's own share after the "
          f"{BIG[0]}×{BIG[1]} px page panned at 1:1: {share():.0f} MB")
    page.goto(f"{base}/projects/{project.slug}/")
    side = {"mode": a.prefetch, "page": page, "console": [], "times": [], "phases": []}
    page.on("pageerror", lambda e, c=side["console"]: c.append(f"pageerror: {e}"))
    shares = []
    for i in range(a.soak_items):
        step(side, i)
        if (i + 1) % 50 == 0:
            page.evaluate("performance.clearResourceTimings(); performance.clearMarks()")
            shares.append(share())
            print(f"  after {i + 1} items: the page's own share {shares[-1]:.0f} MB (load average {load_average()}; "
                  f"{by_process()})")
    if shares:
        print(f"  after {a.soak_items} items: {shares[-1]:.0f} MB (target <= {TARGET_SOAK_PAGE_MB} MB: ratio "
              f"{shares[-1] / TARGET_SOAK_PAGE_MB:.2f}); from item 50 on: {shares[-1] - shares[0]:+.0f} MB")
    report_times(side["times"], side["phases"], f"[soak, prefetch {a.prefetch}] ")
    browser.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--part", choices=["all", "time", "memory", "soak"], default="all")
    ap.add_argument("--soak-items", type=int, default=200, help="items in one page for --part soak")
    ap.add_argument("--tile-cache", type=int, default=0, help="OpenSeadragon's maxImageCacheCount (0: the workspace's)")
    ap.add_argument("--drawer", choices=["canvas", "webgl"], default="canvas",
                    help="OpenSeadragon's drawer (the workspace uses canvas)")
    ap.add_argument("--memory-dump", action="store_true", help="also print Chromium's memory per allocator")
    ap.add_argument("--prefetch", choices=MODES, default="lease",
                    help="what the workspace readies ahead (without --compare; the workspace's default: lease)")
    ap.add_argument("--compare", action="store_true", help="time each of --modes side by side, taking turns")
    ap.add_argument("--modes", default="images,lease", help=f"--compare's modes, comma-separated ({', '.join(MODES)})")
    ap.add_argument("--busy", action="store_true", help="an infer worker and a training run busy beside the page")
    a = ap.parse_args()
    work = prepare_environment("bench-ui")
    t = time.monotonic()
    modes = a.modes.split(",") if a.compare else [a.prefetch]
    if any(m not in MODES for m in modes):
        ap.error(f"--modes: each one of {', '.join(MODES)}")
    if a.part == "soak":
        modes, a.items = [a.prefetch], a.soak_items - 1
    project, big_item = seed(a.items if a.part != "memory" else 0, big_page=a.part != "time", projects=len(modes))
    projects = project if isinstance(project, list) else [project]
    print(f"seeded {len(modes)} × {a.items + 1 if a.part != 'memory' else 1} items (3 shots each, tiles)"
          + (f" and a {BIG[0]}×{BIG[1]} page" if a.part != "time" else "") + f" in {time.monotonic() - t:.0f} s")
    server, base = serve()
    busy = start_busy(work) if a.busy else []
    from playwright.sync_api import sync_playwright

    try:
        if busy:
            time.sleep(20)  # the worker loads its model, the training generates its data and starts
            print(f"busy load started; load average {load_average()}")
        with sync_playwright() as p:
            print(f"load average before: {load_average()}")
            if a.part == "soak":
                measure_soak(p, base, projects[0], big_item, a)
            if a.part in ("all", "time"):
                time_next_item(p, base, projects, modes, a)
                print(f"load average after the timing: {load_average()}")
            if a.part in ("all", "memory"):
                measure_memory(p, base, big_item, a)
        if busy:  # outside Playwright's loop: the ORM refuses to run in an async context
            print(busy_report(work))
    finally:
        stop(busy + [server])
    print(f"work folder: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
