"""How much one client may cost the server: frame sizes, backlog, rates, timers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one client may cost the server."""

    hello_timeout: float = 10.0
    max_frame: int = 64 * 1024  # client->server frames
    max_backlog: int = 16 * 1024 * 1024  # bytes queued to one client beyond its snapshot
    commands_per_second: float = 50.0
    command_burst: int = 200
    ring_size: int = 200_000  # recent delta frames kept in memory for resume
    kpi_interval: float = 1.0
    kpi_heartbeat: float = 5.0  # KPIs go out at least this often: clients see the link is live
    tick_interval: float = 5.0  # real seconds between deadline checks
    auth_recheck: float = 30.0  # real seconds between checks for revoked users (= cache life)
