"""Onboarding documents: which are required, and which files are accepted.

The declared content type is not trusted: the file's first bytes must say the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class DocumentKind(StrEnum):
    BUSINESS_LICENSE = "business_license"  # 营业执照
    LEGAL_PERSON_ID = "legal_person_id"  # 法人身份证
    SETTLEMENT_ACCOUNT_PROOF = "settlement_account_proof"  # 结算账户证明


REQUIRED_FOR_SUBMISSION: Final = frozenset(DocumentKind)

# content type -> magic bytes at offset 0
ACCEPTED_TYPES: Final[dict[str, tuple[bytes, ...]]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
FILENAME_MAX_LEN: Final = 200


class DocumentRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckedDocument:
    kind: DocumentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


def sniff_type(content: bytes) -> str | None:
    for content_type, magics in ACCEPTED_TYPES.items():
        if any(content.startswith(m) for m in magics):
            return content_type
    return None


def check_document(
    kind: DocumentKind, filename: str, declared_type: str, content: bytes, max_bytes: int
) -> CheckedDocument:
    if not content:
        raise DocumentRejected("document_empty", "the file is empty")
    if len(content) > max_bytes:
        raise DocumentRejected(
            "document_too_large", f"the file is {len(content)} bytes; the limit is {max_bytes}"
        )
    declared = declared_type.split(";")[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise DocumentRejected(
            "document_type_unsupported",
            f"type {declared or 'unknown'!r} is not accepted; use one of {', '.join(ACCEPTED_TYPES)}",
        )
    actual = sniff_type(content)
    if actual != declared:
        raise DocumentRejected(
            "document_type_unsupported",
            f"the file says it is {declared} but its content is {actual or 'not an accepted type'}",
        )
    name = filename.replace("\x00", "").strip().replace("\\", "/").rsplit("/", 1)[-1][:FILENAME_MAX_LEN]
    name = name or "document"
    return CheckedDocument(kind, name, actual, len(content), hashlib.sha256(content).hexdigest())


def missing_documents(present: set[DocumentKind]) -> list[DocumentKind]:
    return sorted(REQUIRED_FOR_SUBMISSION - present)
