"""The structure table of ``formats/articles/page2019.json``, derived from the PAGE 2019 XSD itself (the copy
OCR-D's ocrd_validators ships, a test dependency): per complex type, the type it extends, the children it
may hold (element name: type) and those it must, its attributes with their types, the required ones; and
the simple types those attributes use. The test compares the shipped table with this."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
BUILTIN_CHECKED = {"int", "integer", "float", "boolean", "ID", "IDREF"}


def xsd_path() -> Path:
    import ocrd_validators

    return Path(ocrd_validators.__file__).with_name("page.xsd")


def derive(path: Path | None = None) -> dict:
    schema = etree.parse(str(path or xsd_path())).getroot()
    complex_types = {t.get("name"): t for t in schema.findall(f"{XS}complexType")}
    simple_types = {t.get("name"): t for t in schema.findall(f"{XS}simpleType")}

    def attr_type(type_name: str | None, node) -> list:
        if type_name is None:
            inline = node.find(f"{XS}simpleType")
            return simple(inline) if inline is not None else ["string"]
        local = type_name.split(":")[-1]
        if type_name.startswith("pc:"):
            simple_used[local] = simple(simple_types[local])
            return ["pc:" + local]
        return [local] if local in BUILTIN_CHECKED else ["string"]

    def simple(node) -> list:
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            return ["string"]
        values = [e.get("value") for e in restriction.findall(f"{XS}enumeration")]
        if values:
            return ["enum", sorted(values)]
        pattern = restriction.find(f"{XS}pattern")
        if pattern is not None:
            return ["pattern", pattern.get("value")]
        base = restriction.get("base").split(":")[-1]
        low, high = restriction.find(f"{XS}minInclusive"), restriction.find(f"{XS}maxInclusive")
        if base == "float" and low is not None and high is not None:
            return ["range", float(low.get("value")), float(high.get("value"))]
        return [base] if base in BUILTIN_CHECKED else ["string"]

    def content(ctype, out: dict) -> None:
        ext = ctype.find(f"{XS}complexContent/{XS}extension")
        body = ext if ext is not None else ctype
        if ext is not None:
            out["base"] = ext.get("base")
            pending.append((ext.get("base"), None))
        for attribute in body.findall(f"{XS}attribute"):
            out["attributes"][attribute.get("name")] = attr_type(attribute.get("type"), attribute)
            if attribute.get("use") == "required":
                out["required"].append(attribute.get("name"))
        for particle in body:
            if particle.tag in (f"{XS}sequence", f"{XS}choice", f"{XS}all"):
                walk(particle, out, must=particle.tag != f"{XS}choice" and particle.get("minOccurs") != "0")

    def walk(group, out: dict, must: bool) -> None:
        for child in group:
            if child.tag == f"{XS}element":
                out["children"][child.get("name")] = element_type(child)
                if must and child.get("minOccurs") != "0":
                    out["must"].append(child.get("name"))
            elif child.tag in (f"{XS}sequence", f"{XS}choice", f"{XS}all"):
                walk(child, out, must and child.tag != f"{XS}choice" and child.get("minOccurs") != "0")

    def element_type(element) -> str:
        return element.get("type") or "inline:" + element.get("name")

    table: dict[str, dict] = {}
    simple_used: dict[str, list] = {}
    pending: list[tuple[str, object]] = [("pc:PcGtsType", None)]
    seen = set()
    while pending:
        type_name, inline = pending.pop()
        if type_name in seen:
            continue
        seen.add(type_name)
        local = type_name.split(":")[-1]
        ctype = inline if inline is not None else complex_types.get(local)
        entry = {"base": None, "children": {}, "must": [], "attributes": {}, "required": []}
        if ctype is not None and type_name.startswith(("pc:", "inline:")):
            content(ctype, entry)
        table[type_name] = entry
        for name, child_type in entry["children"].items():
            node = None
            if child_type.startswith("inline:"):
                node = next(e for e in ctype.iter(f"{XS}element") if e.get("name") == name).find(f"{XS}complexType")
            pending.append((child_type, node))
    for entry in table.values():
        entry["must"] = sorted(set(entry["must"]))
        entry["required"] = sorted(entry["required"])
        entry["attributes"] = dict(sorted(entry["attributes"].items()))
        entry["children"] = dict(sorted(entry["children"].items()))
    return {"root": ["PcGts", "pc:PcGtsType"], "types": dict(sorted(table.items())),
            "simple": dict(sorted(simple_used.items()))}
