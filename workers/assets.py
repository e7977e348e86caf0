"""Asset derivatives on the cpu queue: working copy and deep-zoom tiles, then prediction of the items
whose images are now all ready."""
from webapp.core import tasknames
from workers.base import loupe_task


@loupe_task(tasknames.ASSET_DERIVATIVES, time_limit=1800)
def asset_derivatives(asset_id: int) -> str:
    from webapp.assets.services import asset_build_derivatives
    from workers.inference import enqueue_ready_items

    state = asset_build_derivatives(asset_id=asset_id)
    enqueue_ready_items(asset_id)   # none are ready when this asset's derivatives failed
    return state


@loupe_task(tasknames.ZIP_IMPORT, time_limit=3600)
def zip_import(import_id: int) -> str:
    """Expand a large zip upload (into work items of its project when it has one), reporting progress."""
    import time

    from webapp.assets import storage
    from webapp.assets.api import report_body, report_status
    from webapp.assets.imports import zip_import_finish, zip_import_progress, zip_import_start
    from webapp.assets.services import assets_ingest_upload

    job = zip_import_start(import_id=import_id)
    if job is None:
        return "skipped"
    path = storage.local_path(job.archive)
    last = [0.0]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] >= 0.5:  # a row update at most twice a second
            zip_import_progress(import_id=import_id, done=done)
            last[0] = time.monotonic()

    try:
        if job.target.get("project"):
            from webapp.labeling.selectors import project_get
            from webapp.labeling.services.ingest import items_ingest

            project = project_get(project_id=job.target["project"])
            made = items_ingest(project=project, files=[(job.name, path)], grouping=job.target["grouping"],
                                user=job.uploaded_by, member_progress=progress)
            body = report_body(made.results, items=made.items, unmatched=made.unmatched)
            results = made.results
        else:
            results = assets_ingest_upload(data=path, name=job.name, user=job.uploaded_by,
                                           member_progress=progress).results
            body = report_body(results)
    except Exception as exc:
        zip_import_finish(import_id=import_id, error=f"{type(exc).__name__}: {exc}")
        raise
    body["status"] = report_status(results)
    zip_import_finish(import_id=import_id, report=body)
    return "done"
