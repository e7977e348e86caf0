"""The articles kind as the labeling core sees it."""
from webapp.articles import exports, schema
from webapp.labeling.kinds import ExportFormat, KindSpec

SPEC = KindSpec(
    name="articles",
    label="Newspaper articles",
    description="Correct the proposed article cuts on a newspaper page and set the page type.",
    taxonomy=schema.PAGE_TYPES,
    validate=schema.validate,
    empty_annotation=schema.empty,
    template="labeling/kinds/articles.html",
    asset_roles=("page",),
    exports={
        "pagexml": ExportFormat("pagexml", "PAGE XML (zip)", "application/zip", "zip", exports.to_page_xml_zip),
        "coco": ExportFormat("coco", "COCO polygons JSON", "application/json", "json", exports.to_coco),
    },
    slices=schema.slices,
    count_edits=schema.count_edits,
)
