"""Shared fixtures: users per role, API clients with tokens, projects and items with real asset rows.

The users and projects made by these fixtures form one team: every operator or reviewer made with
``make_user`` is a member (in that role) of every project made with ``make_project``, whichever comes
first. ``make_user(role, member=False)`` makes an outsider, ``make_user("none")`` a user with no role;
``make_project(members=False)`` a project nobody is a member of.

Databases and Redis are real: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI), else a
SQLite file and the embedded Redis that the settings start.
"""
from __future__ import annotations

import hashlib
import itertools

import pytest
from rest_framework.test import APIClient

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Before the test database is made: close every connection opened so far (e.g. while collecting)
    and its pool. A pool made for the real database would otherwise hand out connections to it."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, and after the last test, before the test database is dropped: close the pool's
    connections, which the threads of Channels and of the ASGI handler took and gave back, and end any other
    session on it (the drop fails while one is open)."""
    yield
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
        if connection.vendor == "postgresql":
            # A server or worker process of the last test, stopped a moment ago, may still hold a session.
            with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", [connection.settings_dict["NAME"]])


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def _team(db):
    """The fixture-made members and projects of this test."""
    return {"users": [], "projects": []}


@pytest.fixture
def make_user(_team):
    from webapp.accounts.services import project_member_add, user_create

    def make(role: str = "operator", username: str | None = None, member: bool = True):
        user = user_create(username=username or f"{role}{next(_counter)}", password="loupe-pass-123",
                           role=None if role == "none" else role)
        if member and role in ("operator", "reviewer"):
            _team["users"].append(user)
            for project in _team["projects"]:
                project_member_add(project_id=project.pk, user=user, role=role)
        return user

    return make


@pytest.fixture
def operator(make_user):
    return make_user("operator")


@pytest.fixture
def reviewer(make_user):
    return make_user("reviewer")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def api_for():
    from webapp.accounts.services import token_for

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
        return client

    return make


@pytest.fixture
def make_asset(db):
    from webapp.assets.models import Asset

    def make(width: int = 800, height: int = 600, name: str | None = None) -> Asset:
        n = next(_counter)
        sha = hashlib.sha256(f"asset-{n}".encode()).hexdigest()
        return Asset.objects.create(sha256=sha, original=f"assets/{sha[:2]}/{sha}.png",
                                    original_name=name or f"img{n}.png",
                                    format="PNG", mode="RGB", width=width, height=height, byte_size=1000)

    return make


@pytest.fixture
def make_project(_team):
    from webapp.accounts.services import project_member_add
    from webapp.labeling.services import project_create

    def make(kind: str = "catheter", members: bool = True, **kwargs):
        n = next(_counter)
        kwargs.setdefault("audit_share", 0.0)
        kwargs.setdefault("golden_share", 0.0)
        project = project_create(name=kwargs.pop("name", f"{kind} project {n}"), kind=kind, **kwargs)
        if members:
            _team["projects"].append(project)
            for user in _team["users"]:
                project_member_add(project_id=project.pk, user=user)
        return project

    return make


@pytest.fixture
def make_item(make_asset):
    from webapp.labeling.services import item_create

    def make(project, n_assets: int | None = None, **kwargs):
        count = n_assets or {"articles": 1, "omr": 2}.get(project.kind, 1)
        assets = [make_asset() for _ in range(count)]
        return item_create(project=project, asset_ids=[a.pk for a in assets], **kwargs)

    return make


@pytest.fixture
def expire_lease():
    """Move a lease (and its item's copy of the expiry) into the past, as if its holder went silent."""
    from datetime import timedelta

    from django.utils import timezone

    from webapp.labeling.models import Lease, WorkItem

    def expire(lease, seconds: float = 5):
        past = timezone.now() - timedelta(seconds=seconds)
        Lease.objects.filter(pk=lease.pk).update(expires_at=past)
        WorkItem.objects.filter(pk=lease.item_id).update(lease_expires_at=past)

    return expire


@pytest.fixture
def subprocess_env(settings):
    """Environment for a real child process (worker, web server) that must use this test's database."""
    import os

    from django.db import connection

    env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1", MEDIA_ROOT=settings.MEDIA_ROOT)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                               f"{db['PORT'] or 5432}/{db['NAME']}")
    return env


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """An S3-compatible HTTP server in a process of its own: moto's server mode (PyPI ``moto``), an
    emulator of the S3 API standing in for AWS S3, MinIO or Ceph RGW (it does not check signatures or
    ACLs; everything else goes over the real protocol through boto3). Returns its endpoint URL."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from _loop_env import s3_server_process   # the benchmarks start the same server the same way

    try:
        proc, endpoint = s3_server_process(tmp_path_factory.mktemp("s3") / "moto.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield endpoint
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def object_store(s3_server, settings):
    """This test's files in a fresh private bucket of the S3 server (LOUPE_STORAGE_URL set for this process;
    ``url`` for child processes). Yields a small helper: ``keys(prefix)`` lists the bucket."""
    import types
    import uuid

    import boto3

    bucket = f"loupe-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="loupe",
                          aws_secret_access_key="loupe-secret")
    client.create_bucket(Bucket=bucket)
    url = f"s3://loupe:loupe-secret@{bucket}?endpoint={s3_server}&region=us-east-1"
    settings.LOUPE_STORAGE_URL = url

    def keys(prefix: str = "") -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    yield types.SimpleNamespace(url=url, bucket=bucket, client=client, endpoint=s3_server, keys=keys)
    keys_left = keys()
    for start in range(0, len(keys_left), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys_left[start:start + 1000]]})
    client.delete_bucket(Bucket=bucket)
