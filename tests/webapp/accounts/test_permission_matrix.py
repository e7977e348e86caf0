"""Every endpoint × every role, generated from the URL conf and judged against the permission table.

Each URL pattern's view declares its action (``permission_action``); the test reads the expected answer
from the table (``webapp.accounts.permissions.TABLE``) and sends a real request as each role:

- anonymous: pages redirect to the login, the API answers 401/403;
- refused per project by someone who cannot see the project (no role there): 404, like a project that
  does not exist;
- refused otherwise (a global action, or a role too weak in a project the user sees): 403;
- allowed: anything but those refusals (a 400 for an empty body or a 409 for the item's state is fine).

A new endpoint is covered by being in the URL conf. A view that declares no action fails here; an
object the filler below cannot name (a new ``<…:pk>`` after an unknown path segment) fails with a hint.
"""
from __future__ import annotations

import io
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image
from rest_framework.test import APIClient

from webapp.accounts.permissions import ACCOUNT, GLOBAL, PROJECT, PUBLIC, rule_for

ROLES = ["anonymous", "none", "outsider", "operator", "reviewer", "admin"]
# The Django admin site keeps its own checks (staff flag, model permissions); tested apart below.
SKIPPED_PREFIXES = ("admin/",)
QUERY = {"health": "?workers=0"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _declared(callback):
    """(action declaration, methods) of a URL's view: DRF class views, decorated or declared functions."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    action = getattr(callback, "permission_action", None) or getattr(cls, "permission_action", None)
    methods = getattr(callback, "permission_methods", None)
    if methods is None and cls is not None:
        methods = tuple(m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m))
    return action, methods or ("GET",)


def _endpoints():
    rows = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES):
            continue
        action, methods = _declared(pattern.callback)
        for method in methods:
            one = action.get(method) if isinstance(action, dict) else action
            rows.append(pytest.param(route, pattern.name, method, one, id=f"{method} /{route}"))
    return rows


ENDPOINTS = _endpoints()


def test_the_url_conf_is_walked():
    routes = {p.values[0] for p in ENDPOINTS}
    assert {"api/v1/items/<int:pk>/revisions/", "items/<int:pk>/", "assets/<int:asset_id>/original",
            "api/v1/models/", "projects/<slug:slug>/take-next/"} <= routes
    assert len(ENDPOINTS) >= 40


@pytest.mark.parametrize("route,name,method,action", ENDPOINTS)
def test_every_view_declares_a_known_action(route, name, method, action):
    assert action, f"{method} /{route} ({name}) declares no permission_action: add one from the table"
    rule_for(action)  # raises for an action the table does not know


# What names an object of a project in a URL: such an endpoint's action must be per project, judged on
# that object (so a new ``items/<pk>/...`` endpoint cannot be declared with a global or account action).
PROJECT_OBJECTS = {"projects": ("project", "project_slug"), "items": ("item",), "leases": ("lease",),
                   "assets": ("asset",), "predictions": ("prediction",), "flags": ("flag",)}


@pytest.mark.parametrize("route,name,method,action", ENDPOINTS)
def test_an_endpoint_naming_a_project_object_is_judged_per_project(route, name, method, action):
    from webapp.accounts.permissions import target_of

    named = re.match(rf"(?:api/v1/)?({'|'.join(PROJECT_OBJECTS)})/<(?:\w+:)?(\w+)>", route)
    if not named or not action:
        return
    rule = rule_for(action)
    assert rule.scope == PROJECT, f"{method} /{route} names a {named[1]} object but declares {action} ({rule.scope})"
    callback = next(p.callback for r, p in _walk(get_resolver().url_patterns) if r == route)
    holder = getattr(callback, "cls", None) or callback
    target, kwarg = target_of(holder)
    assert target in PROJECT_OBJECTS[named[1]] and kwarg == named[2], (route, target, kwarg)


# The actions of the endpoints as reviewed. A new endpoint needs no entry (it is judged by what it
# declares); changing the action of one listed here must be a deliberate change of this list too.
REVIEWED = {
    ("POST", "api/v1/auth/token/"): "public",
    ("GET", "api/v1/me/"): "account.self",
    ("POST", "api/v1/ws-ticket/"): "account.self",
    ("GET", "api/v1/projects/<int:pk>/members/"): "project.manage",
    ("POST", "api/v1/projects/<int:pk>/members/"): "project.manage",
    ("DELETE", "api/v1/projects/<int:pk>/members/<int:user_id>/"): "project.manage",
    ("POST", "api/v1/assets/"): "asset.upload",
    ("GET", "api/v1/assets/<int:pk>/"): "item.view",
    ("GET", "api/v1/projects/"): "project.list",
    ("POST", "api/v1/projects/"): "project.create",
    ("GET", "api/v1/projects/<int:pk>/"): "project.view",
    ("PUT", "api/v1/projects/<int:pk>/"): "project.manage",
    ("PATCH", "api/v1/projects/<int:pk>/"): "project.manage",
    ("GET", "api/v1/projects/<int:pk>/items/"): "project.view",
    ("POST", "api/v1/projects/<int:pk>/take-next/"): "item.label",
    ("GET", "api/v1/projects/<int:pk>/up-next/"): "item.label",
    ("POST", "api/v1/projects/<int:pk>/upload/"): "project.upload",
    ("GET", "api/v1/projects/<int:pk>/export/"): "project.export",
    ("POST", "api/v1/leases/<uuid:token>/heartbeat/"): "item.label",
    ("POST", "api/v1/leases/<uuid:token>/release/"): "item.label",
    ("GET", "api/v1/items/<int:pk>/"): "item.view",
    ("GET", "api/v1/items/<int:pk>/revisions/"): "item.view",
    ("POST", "api/v1/items/<int:pk>/revisions/"): "item.label",
    ("POST", "api/v1/items/<int:pk>/reviews/"): "item.review",
    ("GET", "api/v1/items/<int:pk>/predictions/"): "item.view",
    ("POST", "api/v1/items/<int:pk>/predictions/"): "item.predict",
    ("POST", "api/v1/items/<int:pk>/repredict/"): "item.repredict",
    ("POST", "api/v1/items/<int:pk>/omr/recompute/"): "item.label",
    ("GET", "api/v1/items/<int:pk>/omr/recompute/<uuid:request_id>/"): "item.view",
    ("GET", "api/v1/models/"): "model.view",
    ("GET", "api/v1/models/<int:pk>/"): "model.view",
    ("POST", "api/v1/models/<int:pk>/promote/"): "model.promote",
    ("POST", "api/v1/models/rollback/"): "model.promote",
    ("GET", "api/v1/promotions/"): "model.view",
    ("GET", "api/v1/training-runs/"): "training.view",
    ("POST", "api/v1/training-runs/"): "training.manage",
    ("GET", "api/v1/training-runs/<int:pk>/"): "training.view",
    ("POST", "api/v1/training-runs/<int:pk>/cancel/"): "training.manage",
    ("GET", "api/schema/"): "public",
    ("GET", "api/docs/"): "public",
    ("GET", "api/redoc/"): "public",
    ("GET", "health/"): "public",
    ("GET", ""): "public",
    ("GET", "login/"): "public",
    ("POST", "login/"): "public",
    ("POST", "logout/"): "public",
    ("GET", "assets/<int:asset_id>/original"): "item.view",
    ("GET", "assets/<int:asset_id>/working"): "item.view",
    ("GET", "assets/<int:asset_id>/tiles.dzi"): "item.view",
    ("GET", "assets/<int:asset_id>/tiles_files/<int:level>/<int:col>_<int:row>.jpeg"): "item.view",
    ("GET", "projects/"): "project.list",
    ("GET", "projects/<slug:slug>/"): "project.view",
    ("GET", "projects/<slug:slug>/upload/"): "project.upload",
    ("POST", "projects/<slug:slug>/take-next/"): "item.label",
    ("GET", "items/<int:pk>/"): "item.view",
    ("GET", "models/"): "model.view",
    ("GET", "models/<int:pk>/compare/items/<int:item_id>/"): "model.view",
    ("POST", "models/<int:pk>/compare/items/<int:item_id>/proposals/"): "training.manage",
    # label quality (control items, suspect labels)
    ("POST", "api/v1/items/<int:pk>/control/"): "project.manage",
    ("POST", "api/v1/items/<int:pk>/suspect/resolve/"): "item.review",
    ("GET", "api/v1/projects/<int:pk>/operator-quality/"): "quality.view",
    ("GET", "api/v1/projects/<int:pk>/suspects/"): "quality.view",
    ("GET", "projects/<slug:slug>/quality/"): "quality.view",
    ("POST", "projects/<slug:slug>/quality/controls/"): "project.manage",
    ("POST", "items/<int:pk>/suspect/resolve/"): "item.review",
    # review by risk
    ("GET", "api/v1/projects/<int:pk>/review-queue/"): "item.review",
    ("GET", "api/v1/projects/<int:pk>/review-routing/"): "quality.view",
    ("POST", "projects/<slug:slug>/quality/settings/"): "project.manage",
    ("GET", "projects/<slug:slug>/review/"): "item.review",
    # operator agreement: the two answers are a reviewer's to see (never an operator's: the second is blind)
    ("GET", "api/v1/projects/<int:pk>/answer-pairs/"): "item.review",
    ("GET", "api/v1/items/<int:pk>/answer-pair/"): "item.review",
    ("POST", "api/v1/items/<int:pk>/answer-pair/resolve/"): "item.review",
    ("GET", "items/<int:pk>/answers/"): "item.review",
    ("POST", "items/<int:pk>/answers/resolve/"): "item.review",
}


def test_reviewed_endpoints_keep_their_actions():
    declared = {(p.values[2], p.values[0]): p.values[3] for p in ENDPOINTS}
    changed = {key: (want, declared.get(key)) for key, want in REVIEWED.items() if declared.get(key) != want}
    assert not changed, f"(reviewed, declared now): {changed}"


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed * 40 % 256, 90, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(make_project, make_user, make_item, settings):
    """Project A (the members' project) with items in every useful state, project B (the outsider's),
    a real asset with tiles, a model version and a training run."""
    from webapp.accounts.services import project_member_add
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.assets.storage import media_path
    from webapp.labeling.maps import prediction_map_relpath
    from webapp.labeling.models import Draft
    from webapp.labeling.services import item_create, item_flag, lease_take_next, prediction_record, revision_submit
    from webapp.mlops.models import TrainingRun
    from webapp.mlops.services import model_version_register

    settings.LOUPE_WORKING_COPY_LONG_SIDE = 32
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seven users per test
    users = {"none": make_user("none"), "operator": make_user("operator"), "reviewer": make_user("reviewer"),
             "admin": make_user("admin"), "outsider": make_user("operator", member=False)}
    author = make_user("operator")
    project = make_project("catheter")
    other = make_project("catheter", members=False)
    project_member_add(project_id=other.pk, user=users["outsider"])
    asset, _ = asset_ingest(data=_png(1), name="shot.png")
    assert asset_build_derivatives(asset_id=asset.pk) == "ready"
    subject = item_create(project=project, asset_ids=[asset.pk])
    lease_take_next(project_id=project.pk, user=author)
    revision_submit(item_id=subject.pk, user=author, annotation={"verdict": "ok", "shots": [{"defects": []}]},
                    base_revision=None)  # submitted, by someone who is not the reviewer
    for _ in range(5):
        make_item(project)
    leases = {role: lease_take_next(project_id=project.pk, user=users[role])
              for role in ("operator", "reviewer", "admin")}
    version = model_version_register(kind="catheter", scope_key="", artifact_uri="/srv/models/catheter/v1")
    prediction, _ = prediction_record(item_id=subject.pk, model_version_id=version.pk, scores={}, uncertainty=0.5,
                                      payload={"verdict": "ok", "shots": [{"defects": []}]})
    run = TrainingRun.objects.create(kind="catheter", scope_key="", project=project)
    # The subject was answered twice and the answers disagree (its pair's pages and API answer).
    from webapp.labeling.models import AnswerPair

    subject.refresh_from_db()
    AnswerPair.objects.create(project=project, item=subject, first_revision=subject.head_revision,
                              first_operator=author, state=AnswerPair.State.DISAGREED, agreement=0.0)
    from webapp.assets.models import ZipImport

    # A zip import is its uploader's own (another user's answers 404): each user follows one of theirs.
    imports = {role: ZipImport.objects.create(name=f"{role}.zip", archive=f"imports/{role}.zip", uploaded_by=user)
               for role, user in users.items()}
    # The workspace's objects: a flagged item, each member's draft of the subject, a defect map of its prediction.
    flag = item_flag(item_id=lease_take_next(project_id=project.pk, user=author).item_id, user=author,
                     reason="unclear_image")
    for role in ("operator", "reviewer", "admin"):
        Draft.objects.create(item=subject, user=users[role], annotation={"verdict": "ok", "shots": [{"defects": []}]})
    png = media_path(prediction_map_relpath(item_id=subject.pk, model_version_id=version.pk, shot=0, layer="defect"))
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(_png(2))
    # A recompute request of the subject, as the omr recompute endpoint leaves it for its result URL.
    from django.core.cache import cache

    from webapp.omr.selectors import recompute_key

    recompute = "5d0c3a8e-1111-4222-8333-944455556666"
    cache.set(recompute_key(recompute), {"state": "pending", "item": subject.pk, "request": recompute}, 600)
    return {"users": users, "recompute": recompute, "project": project, "item": subject, "asset": asset,
            "leases": leases, "version": version, "run": run, "prediction": prediction, "imports": imports,
            "flag": flag}


def _fill(route: str, role: str, world) -> str:
    """A concrete URL: each ``<conv:name>`` gets an object of project A named by the segment before it."""
    lease = world["leases"].get(role, world["leases"]["operator"])
    values = {
        ("projects", "pk"): world["project"].pk, ("projects", "slug"): world["project"].slug,
        ("items", "pk"): world["item"].pk, ("items", "item_id"): world["item"].pk, ("leases", "token"): lease.token,
        ("assets", "pk"): world["asset"].pk, ("assets", "asset_id"): world["asset"].pk,
        ("models", "pk"): world["version"].pk, ("training-runs", "pk"): world["run"].pk,
        ("predictions", "pk"): world["prediction"].pk, ("flags", "pk"): world["flag"].pk,
        ("maps", "shot"): 0, ("maps", "layer"): "defect",
        ("members", "user_id"): world["users"]["operator"].pk,
        ("imports", "pk"): world["imports"].get(role, world["imports"]["operator"]).pk,
        ("recompute", "request_id"): world["recompute"],
        ("tiles_files", "level"): 0, ("tiles_files", "col"): 0, ("tiles_files", "row"): 0,
    }
    out, last_segment = "", ""
    for literal, conv, name in re.findall(r"([^<]*)(?:<(?:(\w+):)?(\w+)>)?", route):
        out += literal
        segments = [s for s in literal.split("/") if s] if "/" in literal else []
        last_segment = segments[-1] if segments else last_segment
        if name:
            key = (last_segment, name)
            if key not in values:
                pytest.fail(f"/{route}: teach _fill which object <{conv}:{name}> after '{last_segment}/' names")
            out += str(values[key])
    return "/" + out


def _client(role: str, world) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def _expected(action: str, role: str) -> str:
    """'allowed', 'login' (anonymous), 403 or 404, from the table."""
    from webapp.accounts.permissions import TABLE

    rule = TABLE[action]
    if rule.scope == PUBLIC:
        return "allowed"
    if role == "anonymous":
        return "login"
    if rule.scope == ACCOUNT:
        return "allowed"
    if rule.scope == GLOBAL:
        global_role = {"none": "none", "outsider": "operator"}.get(role, role)
        return "allowed" if global_role in rule.roles else 403
    assert rule.scope == PROJECT
    in_project = "none" if role in ("none", "outsider") else role
    if in_project not in TABLE["project.view"].roles:
        return 404
    return "allowed" if in_project in rule.roles else 403


@pytest.mark.parametrize("route,name,method,action", ENDPOINTS)
def test_every_endpoint_answers_every_role_as_the_table_says(route, name, method, action, world):
    assert action, f"/{route} declares no action"
    outcomes = {}
    for role in ROLES:  # admin last: its allowed writes (a member removed) cannot change another cell
        url = _fill(route, role, world) + QUERY.get(name, "")
        response = getattr(_client(role, world), method.lower())(url, format="json") if method != "GET" \
            else _client(role, world).get(url)
        location = response.get("Location", "")
        to_login = response.status_code == 302 and "/login/" in location
        expected = _expected(action, role)
        if expected == "allowed":  # (signing out redirects to the login page: that is no refusal)
            ok = response.status_code not in (401, 403, 404) and (action == "public" or not to_login)
        elif expected == "login":
            ok = to_login if not url.startswith("/api/") else response.status_code in (401, 403)
        else:
            ok = response.status_code == expected
        outcomes[role] = (expected, response.status_code, ok)
    wrong = {role: f"expected {e}, got {s}" for role, (e, s, ok) in outcomes.items() if not ok}
    assert not wrong, f"{method} /{route} ({action}): {wrong}"


def test_the_django_admin_site_is_for_admins_only(world):
    for role in ROLES:
        response = _client(role, world).get("/admin/")
        assert (response.status_code == 200) == (role == "admin"), (role, response.status_code)
