"""How much one client may cost the server: frame sizes, backlog, rates, timers."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.messages import REPLAY_ROWS_MAX


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one client may cost the server."""

    hello_timeout: float = 10.0
    max_frame: int = 64 * 1024  # client->server frames
    max_backlog: int = 16 * 1024 * 1024  # bytes queued to one client beyond its snapshot
    commands_per_second: float = 50.0
    command_burst: int = 200
    # report_batch commands one connection may have waiting for their answers (each of up to
    # 500 reports, and one command of the allowance above); more are answered rate_limited.
    # 8 of 500 fill a writer batch: a gateway pipelining that deep keeps the writer busy.
    batches_in_flight: int = 8
    ring_size: int = 200_000  # recent delta frames kept in memory for resume
    # ...and at most so many bytes of them: a replay from memory is queued at once on top of
    # the backlog bound, so it never queues more than that bound again (older deltas are
    # replayed from the database, paced). Without it the ring grew by every change until
    # its 200,000 (~170 MiB at ~850 bytes a delta: two weeks of the demo district).
    ring_bytes: int = 16 * 1024 * 1024
    kpi_interval: float = 1.0
    kpi_heartbeat: float = 5.0  # KPIs go out at least this often: clients see the link is live
    tick_interval: float = 5.0  # real seconds between deadline checks
    # Deadline risk (docs/kpis.md §8): the open cases' risks are worked out and the changes
    # sent (one `risk` message per jurisdiction) at most this often, in real seconds; the
    # model is retrained from the store every risk_retrain real seconds, or every 6 district
    # hours if they pass sooner (a simulated day at 60x), at most once a real minute.
    risk_interval: float = 5.0
    # Real seconds between rounds of the replay's checkpoints (dispatch/replay.py).
    checkpoint_interval: float = 30.0
    # Log rows read for one `replay` range answer at most.
    replay_rows: int = REPLAY_ROWS_MAX
    risk_retrain: float = 3600.0
    # The first training waits this long after the listener opens: it holds the interpreter
    # for seconds, and a start's first seconds belong to the walls' snapshots and figures.
    risk_first_delay: float = 30.0
    auth_recheck: float = 30.0  # real seconds a checked token is trusted without a store read
    # Real seconds between reads of the users: a user revoked, re-keyed or given another role
    # or jurisdiction by another process (`dispatch update-user`) loses its connections:
    # within 1 s, the poll's interval and the read included (issue 12 asks 1 s).
    users_poll: float = 0.5
    connections: int = 512  # websocket connections at once, handshakes included (close 4006)
    connections_per_user: int = 64  # one user's connections at once (close 4005)
    refusal_log_window: float = 10.0  # refusals logged: at most refusal_log_lines per window,
    refusal_log_lines: int = 50  # the rest counted in one line at the window's end
    # Connected and disconnected lines: their own budget (a burst of connections does not
    # spend the refusals'), at most connection_log_lines per window, the rest counted.
    connection_log_window: float = 10.0
    connection_log_lines: int = 100
    # Rows of the admin log written for refused admin requests: at most admin_log_rows per
    # user per window, the rest summed up in one row (action more_refusals) per user and
    # window: a non-admin flooding admin requests cannot fill the table.
    admin_log_window: float = 60.0
    admin_log_rows: int = 20
