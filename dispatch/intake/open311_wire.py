"""Open311 GeoReport v2 on the wire: the format by the URL's suffix (XML, the mandatory one,
and JSON), W3C datetimes with a timezone, and the spec's error bodies.

JSON is the spec's mechanical mapping of the XML: a list resource is a top-level array of
objects, a missing value is null. In XML a missing value is an empty element, a boolean is
`true`/`false`, and a list's items are named by the singular of the list's name
(`endpoints` → `endpoint`).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
from starlette.responses import Response

from dispatch.domain.calendar import CST

Format = Literal["xml", "json"]
FORMATS: dict[str, str] = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
# The item element of each list the spec has, by the list's element.
ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "services": "service",
    "service_requests": "request",
    "errors": "error",
}
_encode = msgspec.json.Encoder().encode


class Open311Error(Exception):
    """A refusal in the spec's shape: the HTTP status and one or more (code, description)."""

    def __init__(self, status: int, description: str, reason: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        # Our own short name of the refusal, for the counters (GET /intake/stats).
        self.reason = reason or {400: "bad_request", 403: "bad_api_key", 404: "not_found"}.get(
            status, "error"
        )


def format_of(suffix: str) -> Format:
    """The format a URL's suffix asks for; 404 for any other than xml or json."""
    if suffix == "xml":
        return "xml"
    if suffix == "json":
        return "json"
    raise Open311Error(404, f"no format .{suffix}: ask for .xml or .json", "unknown_format")


def w3c(seconds: float | None) -> str | None:
    """A W3C datetime with the district's offset (`2026-12-02T09:15:00+08:00`), or None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, CST).isoformat(timespec="seconds")


def parse_w3c(text: str, name: str) -> float:
    """Epoch seconds of a W3C datetime that carries its timezone (`Z` or `±HH:MM`); 400
    otherwise (a time without a zone would be a guess)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400, f"{name}: not a W3C datetime: {text!r} (e.g. 2026-12-02T09:15:00+08:00)"
        ) from None
    if moment.tzinfo is None or "T" not in text:
        raise Open311Error(
            400, f"{name}: a datetime with its timezone is required, e.g. {text[:10]}T00:00:00Z"
        )
    seconds = moment.timestamp()
    if not math.isfinite(seconds):  # pragma: no cover - fromisoformat bounds the year
        raise Open311Error(400, f"{name}: out of range")
    return seconds


# Characters XML 1.0 cannot carry at all (not even escaped). POSTs refuse them; a text that
# came in another way loses them rather than making the whole document unreadable.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _xml_fill(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _xml_fill(element, key, inner)
    elif isinstance(value, list | tuple):
        item = ITEMS.get(name, "item")
        for inner in value:
            _xml_fill(element, item, inner)
    else:
        element.text = _xml_text(value)


def xml_document(root: str, value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """The XML of `value` under `root`, with the UTF-8 declaration the spec shows."""
    element = ET.Element(root)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _xml_fill(element, key, inner)
    else:
        item = ITEMS.get(root, "item")
        for inner in value:
            _xml_fill(element, item, inner)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8")


def render(
    fmt: Format, root: str, value: Mapping[str, Any] | Sequence[Any], status: int = 200
) -> Response:
    """`value` in the asked format: JSON as it is (a list is a top-level array), XML under
    `root` (`services`, `service_requests`, `discovery`...)."""
    body = _encode(value) if fmt == "json" else xml_document(root, value)
    return Response(body, status, media_type=FORMATS[fmt])


def error_response(fmt: Format, error: Open311Error) -> Response:
    """The spec's error body: a list of {code, description}, `<errors><error>` in XML."""
    return render(
        fmt, "errors", [{"code": error.status, "description": error.description}], error.status
    )
