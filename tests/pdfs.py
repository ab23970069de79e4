"""Reading what a PDF holds, for the tests of the handover report and the bundles."""

from __future__ import annotations

import re
import zlib


def pdf_objects(body: bytes) -> bytes:
    """A PDF's bytes with every Flate stream inflated (object streams included)."""
    parts = [body]
    for match in re.finditer(rb"stream\r?\n", body):
        try:
            parts.append(zlib.decompressobj().decompress(body[match.end() :]))
        except zlib.error:
            continue
    return b"".join(parts)
