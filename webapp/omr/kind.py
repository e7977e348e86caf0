"""The omr kind as the labeling core sees it."""
from webapp.labeling.kinds import ExportFormat, KindSpec
from webapp.omr import exports, schema

SPEC = KindSpec(
    name="omr",
    label="Sheet-music alignment",
    description="Verify that a photographed score is aligned with its original rendering; accept, reject, "
                "or fix with point pairs.",
    taxonomy=schema.STATUSES,
    validate=schema.validate,
    empty_annotation=schema.empty,
    template="labeling/kinds/omr.html",
    asset_roles=("original", "photo"),
    exports={"alignments": ExportFormat("alignments", "Alignments JSON", "application/json", "json",
                                        exports.to_alignments_json)},
    slices=schema.slices,
    count_edits=schema.count_edits,
)
