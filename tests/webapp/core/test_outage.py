"""A backing service out of reach is a 503 with Retry-After, never a 500 page; a real bug stays a 500.
bench/fault_load.py restarts a private PostgreSQL and Redis under load for the end-to-end figures."""
import pytest
import redis
from django.db import OperationalError, ProgrammingError, connections
from django.test import RequestFactory

from webapp.core.outage import is_outage
from webapp.core.views import server_error


def _answer(path: str, exc: BaseException):
    try:
        raise exc
    except BaseException:
        return server_error(RequestFactory().get(path))


@pytest.mark.parametrize("path", ["/api/v1/projects/", "/projects/"])
def test_a_database_out_of_reach_is_503_with_retry_after(path):
    response = _answer(path, OperationalError("connection refused"))
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    if path.startswith("/api/"):
        assert b'"code": "unavailable"' in response.content
    else:
        assert b"Back in a moment" in response.content


def test_redis_out_of_reach_is_503_and_a_bug_stays_500():
    assert _answer("/api/v1/projects/", redis.exceptions.ConnectionError("refused")).status_code == 503
    assert _answer("/api/v1/projects/", ProgrammingError("no such column")).status_code == 500
    assert _answer("/projects/", ZeroDivisionError()).status_code == 500


def test_a_real_refused_connection_is_seen_through_djangos_wrapping(db):
    # A database that is not there (a closed port, a folder that does not exist), reached as Django reaches
    # it: the error comes wrapped in Django's OperationalError around the driver's own.
    from django.db.utils import load_backend

    params = {**connections["default"].settings_dict}
    if params["ENGINE"].endswith("sqlite3"):
        params["NAME"] = "/nonexistent-dir/never.sqlite3"
    else:
        params.update(HOST="127.0.0.1", PORT="1", OPTIONS={})
    wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, alias="unreachable")
    try:
        with pytest.raises(OperationalError) as caught:
            wrapper.ensure_connection()
        assert is_outage(caught.value), repr(caught.value)
    finally:
        wrapper.close()
