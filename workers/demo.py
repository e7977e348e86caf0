"""Demo data: users for each role and one project per kind, filled with generated images; the demo
operators and the reviewer are members of every demo project (the admin sees all of them anyway).

``python -m workers.demo seed --size small``. Idempotent: a project that has items is left alone.
Images come from each kind's generator (``workers.demo_sources``), deterministic for the seed.
"""
from __future__ import annotations

import argparse
import os
import sys

DEMO_USERS = [("operator", "operator-demo", "operator"), ("operator2", "operator2-demo", "operator"),
              ("reviewer", "reviewer-demo", "reviewer"), ("admin", "admin-demo", "admin")]
SIZES = {"tiny": 2, "small": 8, "medium": 24}
PROJECTS = [
    {"name": "Catheter QA — line A", "slug": "catheter-line-a", "kind": "catheter", "scope_key": "line:A",
     "description": "Rotation series of balloon catheters from production line A."},
    {"name": "Daily Courier pages", "slug": "daily-courier", "kind": "articles", "scope_key": "publisher:daily-courier",
     "description": "Broadsheet pages of the Daily Courier, cut into articles."},
    {"name": "Bach chorales — photo alignment", "slug": "bach-chorales", "kind": "omr", "scope_key": "",
     "description": "Phone photos of printed chorales aligned with their engraving."},
]


# Every GOLDEN_EVERY-th generated item is a golden-set item, seeded accepted with the generator's ground
# truth (submitted by the demo operator, accepted by the demo reviewer): the gate compares from the start.
# An item whose truth shows a slice the golden set lacks yet (a defect type, a page type) joins it too, up
# to half the items, so a rare class is not missing from the reference by chance.
GOLDEN_EVERY = 4
GOLDEN_MAX_SHARE = 0.5
# Beside those, each demo scope gets a golden set the gate can decide on (webapp.mlops.gate: 15 items and 10
# positives per slice), from the generators' other indices (workers.demo_sources.golden_items). Generating
# it takes minutes, so `rundemo` runs it in the background once the web server is up.
GOLDEN_SETS = {"tiny": 0, "small": 100, "medium": 100}


def _accept_reference(item, truth: dict, users: dict) -> None:
    from webapp.labeling.services import review_submit, revision_submit

    # Seeding reference answers, not an operator's work: no lease, no queue.
    revision_submit(item_id=item.pk, user=users["operator"], annotation=truth, base_revision=None, require_lease=False)
    item.refresh_from_db(fields=["state"])
    if item.state == "submitted":   # else the submit accepted it already (no review, or review by risk)
        review_submit(item_id=item.pk, reviewer=users["reviewer"], decision="accept",
                      comment="generator ground truth (demo golden set)")


def seed(size: str = "small", seed_value: int = 2018) -> dict[str, int]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")
    os.environ.setdefault("LOUPE_LOCAL", "1")  # demo data on this machine (a private key under var/)
    django.setup()
    from tqdm import tqdm

    from webapp.accounts.services import project_member_add, user_create
    from webapp.assets.services import asset_ingest
    from webapp.labeling.kinds import get_kind
    from webapp.labeling.selectors import queue_depth
    from webapp.labeling.selectors_loop import project_find
    from webapp.labeling.services import item_create, project_create
    from workers.demo_sources import generate_items, ground_truth

    users = {username: user_create(username=username, password=password, role=role)
             for username, password, role in DEMO_USERS}
    created: dict[str, int] = {}
    for spec in PROJECTS:
        project = project_find(slug=spec["slug"]) or project_create(
            **spec, queue_policy="uncertainty", train_after_corrections=4, train_after_minutes=5)
        for username, _, role in DEMO_USERS:
            if role != "admin":
                project_member_add(project_id=project.pk, user=users[username], role=role)
        if queue_depth(project_id=project.pk)["total"]:
            continue
        count = SIZES[size]
        spec, covered, golden_count = get_kind(project.kind), set(), 0
        bar = tqdm(generate_items(project.kind, count, seed_value), total=count, desc=f"{project.kind:9s}", unit="item")
        for index, (external_id, files, roles, meta) in enumerate(bar):
            assets = [asset_ingest(data=data, name=name, project_id=project.pk)[0] for name, data in files]
            truth = ground_truth(project.kind, index, seed_value)
            new_slices = set(spec.slices(truth, meta)) - covered if truth is not None else set()
            golden = truth is not None and (index % GOLDEN_EVERY == 0
                                            or (new_slices and golden_count < GOLDEN_MAX_SHARE * count))
            item = item_create(project=project, asset_ids=[a.pk for a in assets], roles=roles,
                               external_id=external_id, meta=meta, split="golden" if golden else "pool")
            if golden:
                covered |= new_slices
                golden_count += 1
                _accept_reference(item, truth, users)
        created[project.slug] = count
    return created


