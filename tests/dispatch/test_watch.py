"""`dispatch watch`: a client's view of the stream, printed; given several servers (a
writer, standbys, gateways), it moves on from one that does not answer, as the desktop does."""

from __future__ import annotations

import pytest

from dispatch.watch import watch
from tests.dispatch.conftest import Running
from tests.dispatch.mqtt.conftest import free_port


async def test_watch_moves_on_to_the_next_server_of_its_list(
    running_sqlite: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"ws://127.0.0.1:{free_port()}"
    live = f"ws://127.0.0.1:{running_sqlite.port}"
    assert await watch(f"{dead}, {live}", running_sqlite.tokens["wall"], seconds=15) == 0
    out = capsys.readouterr().out
    assert f"{dead}: connection lost" in out and f"; {live} in 0.5 s" in out
    assert "welcome 大屏 (wall" in out and "snapshot @" in out


@pytest.mark.parametrize("servers", ["", "http://127.0.0.1:1", "ws://a:1,ws//b"])
async def test_watch_refuses_a_server_list_it_cannot_read(
    servers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await watch(servers, "token", seconds=1) == 2
    assert "--server ws://HOST:PORT[,ws://HOST:PORT...]" in capsys.readouterr().out
