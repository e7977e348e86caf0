"""PAGE XML checked by the field's own tools: the PAGE 2019 XSD (shipped by OCR-D's ocrd_validators)
through lxml, and OCR-D's PageValidator; then read back by the one reader."""
import io
import zipfile

import pytest
from lxml import etree
from ocrd_validators import PageValidator
from ocrd_validators.xsd_page_validator import XsdPageValidator

from formats.articles import validate
from formats.articles.pagexml import from_page_xml, page_xml_zip, to_page_xml
from formats.common import AnnotationError, AssetDims, ExportedItem

W, H = 2000, 3000
PAGE = [AssetDims(W, H, "page")]
CUT_PAGE = validate({
    "page_type": "article",
    "cuts": [{"x0": 0, "y0": 1000, "x1": 2000, "y1": 1000}, {"x0": 1000, "y0": 1000, "x1": 1000, "y1": 3000},
             {"x0": 100, "y0": 100, "x1": 400, "y1": 400}],
    "articles": [{"id": "a2", "polygon": [[0, 0], [2000, 0], [2000, 1000], [0, 1000]]},
                 {"id": "Sport_1", "polygon": [[0, 1000], [1000, 1000], [1000, 3000], [0, 3000]]},
                 {"id": "cut1", "polygon": [[1000, 1000], [2000, 1000], [1000, 3000]]}]}, PAGE)


def xsd_errors(xml: str) -> list[str]:
    report = XsdPageValidator.validate(etree.ElementTree(etree.fromstring(xml.encode())))
    return report.errors


def ocrd_errors(xml: str, tmp_path) -> list[str]:
    path = tmp_path / "page.xml"
    path.write_text(xml)
    report = PageValidator.validate(filename=str(path), page_textequiv_consistency="strict")
    return [str(e) for e in report.errors]


@pytest.mark.parametrize("page_type", ["article", "ads", "tv", "shares", "sports", "other"])
def test_every_page_type_passes_the_xsd_and_ocrd(page_type, tmp_path):
    ann = CUT_PAGE if page_type == "article" else {"page_type": page_type, "cuts": CUT_PAGE["cuts"], "articles": []}
    xml = to_page_xml(ann, W, H, "p.png")
    assert xsd_errors(xml) == []
    assert ocrd_errors(xml, tmp_path) == []


def test_reading_order_region_ids_and_round_trip(tmp_path):
    xml = to_page_xml(CUT_PAGE, W, H, "p.png")
    root = etree.fromstring(xml.encode())
    ns = {"pc": root.nsmap[None]}
    assert root.xpath("//pc:RegionRefIndexed/@regionRef", namespaces=ns) == ["a2", "Sport_1", "cut1"]
    assert root.xpath("//pc:TextRegion/@custom", namespaces=ns) == ["structure {type:article;}"] * 3
    assert "cut1" not in root.xpath("//pc:SeparatorRegion/@id", namespaces=ns)   # no clash with an article id
    back, w, h = from_page_xml(xml)
    assert (w, h) == (W, H)
    assert validate(back, PAGE) == CUT_PAGE


def test_an_id_that_is_not_an_xml_id_is_refused_by_the_validator():
    with pytest.raises(AnnotationError) as caught:
        validate({"page_type": "article", "articles": [{"id": "Sport 1", "polygon": [[0, 0], [9, 0], [9, 9]]}]}, PAGE)
    assert caught.value.errors[0]["path"] == "$.articles[0].id"


def test_page_type_and_scores_round_trip():
    for page_type in ("tv", "ads", "other"):
        back, _, _ = from_page_xml(to_page_xml({"page_type": page_type, "cuts": [], "articles": []}, 10, 10))
        assert back["page_type"] == page_type
    ann = {"page_type": "article", "cuts": [{"x0": 5, "y0": 1, "x1": 5, "y1": 90, "score": 0.8}],
           "articles": [{"id": "a2", "polygon": [[0, 0], [4, 0], [4, 9], [0, 9]], "score": 0.5}]}
    back, _, _ = from_page_xml(to_page_xml(ann, 10, 100))
    assert back == ann


