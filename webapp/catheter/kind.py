"""The catheter kind as the labeling core sees it."""
from webapp.catheter import diff, exports, schema
from webapp.labeling.kinds import ExportFormat, KindSpec

SPEC = KindSpec(
    name="catheter",
    label="Catheter defects",
    description="Mark scratches, inclusions and bubbles on every shot of a balloon's rotation series; "
                "give an OK / defect verdict.",
    taxonomy=schema.DEFECT_TYPES,
    validate=schema.validate,
    empty_annotation=schema.empty,
    template="labeling/kinds/catheter.html",
    exports={
        "coco": ExportFormat("coco", "COCO detection JSON", "application/json", "json", exports.to_coco),
        "verdicts": ExportFormat("verdicts", "Verdicts CSV", "text/csv", "csv", exports.to_verdict_csv),
    },
    slices=schema.slices,
    count_edits=schema.count_edits,
    review_diff=diff.review_diff,
)
