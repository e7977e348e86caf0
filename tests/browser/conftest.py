"""A real ASGI server (daphne, HTTP + WebSocket) on the test database, and headless Chromium."""
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def asgi_server(transactional_db, subprocess_env, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "daphne.log", "w")
    env = {k: v for k, v in subprocess_env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "webapp.config.asgi:application"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, (tmp_path / "daphne.log").read_text()
            time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a WebSocket still open keeps daphne waiting: not the test's concern
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still plain
    # synchronous code, so Django's async-safety guard is lifted for this test process only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (.ci/run installs it)")
    if not (ROOT / "node_modules" / "openseadragon").is_dir():
        pytest.fail("the pages' libraries are not installed: run `make install` (npm ci)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def login(asgi_server, browser):  # the browser closes first, then the server
    violations: list[str] = []

    def open_as(username: str, password: str = "loupe-pass-123"):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        # Every page runs under the production Content-Security-Policy: a blocked script fails the test.
        page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
        page.goto(asgi_server + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/projects/")
        return page

    yield open_as
    assert not violations, f"Content-Security-Policy violations: {violations}"
