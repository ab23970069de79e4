"""Open311 GeoReport v2: the [intake.open311] settings and the endpoint under /open311/v2/.

    GET  discovery.{fmt}                  what this server offers
    GET  services.{fmt}                   the service types: our categories
    GET  services/{code}.{fmt}            a service's definition (its attributes)
    POST requests.{fmt}                   a new request (form-encoded, api_key): an event
    GET  requests.{fmt}                   requests by id, service, date range and status
    GET  requests/{id}.{fmt}              one request (a list of one)
    GET  tokens/{token}.{fmt}             the request made under a token (Idempotency-Key)

As the specification says (../shared/intake/README.md §1; docs/intake.md §4): the format by
the URL's suffix, XML and JSON; errors as a list of {code, description} with 400, 403 or 404.
A POST becomes an event through the writer's report_batch path (submit.py), with the client
(`open311:<name>`) as the audit actor; the GET side shows only the requests Open311 clients
made (open311_store.py), and never who reported them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dispatch.clock import Clock
from dispatch.intake import open311_store, submit
from dispatch.intake.config import ConfigError, only, secret, section, take
from dispatch.intake.geocode import Gazetteer
from dispatch.intake.hotline import mask
from dispatch.intake.http import Counts, HttpError, read_body
from dispatch.intake.mapping import default_mapping_path, parse_mapping
from dispatch.intake.open311_wire import (
    Format,
    Open311Error,
    error_response,
    format_of,
    parse_w3c,
    render,
    w3c,
)
from dispatch.jurisdiction import DISTRICT_WIDTH
from dispatch.reference import ReferenceData
from dispatch.state import Actor
from dispatch.store.store import Store
from protocol import commands as c
from protocol.entities import OPEN_STATUSES, Category, CategoryLimit, Event, Intake, on_hold

log = logging.getLogger("dispatch.intake.open311")
CHANNEL = "open311"
ROOT = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_DESCRIPTION = 4000  # the spec's limit
MAX_ADDRESS = 500
MAX_URL = 500
MAX_CONTACT = 100  # our reporter field
MAX_ATTRIBUTES = 20
MAX_IDS = 200  # service_request_id values in one GET
WINDOW = 90 * 86400.0  # the spec's default and largest date range
LIMIT = 1000  # the spec's default volume limit
_NAME = re.compile(r"\A[a-z0-9][a-z0-9_.-]{0,62}\Z")
_ATTRIBUTE = re.compile(r"\Aattribute\[([^\[\]\x00-\x1f]{1,64})\](\[\])?\Z")
_KEY = re.compile(r"\A[\x21-\x7e]{1,64}\Z")  # an Idempotency-Key: printable ASCII
_SPACE = re.compile(r"\s+")
# Control characters (tab and line breaks aside) and what XML 1.0 cannot carry: refused.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
IDEMPOTENCY_KEY = "idempotency-key"
_ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Our resources (under /open311/v2/) and the methods each takes: another method is a 400.
_RESOURCES = [
    (
        re.compile(r"(discovery|services|services/[^/]+|requests/[^/]+|tokens/[^/]+)\.[^/.]+"),
        ("GET",),
    ),
    (re.compile(r"requests\.[^/.]+"), ("GET", "POST")),
]
DEFAULT_CONTACT = "Tongguan district linkage centre"


@dataclass(frozen=True, slots=True)
class Client:
    """An Open311 client allowed to POST: its name (the audit actor `open311:<name>`) and
    its API key."""

    name: str
    key: bytes


@dataclass(frozen=True, slots=True)
class Open311Settings:
    """[intake.open311]."""

    enabled: bool
    clients: dict[str, Client]
    jurisdiction_id: str = ""
    contact: str = DEFAULT_CONTACT
    key_service: str = ""
    kind: Literal["production", "test"] = "production"
    exclude: tuple[str, ...] = ("20",)


@section("open311")
def read_open311(table: dict[str, Any], base: Path) -> Open311Settings:
    """[intake.open311] enabled, jurisdiction_id, contact, key_service, type, exclude, and
    [intake.open311.clients.NAME] key or key_file."""
    where = "intake.open311"
    only(
        table,
        where,
        {"enabled", "jurisdiction_id", "contact", "key_service", "type", "exclude", "clients"},
    )
    enabled = take(table, where, "enabled", bool, False)
    jurisdiction = take(table, where, "jurisdiction_id", str, "")
    if len(jurisdiction) > 100 or jurisdiction != jurisdiction.strip():
        raise ConfigError(f"[{where}] jurisdiction_id: at most 100 characters, no outer spaces")
    kind = take(table, where, "type", str, "production")
    if kind not in ("production", "test"):
        raise ConfigError(f"[{where}] type: production or test, not {kind!r}")
    exclude = take(table, where, "exclude", list, ["20"])
    if not all(isinstance(p, str) and p for p in exclude):
        raise ConfigError(f'[{where}] exclude: a list of category code prefixes (e.g. "20")')
    clients: dict[str, Client] = {}
    for name, spec in take(table, where, "clients", dict, {}).items():
        at = f"{where}.clients.{name}"
        if not _NAME.match(name):
            raise ConfigError(f"[{at}] a client's name is 1-63 of [a-z0-9_.-]")
        if not isinstance(spec, dict):
            raise ConfigError(f"[{at}] must be a table")
        only(spec, at, {"key", "key_file"})
        key = secret(spec, at, base)
        for other in clients.values():
            if hmac.compare_digest(other.key, key):
                raise ConfigError(f"[{at}] the same API key as client {other.name!r}")
        clients[name] = Client(name, key)
    if enabled and not clients:
        raise ConfigError(f"[{where}] enabled without any [intake.open311.clients.NAME]")
    return Open311Settings(
        enabled,
        clients,
        jurisdiction,
        take(table, where, "contact", str, DEFAULT_CONTACT),
        take(table, where, "key_service", str, ""),
        "test" if kind == "test" else "production",
        tuple(exclude),
    )


# ---- what the GET side shows ----------------------------------------------------------------

# What the centre tells a citizen of each step of the loop (status_notes).
STATUS_NOTES = {
    "reported": "已收到，待受理",
    "accepted": "已受理，待派遣",
    "dispatched": "已派遣至处置单位",
    "handling": "处置中",
    "handled": "已处置，待核查",
    "verified": "已核查，待结案",
    "closed": "已办结",
    "evaluated": "已办结",
    "rejected": "不予受理",
}


def _note_of(event: Event, ops: tuple[str, ...]) -> str:
    """The latest note one of `ops` recorded (`"<op>: <note>"` in the case's decisions)."""
    for decision in reversed(event.decisions):
        for op in ops:
            if decision.text.startswith(f"{op}: "):
                return decision.text[len(op) + 2 :]
    return ""


def status_notes(event: Event) -> str:
    """The step the case is at, in words; the close note or the reason of a refusal (what
    the 12345 platform hears too), never the centre's internal notes."""
    note = STATUS_NOTES[event.status]
    if event.status in ("closed", "evaluated"):
        text = _note_of(event, ("close",))
        return f"{note}：{text}" if text else note
    if event.status == "rejected":
        text = _note_of(event, ("reject",))
        return f"{note}：{text}" if text else note
    if on_hold(event):
        return f"{note}（挂账）"
    if event.extension is not None and event.extension.state == "approved":
        return f"{note}（已延期）"
    return note


def limit_text(limit: CategoryLimit, basis: str) -> str:
    """A time limit in words: 4 个工作小时, 20 个工作日, 2 小时, 3 天."""
    amount = f"{limit.amount:g}"
    if basis == "working":
        return f"{amount} 个工作{'小时' if limit.unit == 'hour' else '日'}"
    return f"{amount} {'小时' if limit.unit == 'hour' else '天'}"


def service_notice(category: Category) -> str:
    """What the centre promises for a service: handled within its limit after dispatch."""
    handle = category.limits.get("handle")
    if handle is None:
        return ""
    return f"受理后派遣处置，处置时限 {limit_text(handle, category.basis)}"


# ---- the endpoint ----------------------------------------------------------------------------

Handler = Callable[[Request, Format], Awaitable[Response]]


class Open311Intake:
    """The GeoReport v2 endpoint on the intake HTTP server."""

    def __init__(
        self,
        settings: Open311Settings,
        reference: ReferenceData,
        gazetteer: Gazetteer,
        store: Store,
        clock: Clock,
        submit_to: submit.Submit,
        counts: Counts,
        max_body: int,
    ) -> None:
        self.settings = settings
        self.reference = reference
        self.gazetteer = gazetteer
        self.store = store
        self.clock = clock
        self.submit = submit_to
        self.counts = counts
        self.max_body = max_body
        self.changeset = w3c(time.time()) or ""
        # The actors of every client ever configured (start() reads them from the store).
        self.actors = [open311_store.actor(name) for name in sorted(settings.clients)]
        self._keywords = _synonyms()

    def routes(self) -> list[BaseRoute]:
        """The routes under /open311/v2/ (any other path there: a 404 in the spec's shape)."""

        def route(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> Route:
            async def endpoint(request: Request) -> Response:
                return await self._answer(request, handler)

            return Route(ROOT + path, endpoint, methods=list(methods))

        return [
            route("/discovery.{fmt}", self.discovery),
            route("/services.{fmt}", self.services),
            route("/services/{code}.{fmt}", self.definition),
            route("/requests.{fmt}", self.requests, ("GET", "POST")),
            route("/requests/{id}.{fmt}", self.request),
            route("/tokens/{token}.{fmt}", self.token),
            route("/{rest:path}", self.nowhere, _ANY_METHOD),
        ]

    async def _answer(self, request: Request, handler: Handler) -> Response:
        # The mandatory format answers when the asked one is unknown (or, on a path we do not
        # serve, when it does not end in .json).
        fmt: Format = "xml"
        rest = request.path_params.get("rest")
        if rest is not None and rest.endswith(".json"):
            fmt = "json"
        try:
            if rest is None:
                fmt = format_of(request.path_params["fmt"])
            response = await handler(request, fmt)
        except Open311Error as exc:
            self.counts.note(CHANNEL, exc.reason)
            log.info(
                "open311 %s %s refused (%d): %s",
                request.method,
                request.url.path,
                exc.status,
                exc.description,
            )
            return error_response(fmt, exc)
        except HttpError as exc:  # the body limit of the shared reader
            self.counts.note(CHANNEL, exc.reason)
            return error_response(fmt, Open311Error(400, exc.message, exc.reason))
        except Exception:
            # The store failing under a GET, say: the spec's "general failure" is a 400, in
            # its shape; the cause goes to the log, not to the client.
            log.exception("open311 %s %s failed", request.method, request.url.path)
            self.counts.note(CHANNEL, "internal")
            failure = Open311Error(400, "the request could not be answered now; try again")
            return error_response(fmt, failure)
        return response

    # ---- shared checks ---------------------------------------------------------------------

    def _jurisdiction(self, given: str | None) -> str:
        """The district a jurisdiction_id names: a district's adcode the store serves (its
        table, its points); "" for the server as a whole (an empty or absent one, or the
        configured jurisdiction_id: the first district's table, a point in any district, as
        before districts had their own); 404 for any other."""
        ours = self.settings.jurisdiction_id
        if not given or given == ours:
            return ""
        if given in self.reference.districts:
            return given
        served = ", ".join(self.reference.districts)
        named = f"{ours}, or a district: {served}" if ours else f"a district: {served}"
        raise Open311Error(
            404,
            f"jurisdiction_id {given!r} is not served here (ours: {named})",
            "unknown_jurisdiction",
        )

    def _table(self, district: str) -> dict[str, Category]:
        """The category table a jurisdiction offers: a district's own, else the first's."""
        return self.reference.categories_of(district or self.reference.first)

    def _category(self, code: str, district: str = "") -> Category:
        """The category a service code names in a jurisdiction's table; 404 when it is not
        offered there."""
        category = self._table(district).get(code)
        if category is None or code.startswith(self.settings.exclude):
            where = f" in district {district}" if district else ""
            raise Open311Error(404, f"service_code {code!r} not found{where}", "unknown_service")
        return category

    def _offered(self, district: str = "") -> list[Category]:
        exclude = self.settings.exclude
        categories = self._table(district).values()
        return sorted(
            (k for k in categories if not k.code.startswith(exclude)), key=lambda k: k.code
        )

    # ---- discovery and services -------------------------------------------------------------

    async def discovery(self, request: Request, fmt: Format) -> Response:
        """GET discovery: the endpoint, its specification, formats and changeset."""
        url = str(request.base_url).rstrip("/") + ROOT
        self.counts.note(CHANNEL, "discovery")
        return render(
            fmt,
            "discovery",
            {
                "changeset": self.changeset,
                "contact": self.settings.contact,
                "key_service": self.settings.key_service,
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": url,
                        "changeset": self.changeset,
                        "type": self.settings.kind,
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            },
        )

    async def services(self, request: Request, fmt: Format) -> Response:
        """GET services: every category the jurisdiction's table offers, with its class as
        the group (a district's own codes, `01-02`, as its table names them)."""
        district = self._jurisdiction(_param(request, "jurisdiction_id"))
        departments = self.reference.departments
        out = []
        # The 12345 type names of a code, bare or keyed by this district (mapping.py).
        keyed = f"{district or self.reference.first}:"
        for k in self._offered(district):
            synonyms = [*self._keywords.get(k.code, []), *self._keywords.get(keyed + k.code, [])]
            words = [k.name, k.cls, *synonyms]
            if k.department in departments:
                words.append(departments[k.department].name)
            out.append(
                {
                    "service_code": k.code,
                    "service_name": k.name,
                    "description": k.standard,
                    "metadata": False,
                    "type": "realtime",
                    "keywords": ",".join(dict.fromkeys(w for w in words if w)),
                    "group": k.cls,
                }
            )
        self.counts.note(CHANNEL, "services")
        return render(fmt, "services", out)

    async def definition(self, request: Request, fmt: Format) -> Response:
        """GET services/{code}: its definition; our services ask no questions."""
        district = self._jurisdiction(_param(request, "jurisdiction_id"))
        category = self._category(request.path_params["code"], district)
        self.counts.note(CHANNEL, "definition")
        return render(fmt, "service_definition", {"service_code": category.code, "attributes": []})

    async def nowhere(self, request: Request, fmt: Format) -> Response:
        """Any other path under /open311/v2/, or a method a resource does not take."""
        path = request.path_params["rest"]
        for pattern, methods in _RESOURCES:
            if pattern.fullmatch(path):
                raise Open311Error(
                    400,
                    f"{request.method} is not used on {request.url.path} (only"
                    f" {' or '.join(methods)})",
                    "bad_method",
                )
        raise Open311Error(404, f"no resource {request.url.path}", "not_found")

    # ---- requests -------------------------------------------------------------------------

    async def requests(self, request: Request, fmt: Format) -> Response:
        """GET or POST requests."""
        if request.method == "POST":
            return await self.create(request, fmt)
        return await self.search(request, fmt)

    async def create(self, request: Request, fmt: Format) -> Response:
        """POST requests: one service request, form-encoded, with the client's api_key."""
        form, attributes = await self._form(request)
        client = self._client(form.get("api_key"))
        district = self._jurisdiction(form.get("jurisdiction_id"))
        code = form.get("service_code")
        if not code:
            raise Open311Error(400, "service_code: required", "missing_service_code")
        category = self._category(code, district)
        token = self._token(request)
        item = self._report(form, attributes, category, client, token, district)
        outcome = await submit.report(self.submit, self._actor(client), item)
        if not outcome.ok:
            log.warning(
                "open311 POST of %s refused by the writer: %s %s",
                client.name,
                outcome.error,
                outcome.message,
            )
            if outcome.error in ("internal", "unavailable"):
                raise Open311Error(
                    400, "the request could not be stored now; send it again", outcome.error
                )
            raise Open311Error(400, outcome.message or outcome.error, outcome.error or "refused")
        self.counts.note(CHANNEL, "repeat" if outcome.repeat else "ok")
        return render(
            fmt,
            "service_requests",
            [
                {
                    "service_request_id": outcome.code,
                    "service_notice": service_notice(category) or None,
                    "account_id": None,
                }
            ],
        )

    def _actor(self, client: Client) -> Actor:
        return submit.gateway(open311_store.actor(client.name))

    async def start(self) -> None:
        """Remember the clients configured now; learn every one ever configured (whose
        requests the GET side shows)."""
        clients = list(self.settings.clients)
        self.actors = await asyncio.to_thread(open311_store.remember, self.store, clients)

    async def _form(self, request: Request) -> tuple[dict[str, str], dict[str, str]]:
        """The POST's fields (each once) and its attribute[CODE] answers."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise Open311Error(
                400, "the body must be application/x-www-form-urlencoded", "bad_content_type"
            )
        body = await read_body(request, self.max_body)
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                errors="strict",
                max_num_fields=200,
            )
        except UnicodeDecodeError:
            raise Open311Error(400, "the body is not UTF-8", "bad_encoding") from None
        except ValueError as exc:  # too many fields
            raise Open311Error(400, str(exc), "bad_form") from None
        form: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            match = _ATTRIBUTE.match(name)
            if match:
                values = multi.setdefault(match[1], [])
                if not match[2] and values:
                    raise Open311Error(
                        400,
                        f"{name}: given twice (a multivaluelist uses attribute[{match[1]}][])",
                        "bad_attribute",
                    )
                if value:
                    values.append(value)
                continue
            if name in form:
                raise Open311Error(400, f"{name}: given twice", "bad_form")
            form[name] = value
        attributes = {code: ",".join(values) for code, values in multi.items() if values}
        if len(attributes) > MAX_ATTRIBUTES:
            raise Open311Error(400, f"at most {MAX_ATTRIBUTES} attributes", "bad_attribute")
        for code, value in attributes.items():
            if len(value) > MAX_ADDRESS:
                raise Open311Error(
                    400, f"attribute[{code}]: at most {MAX_ADDRESS} characters", "bad_attribute"
                )
        for name, value in [*form.items(), *attributes.items()]:
            if _CONTROL.search(value):
                shown = name if name in form else f"attribute[{name}]"
                raise Open311Error(
                    400, f"{shown}: control characters are not allowed", "control_characters"
                )
        # An empty argument is the same as a missing one (the spec's rule).
        return {k: v for k, v in form.items() if v}, attributes

    def _client(self, key: str | None) -> Client:
        """The client whose API key this is; 403 for none or an unknown one."""
        if not key:
            raise Open311Error(403, "api_key: required to create a request", "missing_api_key")
        given = key.encode()
        found = None
        for client in self.settings.clients.values():
            # Every key compared (in constant time each): no timing hint of which is close.
            if hmac.compare_digest(client.key, given):
                found = client
        if found is None:
            raise Open311Error(403, "Invalid api_key", "bad_api_key")
        return found

    def _token(self, request: Request) -> str:
        """The external id of this POST: the client's Idempotency-Key (a retry with the same
        key creates nothing) or a fresh one (every POST is a new request)."""
        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is None:
            return "t-" + secrets.token_hex(15)
        if not _KEY.match(key):
            raise Open311Error(
                400, "Idempotency-Key: 1-64 printable ASCII characters", "bad_idempotency_key"
            )
        return key

    def _report(
        self,
        form: dict[str, str],
        attributes: dict[str, str],
        category: Category,
        client: Client,
        token: str,
        district: str = "",
    ) -> c.BatchReport:
        """The report a request becomes, its place found (in `district` when the request
        names one); 400 for any field we cannot take."""
        address = form.get("address_string", "")
        if len(address) > MAX_ADDRESS:
            raise Open311Error(
                400, f"address_string: at most {MAX_ADDRESS} characters", "bad_address"
            )
        lon, lat = _point(form)
        if lon is not None and lat is not None:
            if self.reference.grid_at(lon, lat) is None:
                raise Open311Error(
                    400, f"lat/long ({lat}, {lon}) is outside the district", "outside_district"
                )
            self._within(district, lon, lat, f"lat/long ({lat}, {lon})")
            place, confidence, matched = "point", 1.0, "坐标"
        elif address:
            found = self.gazetteer.locate(address)
            if found is None or self.reference.grid_at(found.lon, found.lat) is None:
                raise Open311Error(
                    400,
                    f"address_string {address!r} matches no place in the district; send lat"
                    " and long",
                    "address_not_found",
                )
            self._within(district, found.lon, found.lat, f"address_string {address!r}")
            lon, lat = found.lon, found.lat
            place, confidence, matched = found.place, found.confidence, found.matched
        elif form.get("address_id"):
            raise Open311Error(
                400,
                "address_id is not used here: send lat and long, or address_string",
                "bad_location",
            )
        else:
            raise Open311Error(
                400, "a location is required: lat and long, or address_string", "no_location"
            )
        description = form.get("description", "")
        if len(description) > MAX_DESCRIPTION:
            raise Open311Error(
                400,
                f"description: at most {MAX_DESCRIPTION} characters, not {len(description)}",
                "description_too_long",
            )
        media_url = form.get("media_url", "")
        if media_url and (
            len(media_url) > MAX_URL
            or not media_url.startswith(("http://", "https://"))
            or any(ch.isspace() for ch in media_url)
        ):
            raise Open311Error(
                400, f"media_url: an http(s) URL of at most {MAX_URL} characters", "bad_media_url"
            )
        names = " ".join(x for x in (form.get("first_name"), form.get("last_name")) if x)
        reporter = " ".join(x for x in (names, form.get("phone"), form.get("email")) if x)
        if len(reporter) > MAX_CONTACT:
            raise Open311Error(
                400,
                f"first_name, last_name, phone and email: at most {MAX_CONTACT} characters"
                " together",
                "contact_too_long",
            )
        summary = _SPACE.sub(" ", description).strip()
        title = f"{category.name}：{summary}"[:60] if summary else category.name
        return c.BatchReport(
            external_id=token,
            category=category.code,
            title=title,
            lon=lon,
            lat=lat,
            source="citizen",
            description=description,
            address=address,
            reporter=reporter,
            intake=Intake(
                channel=CHANNEL,
                ref=token,
                peer=client.name,
                place=place,  # type: ignore[arg-type]  # one of the gazetteer's places
                confidence=confidence,
                matched=matched,
                media_url=media_url,
                attributes=attributes,
            ),
        )

    def _within(self, district: str, lon: float, lat: float, what: str) -> None:
        """400 when a request that names a district is placed in another one."""
        grid = self.reference.grid_at(lon, lat)
        found = grid.code[:DISTRICT_WIDTH] if grid is not None else ""
        if district and found != district:
            name = self.reference.districts.get(found, ("",))[0]
            raise Open311Error(
                400,
                f"{what} is in {name} ({found}), not in jurisdiction_id {district}'s district",
                "outside_jurisdiction",
            )

    async def search(self, request: Request, fmt: Format) -> Response:
        """GET requests: by service_request_id (overriding every other filter), or by
        service_code, start_date/end_date (at most 90 days; the last 90 by default) and
        status; newest first, at most 1,000; a district's only when jurisdiction_id names
        one."""
        district = self._jurisdiction(_param(request, "jurisdiction_id"))
        ids = _param(request, "service_request_id")
        if ids:
            codes = [i.strip() for i in ids.split(",") if i.strip()]
            if len(codes) > MAX_IDS:
                raise Open311Error(400, f"service_request_id: at most {MAX_IDS} ids")
            events = await asyncio.to_thread(
                open311_store.by_codes, self.store, self.actors, codes, district
            )
            order = {code: i for i, code in enumerate(codes)}
            events.sort(key=lambda e: order[e.code])
        else:
            query = self._query(request, district)
            events = await asyncio.to_thread(open311_store.search, self.store, self.actors, query)
        self.counts.note(CHANNEL, "query")
        return render(fmt, "service_requests", [self.record(e) for e in events])

    def _query(self, request: Request, district: str) -> open311_store.Query:
        categories = None
        services = _param(request, "service_code")
        if services:
            categories = [s.strip() for s in services.split(",") if s.strip()]
            for code in categories:
                self._category(code, district)
        closed: bool | None = None
        status = _param(request, "status")
        if status:
            wanted = {s.strip() for s in status.split(",") if s.strip()}
            unknown = sorted(wanted - {"open", "closed"})
            if unknown:
                raise Open311Error(
                    400, f"status: open or closed, not {', '.join(unknown)}", "bad_status"
                )
            closed = None if len(wanted) == 2 else wanted == {"closed"}
        start, end = _param(request, "start_date"), _param(request, "end_date")
        since = parse_w3c(start, "start_date") if start else None
        until = parse_w3c(end, "end_date") if end else None
        if since is None and until is None:
            until = self.clock.now()
            since = until - WINDOW
        elif since is None:
            assert until is not None
            since = until - WINDOW
        elif until is None:
            until = since + WINDOW
        if until < since:
            raise Open311Error(400, "end_date is before start_date", "bad_date_range")
        if until - since > WINDOW:
            raise Open311Error(
                400,
                f"start_date to end_date spans {(until - since) / 86400:.1f} days: at most 90",
                "bad_date_range",
            )
        return open311_store.Query(since, until, categories, closed, LIMIT, district)

    async def request(self, request: Request, fmt: Format) -> Response:
        """GET requests/{id}: one request, as a list of one; 404 when there is none (in the
        district jurisdiction_id names)."""
        district = self._jurisdiction(_param(request, "jurisdiction_id"))
        code = request.path_params["id"]
        events = await asyncio.to_thread(
            open311_store.by_codes, self.store, self.actors, [code], district
        )
        if not events:
            raise Open311Error(404, f"service_request_id {code!r} not found", "unknown_request")
        self.counts.note(CHANNEL, "request")
        return render(fmt, "service_requests", [self.record(events[0])])

    async def token(self, request: Request, fmt: Format) -> Response:
        """GET tokens/{token}: the request made under a token (a POST's Idempotency-Key), in
        the district jurisdiction_id names."""
        district = self._jurisdiction(_param(request, "jurisdiction_id"))
        token = request.path_params["token"]
        found = await asyncio.to_thread(
            open311_store.by_token, self.store, self.actors, token, district
        )
        if not found:
            raise Open311Error(404, f"token {token!r} not found", "unknown_token")
        self.counts.note(CHANNEL, "token")
        return render(
            fmt,
            "service_requests",
            [{"service_request_id": code, "token": used} for code, used in found],
        )

    def record(self, event: Event) -> dict[str, Any]:
        """An event as a GeoReport request record: never who reported it; mobile numbers in
        the description hidden as on the 12345 path."""
        category = self.reference.category(event.street, event.category)
        departments = self.reference.departments
        agency = None
        if event.assignee in departments:
            agency = departments[event.assignee].name
        elif category is not None and category.department in departments:
            agency = departments[category.department].name
        closed = event.status not in OPEN_STATUSES
        updated = event.closed_at if closed and event.closed_at is not None else event.updated_at
        intake = event.intake
        return {
            "service_request_id": event.code,
            "status": "closed" if closed else "open",
            "status_notes": status_notes(event),
            "service_name": category.name if category else event.category,
            "service_code": event.category,
            "description": mask(event.description),
            "agency_responsible": agency,
            "service_notice": (service_notice(category) or None) if category else None,
            "requested_datetime": w3c(event.reported_at),
            "updated_datetime": w3c(updated),
            "expected_datetime": w3c(event.due_at),
            "address": event.address or self._place_name(event),
            "address_id": None,
            "zipcode": None,
            "lat": event.lat,
            "long": event.lon,
            "media_url": (intake.media_url if intake else "") or None,
        }

    def _place_name(self, event: Event) -> str:
        """Where a request without an address is: its street, community and grid."""
        names = [
            unit.name
            for unit in (
                self.reference.streets.get(event.street),
                self.reference.communities.get(event.community),
                self.reference.grids.get(event.grid),
            )
            if unit is not None
        ]
        return " ".join(names)


def _param(request: Request, name: str) -> str | None:
    """A query argument; repeats joined by commas (some clients repeat rather than join); an
    empty one is absent (the spec's rule)."""
    values = [v for v in request.query_params.getlist(name) if v]
    return ",".join(values) if values else None


def _point(form: dict[str, str]) -> tuple[float | None, float | None]:
    """lat and long as WGS84 degrees, both or neither; 400 for anything else."""
    lat_text, lon_text = form.get("lat"), form.get("long")
    if lat_text is None and lon_text is None:
        return None, None
    if lat_text is None or lon_text is None:
        raise Open311Error(400, "lat and long come together", "bad_location")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise Open311Error(
            400, f"lat/long: not numbers: {lat_text!r}, {lon_text!r}", "bad_location"
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, f"lat/long out of range: {lat_text}, {lon_text}", "bad_location")
    return lon, lat


def _synonyms() -> dict[str, list[str]]:
    """The 12345 type names that map to each category (the shipped table): more words a
    citizen's app can search the services by."""
    try:
        mapping = parse_mapping(default_mapping_path().read_bytes(), "hotline_categories.toml")
    except (OSError, ValueError):  # pragma: no cover - the shipped table is checked by tests
        return {}
    out: dict[str, list[str]] = {}
    for name, code in mapping.raw.items():
        out.setdefault(code, []).append(name)
    return out
