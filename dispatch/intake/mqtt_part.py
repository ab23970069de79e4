"""The MQTT intake (dispatch/intake/mqtt/) as a running part: no HTTP routes; its client
connects on start (in the background: a broker that is down is retried) and finishes the
messages under way on stop. With `demo = true` it is the demo's: a private mosquitto child
(ending with the backend), the stand-in NVR and the simulator's publisher besides."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from dispatch.intake.config import ConfigError
from dispatch.intake.demo import demo_section
from dispatch.intake.mqtt import MqttIntake, MqttSettings
from dispatch.intake.mqtt.demo import DemoMqtt, DemoPublisher
from dispatch.intake.mqtt.frigate import label_problems
from dispatch.intake.service import Context, builder

log = logging.getLogger("dispatch.intake.mqtt")


class MqttPart:
    """Frigate camera alerts and sensor readings over MQTT."""

    def __init__(self, context: Context, settings: MqttSettings) -> None:
        # The labels' kinds: checked at start against every district's detection kinds;
        # each camera's detection resolved in its own district's (frigate.py).
        problems = label_problems(settings.labels, context.reference)
        if problems:
            raise ConfigError("; ".join(problems))
        self.context = context
        self.settings = settings
        self.intake: MqttIntake | None = None
        self.demo: DemoMqtt | None = None
        self._demo_up: asyncio.Task[DemoPublisher | None] | None = None

    def routes(self) -> list[BaseRoute]:
        """None: MQTT is not HTTP."""
        return []

    async def start(self) -> None:
        """Connect to the broker; the demo's: start its broker in the background (the
        backend's ready file does not wait for it)."""
        if self.settings.demo_dir:
            self.demo = DemoMqtt(self.context, Path(self.settings.demo_dir), self.settings)
            self._demo_up = asyncio.create_task(self._start_demo(self.demo), name="demo-mqtt")
            return
        self.intake = MqttIntake(self.context, self.settings)
        await self.intake.start()

    async def _start_demo(self, demo: DemoMqtt) -> DemoPublisher | None:
        try:
            return await demo.start()
        except (OSError, TimeoutError) as exc:
            log.warning("demo MQTT unavailable (%s): the simulator submits directly", exc)
            return None

    async def publisher(self) -> DemoPublisher | None:
        """The demo's publisher once its broker is up (None: not the demo's, or no broker)."""
        if self._demo_up is None:
            return None
        return await asyncio.shield(self._demo_up)

    async def stop(self) -> None:
        """Finish the messages under way (acknowledged after their commit), disconnect; the
        demo's broker and stand-in NVR stopped too."""
        if self._demo_up is not None and not self._demo_up.done():
            self._demo_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._demo_up
        if self.demo is not None:
            await self.demo.stop()
        if self.intake is not None:
            await self.intake.stop()

    def health(self) -> dict[str, Any]:
        """The MQTT intake's (the demo's once its broker is up); not connected before."""
        intake = self.demo.intake if self.demo is not None else self.intake
        if intake is None:
            return {"connected": False, "demo": self.demo is not None}
        return {**intake.health(), "demo": self.demo is not None}


@builder("mqtt")
def build(context: Context, settings: MqttSettings) -> MqttPart:
    """The MQTT part whenever [intake.mqtt] is there."""
    return MqttPart(context, settings)


@demo_section
def _mqtt(keys: Path) -> str:
    return (
        "[intake.mqtt]\n"
        "# The demo's own mosquitto (started with the backend on a free port, gone with it)\n"
        "# and the simulator's stand-in NVR; `dispatch demo --no-mqtt`: none.\n"
        "demo = true\n"
    )
