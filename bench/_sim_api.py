"""The public HTTP API as a customer's script uses it: token auth, JSON in and out, files as multipart.

Nothing here touches Django: the operator simulation drives the running system through these calls only.
"""
from __future__ import annotations

import time
from typing import Any

import requests


class ApiError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, base: str, username: str, password: str):
        self.base = base.rstrip("/") + "/api/v1/"
        self.session = requests.Session()
        answer = self.session.post(self.base + "auth/token/", json={"username": username, "password": password},
                                   timeout=30)
        self._check(answer, "auth/token/")
        self.session.headers["Authorization"] = f"Token {answer.json()['token']}"
        self.username = username

    @staticmethod
    def _check(answer: requests.Response, path: str) -> None:
        if answer.status_code >= 400:
            raise ApiError(f"{answer.request.method} {path}: {answer.status_code} {answer.text[:800]}",
                           answer.status_code)

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
             files: list | None = None, data: dict | None = None) -> Any:
        """The answer's JSON (None for 204); 429 (a rate limit) waits as the answer asks and tries again."""
        for _ in range(20):
            answer = self.session.request(method, self.base + path, json=json, params=params, files=files,
                                          data=data, timeout=120)
            if answer.status_code != 429:
                break
            time.sleep(float(answer.headers.get("Retry-After") or 1))
        self._check(answer, path)
        return None if answer.status_code == 204 or not answer.content else answer.json()

    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any = None, **params) -> Any:
        return self.call("POST", path, json=body, params=params or None)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, json=body)

    def pages(self, path: str, **params) -> list:
        """Every row of a paginated list (or the list itself where the endpoint does not paginate)."""
        rows: list = []
        while True:
            answer = self.get(path, **params, limit=200, offset=len(rows))
            if isinstance(answer, list):
                return answer
            rows += answer.get("results", [])
            if not answer.get("next"):
                return rows

    def upload(self, project_id: int, files: list[tuple[str, bytes]], grouping: str) -> list[dict]:
        """The items the upload made (``id``, ``external_id``, ``files``, ``created``)."""
        parts = [("files", (name, data, "image/png")) for name, data in files]
        report = self.call("POST", f"projects/{project_id}/upload/", files=parts, data={"grouping": grouping})
        if report.get("unmatched"):
            raise ApiError(f"upload left files without an item: {report['unmatched']}")
        return report["items"]

    def wait_for(self, what: str, probe, timeout: float, every: float = 0.5) -> Any:
        """Polls ``probe()`` until it returns something truthy; an ApiError names ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise ApiError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(every)
