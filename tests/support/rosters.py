"""Roster files made in the test (no binary fixtures): XLSX workbooks from rows, and the hostile
ones (a zip bomb, a million rows, formulas, a YAML billion laughs)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import Workbook

HEADER = ("姓名", "职务", "单位", "手机", "邮箱", "角色")


def xlsx(*rows: tuple[Any, ...], header: tuple[str, ...] = HEADER) -> bytes:
    """A workbook whose first sheet has ``header`` and ``rows`` (a value starting with ``=`` is a
    formula, as openpyxl writes it)."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    """An XLSX-looking zip whose sheet declares 256 MB of zeros, packed into 250 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"0" * (1024 * 1024)
            for _ in range(256):
                member.write(block)
    return out.getvalue()


def million_rows(rows: int = 1_000_000) -> bytes:
    """A valid workbook of ``rows`` rows below the header (name, unit, email), each a number in its
    first column, the sheet XML written straight into the zip, streaming (openpyxl would take
    minutes and gigabytes to write it): 2.4 MB, which unpacks to 37 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
                b'<c r="B1" t="inlineStr"><is><t>unit</t></is></c>'
                b'<c r="C1" t="inlineStr"><is><t>email</t></is></c></row>'
            )
            for start in range(2, rows + 2, 50_000):
                end = min(start + 50_000, rows + 2)
                member.write(
                    "".join(
                        f'<row r="{n}"><c><v>1</v></c></row>' for n in range(start, end)
                    ).encode()
                )
            member.write(b"</sheetData></worksheet>")
    return out.getvalue()


def wide_row(cells: int = 1_000_000) -> bytes:
    """A workbook whose header row has ``cells`` cells, each its own number (20 MB unpacked, packed
    some four times: no zip bomb)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        sheet = (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            + "".join(f"<c><v>{n}</v></c>" for n in range(cells))
            + "</row></sheetData></worksheet>"
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def xml_entity_bomb() -> bytes:
    """A workbook whose sheet declares XML entities of entities (billion laughs in XML)."""
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {level} "{("&" + chr(ord(level) - 1) + ";") * 10}">' for level in "bcdefghi"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entities}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&i;</t></is></c></row>'
            "</sheetData></worksheet>",
        )
    return out.getvalue()


def billion_laughs() -> bytes:
    """A YAML file whose aliases of aliases would expand to 10⁹ strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 10) + "]")
    lines.append("units: *i")
    return ("\n".join(lines) + "\n").encode()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
    '"worksheets/sheet1.xml"/></Relationships>'
)
