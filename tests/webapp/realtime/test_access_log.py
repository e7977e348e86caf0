"""A secret put in a URL (the legacy ``?token=`` of a WebSocket) never reaches the server's access log: the
query string's value is redacted before uvicorn logs the request."""
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from webapp.accounts.services import token_for
from webapp.core.query_redaction import redact_query

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow]


@pytest.fixture
def uvicorn_server(transactional_db, subprocess_env, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "uvicorn.log"
    env = {k: v for k, v in subprocess_env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "info"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{base}/health/", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.3)
    yield base, log_path
    proc.terminate()
    proc.wait(timeout=20)


def test_a_token_in_a_websocket_or_page_url_is_not_logged(uvicorn_server, make_project, make_user):
    base, log_path = uvicorn_server
    project = make_project()
    secret = token_for(user=make_user("operator"))
    with connect(f"ws://{base}/ws/projects/{project.pk}/?token={secret}&x=1", open_timeout=10) as ws, \
            pytest.raises(ConnectionClosed) as caught:
        ws.recv(timeout=10)
    assert caught.value.rcvd.code == 4401, "a token in the URL is refused"
    urllib.request.urlopen(f"http://{base}/health/?Token={secret}", timeout=10)
    time.sleep(0.5)
    log = log_path.read_text()
    assert f'"WebSocket /ws/projects/{project.pk}/?token=redacted&x=1"' in log, log
    assert "/health/?Token=redacted" in log, log
    assert secret not in log


def test_redaction_keeps_the_other_parameters():
    assert redact_query(b"a=1&token=abc&b=%00") == b"a=1&token=redacted&b=%00"
    assert redact_query(b"TOKEN=x&t%6Fken=y&access_token=z&ticket=w&tokens=v") == \
        b"TOKEN=redacted&t%6Fken=redacted&access_token=redacted&ticket=redacted&tokens=v"
    assert redact_query(b"token") == b"token" and redact_query(b"") == b""
