"""What the PAGE 2019 XSD demands of an imported document, checked without an XSD validator.

The web process has no XML Schema validator (lxml is a test dependency only) and the XSD ships only in
OCR-D's ocrd_validators, a test dependency too. ``page2019.json`` holds the XSD's structure (per complex
type: the type it extends, the children it may and must hold, the attributes with their types and the
required ones; the simple types: enumerations, the points pattern, the confidence range), derived from
the XSD by ``tests/formats/articles/page_xsd_table.py`` and compared with it by the tests, so it cannot
drift. Checked here, each problem with its element's path and line: unknown elements and attributes,
missing required children and attributes, values against their types and enumerations, ids unique and
references resolving. Not checked: the order and counts of children, and element text (``Created`` as a
dateTime).

Documents of older PAGE versions (Transkribus still writes 2013-07-15) are checked as far as the 2019
schema agrees with them: their known elements' attributes and required attributes, types, ids and
references; elements and attributes the 2019 schema does not know are theirs to have.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from formats.common.checker import AnnotationError, is_ncname

NS_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_NS_PREFIX = "http://schema.primaresearch.org/PAGE/gts/pagecontent/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_ERRORS = 20
_INT = re.compile(r"[+-]?[0-9]+")
_BOOLEAN = {"true", "false", "1", "0"}


@functools.cache
def _schema() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("page2019.json").read_text(encoding="utf-8"))


@functools.cache
def _resolved(type_name: str) -> dict[str, Any]:
    """A complex type with what it inherits from the types it extends."""
    entry = _schema()["types"].get(type_name, {"base": None, "children": {}, "must": [], "attributes": {},
                                                "required": []})
    if entry["base"] is None:
        return entry
    base = _resolved(entry["base"])
    return {"children": {**base["children"], **entry["children"]}, "must": base["must"] + entry["must"],
            "attributes": {**base["attributes"], **entry["attributes"]},
            "required": base["required"] + entry["required"]}


@dataclass
class _Frame:
    name: str
    path: str
    type: str | None                  # None: an element the schema does not know (its subtree is not checked)
    line: int
    children: dict[str, int] = field(default_factory=dict)


class _NotPage(Exception):
    """The root is no PAGE document: the reader says so in its own words."""


class _Check:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.stack: list[_Frame] = []
        self.ids: dict[str, int] = {}
        self.refs: list[tuple[str, str, int]] = []
        self.strict = True
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end

    def fail(self, path: str, message: str, line: int | None = None) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"path": f"{path} (line {line or self.parser.CurrentLineNumber})",
                                "message": message})

    def start(self, qname: str, attributes: dict[str, str]) -> None:
        ns, _, local = qname.rpartition("}")
        if not self.stack:
            if local != "PcGts" or not ns.startswith(PAGE_NS_PREFIX):
                raise _NotPage
            self.ns, self.strict = ns, ns == NS_2019
            name, type_name = _schema()["root"]
            self.stack.append(_Frame(name, "/PcGts", type_name, self.parser.CurrentLineNumber))
            self.attributes(self.stack[-1], attributes)
            return
        parent = self.stack[-1]
        count = parent.children[local] = parent.children.get(local, 0) + 1
        segment = local + (f"[@id={attributes['id']!r}]" if attributes.get("id")
                           else f"[{count}]" if count > 1 else "")
        frame = _Frame(local, f"{parent.path}/{segment}", None, self.parser.CurrentLineNumber)
        if parent.type is not None:
            allowed = _resolved(parent.type)["children"]
            if ns == self.ns and local in allowed:
                frame.type = allowed[local]
            elif self.strict:
                where = "" if ns == self.ns else f" (namespace {ns or 'none'})"
                self.fail(frame.path, f"element {local}{where} is not allowed in {parent.name} by the PAGE 2019 "
                                      f"schema (it allows: {', '.join(allowed) or 'no elements'})")
        self.stack.append(frame)
        if frame.type is not None:
            self.attributes(frame, attributes)

    def attributes(self, frame: _Frame, attributes: dict[str, str]) -> None:
        spec = _resolved(frame.type)
        for required in spec["required"]:
            if required not in attributes:
                self.fail(frame.path, f"{frame.name} needs the attribute {required}")
        for name, value in attributes.items():
            if "}" in name:
                continue   # xsi:schemaLocation and other namespaces' attributes
            kind = spec["attributes"].get(name)
            if kind is None:
                if self.strict:
                    self.fail(f"{frame.path}/@{name}", f"{frame.name} has no attribute {name} in the PAGE 2019 "
                                                       "schema")
                continue
            problem = self.value_problem(kind, value)
            if problem:
                self.fail(f"{frame.path}/@{name}", problem)
            elif kind[0] == "ID":
                if value in self.ids:
                    self.fail(f"{frame.path}/@{name}", f"the id {value!r} is already used on line {self.ids[value]}")
                self.ids.setdefault(value, self.parser.CurrentLineNumber)
            elif kind[0] == "IDREF":
                self.refs.append((f"{frame.path}/@{name}", value, self.parser.CurrentLineNumber))

    @staticmethod
    def value_problem(kind: list, value: str) -> str:
        """What is wrong with an attribute's value for its type ('' when nothing)."""
        if kind[0].startswith("pc:"):
            kind = _schema()["simple"][kind[0][3:]]
        shown = repr(value[:80])
        if kind[0] in ("ID", "IDREF") and not is_ncname(value):
            return f"{shown} is not an XML id (a letter or _ first, then letters, digits, '.', '-' or '_')"
        if kind[0] in ("int", "integer") and not _INT.fullmatch(value.strip()):
            return f"{shown} is not a whole number"
        if kind[0] == "boolean" and value.strip() not in _BOOLEAN:
            return f"{shown} is not true or false"
        if kind[0] in ("float", "range"):
            try:
                number = float(value)
            except ValueError:
                return f"{shown} is not a number"
            if kind[0] == "range" and not (math.isfinite(number) and kind[1] <= number <= kind[2]):
                return f"{shown} is not between {kind[1]:g} and {kind[2]:g}"
        if kind[0] == "enum" and value not in kind[1]:
            listed = ", ".join(kind[1][:20]) + (", ..." if len(kind[1]) > 20 else "")
            return f"{shown} is not one of the schema's values ({listed})"
        if kind[0] == "pattern" and not re.fullmatch(kind[1], value):
            return f"{shown} is not a list of points 'x1,y1 x2,y2 ...' in whole pixels"
        return ""

    def end(self, qname: str) -> None:
        frame = self.stack.pop()
        if frame.type is not None and self.strict:
            for must in _resolved(frame.type)["must"]:
                if must not in frame.children:
                    self.fail(frame.path, f"{frame.name} needs a {must} element", frame.line)


def check_page(xml: str | bytes) -> None:
    """Refuse a PAGE document the PAGE 2019 schema refuses: ``AnnotationError`` listing each problem with
    its element's path and line; ``ValueError`` for text that is not well-formed XML. A document that is
    no PAGE at all passes here, for the reader to refuse in its own words."""
    check = _Check()
    try:
        check.parser.Parse(xml.encode("utf-8") if isinstance(xml, str) else xml, True)
    except _NotPage:
        return
    except expat.ExpatError as exc:
        raise ValueError(f"not well-formed XML: {expat.errors.messages[exc.code]} (line {exc.lineno}, "
                         f"column {exc.offset + 1})") from None
    for path, ref, line in check.refs:
        if ref not in check.ids and len(check.errors) < MAX_ERRORS:
            check.errors.append({"path": f"{path} (line {line})", "message": f"names no element: no id is {ref!r}"})
    if check.errors:
        raise AnnotationError(check.errors)
