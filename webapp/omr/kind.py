"""The omr kind as the labeling core sees it; its format lives in ``formats.omr``.

The symbol exports (COCO, DeepScoresV2) hold the photo-side boxes: the original's symbols (item meta
``symbols``) moved through each accepted homography."""
from formats import omr
from formats.omr import deepscores, imports
from formats.omr.alignments import to_alignments_json
from webapp.labeling.kinds import ExportFormat, KindSpec
from webapp.omr import diff, fix_metrics, quality


def _photo_coco(items):
    return deepscores.to_coco(deepscores.item_pages(items, "photo"))


def _photo_deepscores(items):
    return deepscores.to_deepscores(deepscores.item_pages(items, "photo"))


SPEC = KindSpec(
    name="omr",
    label="Sheet-music alignment",
    description="Verify that a photographed score is aligned with its original rendering; accept, reject, "
                "or fix with point pairs.",
    taxonomy=omr.STATUSES,
    validate=omr.validate,
    empty_annotation=omr.empty,
    template="labeling/kinds/omr.html",
    asset_roles=("original", "photo"),
    exports={
        "alignments": ExportFormat("alignments", "Alignments JSON", "application/json", "json", to_alignments_json),
        "coco": ExportFormat("coco", "COCO symbols on the photos (DeepScoresV2 classes)", "application/json", "json",
                             _photo_coco),
        "deepscores": ExportFormat("deepscores", "DeepScoresV2 JSON, symbols on the photos", "application/json",
                                   "json", _photo_deepscores),
    },
    slices=omr.slices,
    count_edits=omr.count_edits,
    json_schema=omr.JSON_SCHEMA,
    import_readers=imports.READERS,
    import_assemble=imports.assemble,
    review_diff=diff.review_diff,
    control_score=quality.control_score,
    revision_metrics=fix_metrics.revision_metrics,
    revision_metrics_schema=fix_metrics.JSON_SCHEMA,
)
