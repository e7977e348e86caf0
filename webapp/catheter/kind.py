"""The catheter kind as the labeling core sees it; its format lives in ``formats.catheter``."""
from formats import catheter
from formats.catheter import imports
from formats.catheter.coco import to_coco
from formats.catheter.verdicts import to_verdict_csv
from webapp.catheter import diff, quality
from webapp.labeling.kinds import ExportFormat, KindSpec

SPEC = KindSpec(
    name="catheter",
    label="Catheter defects",
    description="Mark scratches, inclusions and bubbles on every shot of a balloon's rotation series; "
                "give an OK / defect verdict.",
    taxonomy=catheter.DEFECT_TYPES,
    validate=catheter.validate,
    empty_annotation=catheter.empty,
    template="labeling/kinds/catheter.html",
    exports={
        "coco": ExportFormat("coco", "COCO detection JSON", "application/json", "json", to_coco),
        "verdicts": ExportFormat("verdicts", "Verdicts CSV", "text/csv", "csv", to_verdict_csv),
    },
    slices=catheter.slices,
    count_edits=catheter.count_edits,
    json_schema=catheter.JSON_SCHEMA,
    import_readers=imports.READERS,
    import_assemble=imports.assemble,
    review_diff=diff.review_diff,
    control_score=quality.control_score,
    suspect_check=quality.suspect_check,
    suspect_thresholds=quality.SUSPECT_THRESHOLDS,
    suspect_self_confidence=quality.self_confidence,
)
