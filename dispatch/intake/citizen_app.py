"""A stand-in citizens' app (随手拍): it sends its users' reports to the backend's Open311
endpoint as a real app would (form-encoded, its API key, an `Idempotency-Key` per report).

Used by the simulator: the demo's live citizen reports go through the real endpoint.
"""

from __future__ import annotations

import uuid

import httpx

from dispatch.intake.open311 import IDEMPOTENCY_KEY, ROOT


class CitizenApp:
    """An Open311 client: `report` a service request, answered after its event's commit."""

    def __init__(self, key: bytes, intake_url: str) -> None:
        self.key = key.decode()
        self.intake_url = intake_url  # the backend's intake base URL (http://host:port)
        self._client = httpx.AsyncClient(base_url=intake_url, timeout=30.0)

    async def report(self, form: dict[str, str]) -> httpx.Response:
        """POST one request (`api_key` added); the endpoint's answer."""
        return await self._client.post(
            f"{ROOT}/requests.json",
            data={"api_key": self.key, **form},
            headers={IDEMPOTENCY_KEY: uuid.uuid4().hex},
        )

    async def stop(self) -> None:
        """Close its connections."""
        await self._client.aclose()
