"""PAGE import refuses what the PAGE 2019 XSD refuses, with the element's path and line: the structure
table the runtime checks against is the XSD's own (derived here from the copy OCR-D ships), and every
refusal below is one the XSD validator (lxml, through ocrd_validators) makes too."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from lxml import etree
from ocrd_validators.xsd_page_validator import XsdPageValidator

from formats.articles.imports import read_page_file
from formats.articles.pagexml import to_page_xml
from formats.articles.pageschema import check_page
from formats.common import AnnotationError

_spec = importlib.util.spec_from_file_location("page_xsd_table", Path(__file__).with_name("page_xsd_table.py"))
page_xsd_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(page_xsd_table)

ROOT = Path(__file__).resolve().parents[3]
PAGE = {"page_type": "article", "cuts": [{"x0": 0, "y0": 50, "x1": 100, "y1": 50}],
        "articles": [{"id": "a1", "polygon": [[0, 0], [100, 0], [100, 50], [0, 50]], "score": 0.5},
                     {"id": "a2", "polygon": [[0, 50], [100, 50], [100, 140], [0, 140]]}]}
GOOD = to_page_xml(PAGE, 100, 140, "p.png", created="2026-01-01T00:00:00")


def refusals(xml: str) -> list[str]:
    with pytest.raises(AnnotationError) as caught:
        check_page(xml)
    return [f"{e['path']}: {e['message']}" for e in caught.value.errors]


def xsd_refuses(xml: str) -> bool:
    return not XsdPageValidator.validate(etree.ElementTree(etree.fromstring(xml.encode()))).is_valid


def line_of(xml: str, text: str) -> int:
    return next(n for n, line in enumerate(xml.splitlines(), start=1) if text in line)


def test_the_shipped_table_is_the_xsds_own():
    shipped = json.loads((ROOT / "formats/articles/page2019.json").read_text())
    assert shipped == json.loads(json.dumps(page_xsd_table.derive()))


def test_an_unknown_element_a_region_without_id_and_an_unknown_type_are_refused_with_their_lines():
    xml = (GOOD.replace('<TextRegion id="a2"', '<TextRegion type="bogus"')
           .replace('</Page>', '<Sticker id="s1"/></Page>'))
    assert xsd_refuses(xml)
    region, sticker = line_of(xml, 'type="bogus"'), line_of(xml, "<Sticker")
    found = refusals(xml)
    assert found[0] == f"/PcGts/Page/TextRegion[2] (line {region}): TextRegion needs the attribute id"
    assert found[1].startswith(f"/PcGts/Page/TextRegion[2]/@type (line {region}): 'bogus' is not one of the "
                               "schema's values (TOC-entry, caption, catch-word,")
    assert found[2].startswith(f"/PcGts/Page/Sticker[@id='s1'] (line {sticker}): element Sticker is not allowed "
                               "in Page by the PAGE 2019 schema (it allows: AdvertRegion, AlternativeImage, ")
    # the reading order names a2, which is gone
    assert any("regionRef" in f and "no id is 'a2'" in f for f in found)


@pytest.mark.parametrize("change, words", [
    (('points="0,0 100,0', 'points="0,0 abc,0'), "/Coords/@points (line"),
    (('conf="0.5000"', 'conf="1.5"'), "'1.5' is not between 0 and 1"),
    (('id="a2"', 'id="a1"'), "the id 'a1' is already used on line"),
    (('imageWidth="100"', 'imageWidth="wide"'), "/PcGts/Page/@imageWidth (line 8): 'wide' is not a whole number"),
    (('<TextRegion id="a2"', '<TextRegion id="a2" colour="red"'), "TextRegion has no attribute colour"),
    (('<Creator>Loupe</Creator>', ''), "/PcGts/Metadata (line 3): Metadata needs a Creator element"),
    (('id="a2"', 'id="2a"'), "'2a' is not an XML id"),
])
def test_each_refusal_is_one_the_xsd_makes_too(change, words):
    xml = GOOD.replace(*change)
    assert xml != GOOD and xsd_refuses(xml)
    assert any(words in f for f in refusals(xml)), refusals(xml)


def test_valid_documents_pass_and_the_import_refuses_with_the_line():
    assert not xsd_refuses(GOOD)
    check_page(GOOD)
    assert read_page_file(GOOD.encode())["p.png"].content["articles"][1]["id"] == "a2"
    with pytest.raises(AnnotationError, match=r"/PcGts/Page/TextRegion\[@id='a2'\]/@type \(line 1[0-9]\)"):
        read_page_file(GOOD.replace('<TextRegion id="a2"', '<TextRegion id="a2" type="sidebar"').encode())
    with pytest.raises(ValueError, match=r"not well-formed XML: mismatched tag \(line 4, column"):
        check_page(GOOD.replace("</Creator>", "</Creatorr>"))


TRANSKRIBUS_2013 = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">
  <Metadata><Creator>Transkribus</Creator><Created>2020-01-01T00:00:00</Created>
    <LastChange>2020-01-01T00:00:00</LastChange><TranskribusMetadata docId="1" pageId="2"/></Metadata>
  <Page imageFilename="p.jpg" imageWidth="1000" imageHeight="1400">
    <TextRegion id="r1" type="paragraph" custom="structure {type:paragraph;}">
      <Coords points="0,200 500,200 500,1400 0,1400"/></TextRegion>
    <TextRegion type="heading"><Coords points="0,0 1000,0 1000,200 0,200"/></TextRegion>
  </Page>
</PcGts>"""


def test_an_older_page_version_is_checked_where_the_2019_schema_agrees():
    # Transkribus' own metadata element is no business of the 2019 schema; a region without id is
    found = refusals(TRANSKRIBUS_2013)
    assert found == ["/PcGts/Page/TextRegion[2] (line 8): TextRegion needs the attribute id"]
    check_page(TRANSKRIBUS_2013.replace('<TextRegion type="heading">', '<TextRegion id="r2" type="heading">'))


def test_what_is_no_page_is_left_to_the_reader():
    check_page("<html/>")
    with pytest.raises(ValueError, match="PcGts"):
        read_page_file(b"<html/>")
