"""Evidence files (佐证材料) kept by content: the type sniffed from the bytes, kept once by SHA-256.

Accepted: PDF, JPEG, PNG, Word (.docx) and Excel (.xlsx). A file is refused, with a reason a
liaison understands, when it is empty, too large, of another type whatever its name says, a PDF
that carries scripts, an image that does not decode, or an Office file with macros or that
unpacks to far more than it weighs. Stored files are never overwritten: the same bytes land once.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from domain.adapters.files import write_atomically
from domain.rules.desk import stored_path
from domain.rules.glossary import EVIDENCE_KINDS

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Twenty megabytes: a phone photo is 2–8 MB, a scanned 30-page PDF about 10 MB."""
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 5_000
MAX_RATIO = 100
"""An Office file (a zip) may unpack to at most 100 times its size and 200 MB (zip bombs)."""


class EvidenceKind(StrEnum):
    """What a stored file is, by its content; the value is the extension it is stored under."""

    PDF = "pdf"
    JPEG = "jpg"
    PNG = "png"
    DOCX = "docx"
    XLSX = "xlsx"


KIND_WORDS: dict[EvidenceKind, str] = {kind: EVIDENCE_KINDS[kind.value] for kind in EvidenceKind}
ACCEPTED_WORDS = "PDF、JPG、PNG、Word（.docx）或 Excel（.xlsx）"


class EvidenceRefusedError(ValueError):
    """The file cannot be kept as evidence; ``str()`` is the reason in Chinese."""


@dataclass(frozen=True)
class StoredEvidence:
    """A kept file: where it is (relative to the store), what it is, and its checksum."""

    sha256: str
    kind: EvidenceKind
    size: int
    relative_path: str


_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile)\b")
"""Names of PDF actions and attachments, found in plain object dictionaries (not inside
compressed object streams: a first line of defence, the coordinator's viewer is the second)."""
_OFFICE_PARTS = {
    EvidenceKind.DOCX: "word/document.xml",
    EvidenceKind.XLSX: "xl/workbook.xml",
}


def sniff(data: bytes) -> EvidenceKind:
    """The file's kind from its bytes; EvidenceRefusedError when it is none of the accepted ones
    or fails the checks of its kind."""
    if not data:
        raise EvidenceRefusedError("文件是空的，请重新选择文件")
    if b"%PDF-" in data[:1024]:
        return _checked_pdf(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _checked_image(data, EvidenceKind.JPEG, "JPEG")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _checked_image(data, EvidenceKind.PNG, "PNG")
    if data.startswith(b"PK\x03\x04"):
        return _checked_office(data)
    raise EvidenceRefusedError(f"不支持这种文件，请上传 {ACCEPTED_WORDS}")


def _checked_pdf(data: bytes) -> EvidenceKind:
    if _PDF_ACTIVE.search(data):
        raise EvidenceRefusedError(
            "PDF 中含有脚本或附件，不能作为佐证材料，请另存为普通 PDF 后上传"
        )
    return EvidenceKind.PDF


def _checked_image(data: bytes, kind: EvidenceKind, pil_format: str) -> EvidenceKind:
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - Pillow only when uploading

    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() does not decode: a truncated photo fails only here
    except Image.DecompressionBombError as exc:
        raise EvidenceRefusedError("图片尺寸过大，请缩小后上传") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EvidenceRefusedError("图片已损坏或无法打开，请重新拍照或另存后上传") from exc
    if found != pil_format:
        raise EvidenceRefusedError("图片已损坏或无法打开，请重新拍照或另存后上传")
    return kind


def _checked_office(data: bytes) -> EvidenceKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EvidenceRefusedError("文件已损坏，无法打开，请另存后重新上传") from exc
    if "[Content_Types].xml" not in names:
        raise EvidenceRefusedError(f"不支持这种文件，请上传 {ACCEPTED_WORDS}")
    kind = next((k for k, part in _OFFICE_PARTS.items() if part in names), None)
    if kind is None:
        raise EvidenceRefusedError(f"不支持这种文件，请上传 {ACCEPTED_WORDS}")
    unpacked = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or unpacked > min(MAX_UNPACKED_BYTES, MAX_RATIO * len(data)):
        raise EvidenceRefusedError("文件结构异常（解压后过大），不能作为佐证材料")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise EvidenceRefusedError("文件含有宏，不能作为佐证材料，请另存为不含宏的 .docx 或 .xlsx")
    return kind


def relative_path(sha256: str, kind: EvidenceKind) -> str:
    """Where a file with this checksum lives inside the store: ``ab/cd/<sha256>.<ext>``."""
    return stored_path(sha256, kind.value)


def store(root: Path, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> StoredEvidence:
    """Check ``data`` and keep it under ``root`` by its SHA-256 (once; a second upload of the same
    bytes finds the first). EvidenceRefusedError, with nothing written, when it cannot be kept."""
    if len(data) > max_bytes:
        raise EvidenceRefusedError(
            f"文件太大（{_megabytes(len(data))}），上限 {_megabytes(max_bytes)}；"
            "照片请压缩，扫描件请降低分辨率后上传"
        )
    kind = sniff(data)
    sha = hashlib.sha256(data).hexdigest()
    relative = relative_path(sha, kind)
    path = root / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    return StoredEvidence(sha256=sha, kind=kind, size=len(data), relative_path=relative)


def open_stored(root: Path, sha256: str, kind: EvidenceKind) -> bytes:
    """The bytes of a kept file, checked against its checksum (FileNotFoundError if missing,
    EvidenceRefusedError if it no longer matches)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise EvidenceRefusedError("佐证材料编号无效")
    data = (root / relative_path(sha256, kind)).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise EvidenceRefusedError("佐证材料文件已被改动，请联系管理员")
    return data


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
