"""The articles kind as the labeling core sees it; its format lives in ``formats.articles``."""
from formats import articles
from formats.articles import imports
from formats.articles.coco import to_coco
from formats.articles.pagexml import page_xml_zip
from webapp.articles import quality
from webapp.labeling.kinds import ExportFormat, KindSpec

SPEC = KindSpec(
    name="articles",
    label="Newspaper articles",
    description="Correct the proposed article cuts on a newspaper page and set the page type.",
    taxonomy=articles.PAGE_TYPES,
    validate=articles.validate,
    empty_annotation=articles.empty,
    template="labeling/kinds/articles.html",
    asset_roles=("page",),
    exports={
        "pagexml": ExportFormat("pagexml", "PAGE XML 2019 (zip)", "application/zip", "zip", page_xml_zip),
        "coco": ExportFormat("coco", "COCO polygons JSON", "application/json", "json", to_coco),
    },
    slices=articles.slices,
    count_edits=articles.count_edits,
    json_schema=articles.JSON_SCHEMA,
    import_readers=imports.READERS,
    import_assemble=imports.assemble,
    review_diff=articles.review_diff,
    control_score=quality.control_score,
    suspect_check=quality.suspect_check,
    suspect_thresholds=quality.SUSPECT_THRESHOLDS,
    suspect_self_confidence=quality.self_confidence,
)