TRANSKRIBUS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">
  <Metadata><Creator>Transkribus</Creator><Created>2020-01-01T00:00:00</Created>
    <LastChange>2020-01-01T00:00:00</LastChange></Metadata>
  <Page imageFilename="p.jpg" imageWidth="1000" imageHeight="1400">
    <ReadingOrder><OrderedGroup id="ro1" caption="Regions reading order">
      <RegionRefIndexed index="0" regionRef="r2"/><RegionRefIndexed index="1" regionRef="r1"/>
      <RegionRefIndexed index="2" regionRef="r3"/>
    </OrderedGroup></ReadingOrder>
    <TextRegion id="r1" custom="readingOrder {index:1;} structure {type:paragraph;}">
      <Coords points="0,200 500,200 500,1400 0,1400"/></TextRegion>
    <TextRegion id="r2" custom="readingOrder {index:0;} structure {type:heading;}">
      <Coords points="0,0 1000,0 1000,200 0,200"/></TextRegion>
    <TextRegion id="r3" custom="readingOrder {index:2;} structure {type:page-number;}">
      <Coords points="900,1350 990,1350 990,1390 900,1390"/></TextRegion>
    <TextRegion id="r4" type="paragraph"><Coords points="500,200 1000,200 1000,1400 500,1400"/></TextRegion>
  </Page>
</PcGts>"""


def test_a_transkribus_page_reads_its_headings_and_paragraphs_in_reading_order():
    ann, w, h = from_page_xml(TRANSKRIBUS)
    assert (w, h) == (1000, 1400) and ann["page_type"] == "article"
    assert [a["id"] for a in ann["articles"]] == ["r2", "r1", "r4"]   # the page number is furniture
    validate(ann, [AssetDims(w, h)])


def test_foreign_documents_are_refused_with_a_reason():
    for text, words in [("<html/>", "PcGts"), ("<PcGts", "well-formed"), ("<PcGts/>", "no Page")]:
        with pytest.raises(ValueError, match=words):
            from_page_xml(text)


def test_the_zip_streams_one_valid_file_per_page():
    items = [ExportedItem(item_id=i, external_id=f"p/{i}", assets=[{"name": f"p{i}.png", "width": W, "height": H}],
                          annotation=CUT_PAGE) for i in range(3)]
    chunks = list(page_xml_zip(items))
    assert len(chunks) == 4 and all(isinstance(c, bytes) for c in chunks)
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:
        assert zf.namelist() == ["p_0.xml", "p_1.xml", "p_2.xml"]
        for name in zf.namelist():
            assert xsd_errors(zf.read(name).decode()) == []


def test_the_tools_do_refuse_what_the_former_writers_wrote(tmp_path):
    xml = to_page_xml({"page_type": "ads", "cuts": [], "articles": []}, W, H)
    assert xsd_errors(xml.replace('type="other"', 'type="advert"'))          # not in the XSD's enumeration
    xml = to_page_xml(CUT_PAGE, W, H)
    two_points = etree.fromstring(xml.encode())
    for coords in two_points.iter("{*}Coords"):
        if coords.getparent().tag.endswith("SeparatorRegion"):
            coords.set("points", " ".join(coords.get("points").split()[:2]))
    errors = ocrd_errors(etree.tostring(two_points).decode(), tmp_path)
    assert any("too few points" in e for e in errors)


def test_an_older_annotation_with_a_bad_id_still_exports_valid_xml():
    legacy = {"page_type": "article", "cuts": [], "articles": [
        {"id": "Sport 1", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]},
        {"id": "Sport:1", "polygon": [[10, 0], [20, 0], [20, 10], [10, 10]]}]}
    xml = to_page_xml(legacy, W, H)
    assert xsd_errors(xml) == []
    back, _, _ = from_page_xml(xml)
    assert [a["id"] for a in back["articles"]] == ["_Sport_1", "_Sport_1_"]
