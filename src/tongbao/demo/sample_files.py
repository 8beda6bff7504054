"""Tiny valid PNG and PDF files: the demo merchant's onboarding documents."""

from __future__ import annotations

import struct
import zlib


def tiny_png(label: bytes = b"") -> bytes:
    """A 1x1 PNG; ``label`` goes into a text chunk so that files differ in content and hash."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xc8\x10\x2e")
    text = chunk(b"tEXt", b"Comment\x00" + label) if label else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def tiny_pdf(title: str = "Tongbao demo document") -> bytes:
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
        f"4 0 obj<</Title({title})>>endobj\n"
        "trailer<</Root 1 0 R/Info 4 0 R>>\n%%EOF\n"
    )
    return body.encode()
