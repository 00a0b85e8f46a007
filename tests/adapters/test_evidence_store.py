"""Evidence files are kept by their content: real PDF, photos, Word and Excel files pass; anything
else, however it is named, is refused with a reason and nothing is written."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from PIL import Image

from domain.adapters.evidence_store import (
    EvidenceKind,
    EvidenceRefusedError,
    open_stored,
    sniff,
    store,
)

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph("联审结果：通过")
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    book = Workbook()
    book.create_sheet("计划")["A1"] = "培训计划"
    book.save(buffer)
    return buffer.getvalue()


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (MINIMAL_PDF, EvidenceKind.PDF),
        (image_bytes("JPEG"), EvidenceKind.JPEG),
        (image_bytes("PNG"), EvidenceKind.PNG),
        (docx_bytes(), EvidenceKind.DOCX),
        (xlsx_bytes(), EvidenceKind.XLSX),
    ],
    ids=["pdf", "jpeg", "png", "docx", "xlsx"],
)
def test_accepted_kinds_are_known_by_content(data: bytes, kind: EvidenceKind) -> None:
    """Each accepted kind is recognised from its bytes alone."""
    assert sniff(data) is kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "空"),
        (b"<html><script>alert(1)</script></html>", "不支持"),
        (b"MZ\x90\x00" + b"\x00" * 100, "不支持"),
        (b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj", "脚本"),
        (image_bytes("JPEG")[:200], "损坏"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "损坏"),
        (zip_with({"hello.txt": b"hi"}), "不支持"),
        (b"PK\x03\x04 not really a zip", "损坏"),
        (
            zip_with(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "xl/workbook.xml": b"<workbook/>",
                    "xl/vbaProject.bin": b"\x00" * 10,
                }
            ),
            "宏",
        ),
        (
            zip_with(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "word/document.xml": b"<w/>",
                    "word/media/bomb.bin": b"\x00" * (30 * 1024 * 1024),
                }
            ),
            "解压后过大",
        ),
    ],
    ids=[
        "empty",
        "html",
        "exe",
        "pdf-script",
        "truncated-jpeg",
        "broken-png",
        "plain-zip",
        "broken-zip",
        "macro",
        "zip-bomb",
    ],
)
def test_refusals_say_why(data: bytes, reason: str) -> None:
    """Anything else is refused with a Chinese reason naming the problem."""
    with pytest.raises(EvidenceRefusedError, match=reason):
        sniff(data)


def test_stored_once_by_checksum(tmp_path: Path) -> None:
    """The same bytes land once, under their SHA-256, and read back checked."""
    data = image_bytes("PNG")
    first = store(tmp_path, data)
    second = store(tmp_path, data)
    assert first == second
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.relative_path == f"{first.sha256[:2]}/{first.sha256[2:4]}/{first.sha256}.png"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / first.relative_path]
    assert open_stored(tmp_path, first.sha256, EvidenceKind.PNG) == data


def test_a_wrong_name_does_not_matter(tmp_path: Path) -> None:
    """A photo is kept as what it is: the store never looks at the uploaded name."""
    kept = store(tmp_path, image_bytes("JPEG"))
    assert kept.kind is EvidenceKind.JPEG
    assert kept.relative_path.endswith(".jpg")


def test_too_large_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Over the limit: refused with both sizes, and the store stays empty."""
    with pytest.raises(EvidenceRefusedError, match=r"文件太大（0\.0 MB），上限 0\.0 MB"):
        store(tmp_path, MINIMAL_PDF, max_bytes=100)
    assert list(tmp_path.iterdir()) == []


def test_a_changed_file_is_noticed(tmp_path: Path) -> None:
    """A kept file altered on disk no longer reads back."""
    kept = store(tmp_path, MINIMAL_PDF)
    (tmp_path / kept.relative_path).write_bytes(MINIMAL_PDF + b"%tampered")
    with pytest.raises(EvidenceRefusedError, match="改动"):
        open_stored(tmp_path, kept.sha256, kept.kind)


def test_checksums_are_not_paths(tmp_path: Path) -> None:
    """A checksum that is not 64 hex digits never reaches the filesystem."""
    with pytest.raises(EvidenceRefusedError):
        open_stored(tmp_path, "../../etc/passwd", EvidenceKind.PDF)
