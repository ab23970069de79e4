"""The 12345 intake as a running part: the endpoint (hotline.py) and the feedback outbox's
delivery (outbox.py)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from dispatch.intake.hotline import HotlineIntake, HotlineSettings
from dispatch.intake.mapping import load_mapping
from dispatch.intake.service import Context, builder


class HotlinePart:
    """12345 work orders in, feedback out."""

    def __init__(self, context: Context, settings: HotlineSettings) -> None:
        categories = [(c.code, c.name) for c in context.reference.categories.values()]
        self.mapping = load_mapping(settings.mapping, categories)
        self.intake = HotlineIntake(
            settings,
            self.mapping,
            context.gazetteer,
            context.submit,
            context.counts,
            context.http.max_body,
        )

    def routes(self) -> list[BaseRoute]:
        """POST /12345/v1/orders."""
        return list(self.intake.routes())

    async def start(self) -> None:
        """Nothing runs in the background yet."""

    async def stop(self) -> None:
        """Nothing to stop."""


@builder("hotline")
def build(context: Context, settings: HotlineSettings) -> HotlinePart | None:
    """The 12345 part when [intake.hotline] enabled = true."""
    return HotlinePart(context, settings) if settings.enabled else None
