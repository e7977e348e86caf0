"""Schemathesis over the whole OpenAPI schema, as an operator and as an admin, in-process (WSGI).

A bounded run for CI: a few generated requests per operation and role (LOUPE_SCHEMATHESIS_EXAMPLES,
default 3). Every check runs except "schema-valid data is accepted": an annotation, a password, an
image or an export format can fit the schema and still be wrong for the item, user or kind, and the
answer to those is a 4xx naming the problem, which the other checks hold to the schema.
"""
import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

EXAMPLES = int(os.environ.get("LOUPE_SCHEMATHESIS_EXAMPLES", "3"))


def _wsgi_app():
    from django.core.wsgi import get_wsgi_application

    django_app = get_wsgi_application()
    # An address of its own: the failed sign-ins this run makes count against it, not against 127.0.0.1.
    address = f"10.99.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"

    def app(environ, start_response):
        environ["REMOTE_ADDR"] = address
        return django_app(environ, start_response)

    return app


# Loaded at collection: this opens a database connection before the test database exists; the root
# conftest closes it (and its pool) before the test database is made.
schema = schemathesis.openapi.from_wsgi("/api/schema/", _wsgi_app())


@pytest.fixture(autouse=True)
def shared_connection(db):
    """As Django's own test client does: the requests share the test's connection and its transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(make_project, make_item):
    """Something for the ids to find: a project of each kind with an item."""
    for kind in ("catheter", "articles", "omr"):
        make_item(make_project(kind))


def _headers(user) -> dict:
    from webapp.accounts.services import token_for

    return {"Authorization": f"Token {token_for(user=user)}"}


def _call(case, headers) -> None:
    response = case.call(headers=headers)
    excluded = [positive_data_acceptance]
    if response.status_code == 413:
        # A body over the size limit is refused before it is read: a rejection, if not one the check lists.
        excluded.append(negative_data_rejection)
    case.validate_response(response, headers=headers, excluded_checks=excluded)


_bounded = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@_bounded
def test_every_operation_as_operator(case, operator, world):
    _call(case, _headers(operator))


@schema.parametrize()
@_bounded
def test_every_operation_as_admin(case, admin_user, world):
    _call(case, _headers(admin_user))