def seed_golden(size: str = "small", seed_value: int = 2018, kinds: list[str] | None = None) -> dict[str, int]:
    """Fill each demo project's golden set up to ``GOLDEN_SETS[size]`` generated items, accepted with the
    generator's truth; one item per kind in turn, so every scope grows alike. Resumes where it stopped."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")
    os.environ.setdefault("LOUPE_LOCAL", "1")
    django.setup()
    from webapp.accounts.services import project_member_add, user_create
    from webapp.assets.services import asset_ingest
    from webapp.labeling.selectors_loop import item_count_by_external_prefix, project_find
    from webapp.labeling.services import item_create
    from workers.demo_sources import golden_items

    users = {username: user_create(username=username, password=password, role=role)
             for username, password, role in DEMO_USERS}
    target = GOLDEN_SETS[size]
    streams = {}
    for spec in PROJECTS:
        project = project_find(slug=spec["slug"])
        if project is None or (kinds and project.kind not in kinds):
            continue
        for username, _, role in DEMO_USERS:   # the reference answers are the demo operator's and reviewer's
            if role != "admin":
                project_member_add(project_id=project.pk, user=users[username], role=role)
        done = item_count_by_external_prefix(project_id=project.pk, prefix="golden-")
        streams[project.kind] = (project, done, golden_items(project.kind, target, seed_value, start=done))
    added = {kind: 0 for kind in streams}
    while streams:
        for kind in list(streams):
            project, done, stream = streams[kind]
            generated = next(stream, None)
            if generated is None:
                del streams[kind]
                continue
            (external_id, files, roles, meta), truth = generated
            assets = [asset_ingest(data=data, name=name)[0] for name, data in files]
            item = item_create(project=project, asset_ids=[a.pk for a in assets], roles=roles,
                               external_id=external_id, meta=meta, split="golden")
            _accept_reference(item, truth, users)
            added[kind] += 1
            print(f"golden set {kind}: {done + added[kind]}/{target}", flush=True)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.demo")
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed", help="create the demo users and projects")
    seed_cmd.add_argument("--size", choices=sorted(SIZES), default="small")
    seed_cmd.add_argument("--seed", type=int, default=2018)
    golden_cmd = sub.add_parser("golden", help="fill the demo projects' golden sets (after seed)")
    golden_cmd.add_argument("--size", choices=sorted(SIZES), default="small")
    golden_cmd.add_argument("--seed", type=int, default=2018)
    golden_cmd.add_argument("--kind", action="append", help="only these kinds (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "golden":
        added = seed_golden(args.size, args.seed, args.kind)
        print("golden sets:", ", ".join(f"{k}: +{v}" for k, v in added.items()) or "nothing to add")
        return 0
    created = seed(args.size, args.seed)
    # The queue-depth events are coalesced on a background thread: give them their interval to go out
    # before the interpreter shuts down under them.
    import time

    time.sleep(1.0)
    print("demo data:", ", ".join(f"{k}: {v} items" for k, v in created.items()) or "already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
