"""The gateways bench (issue 16): its frame counter, who connects where, and a small whole run."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from websockets.frames import Frame, Opcode

from bench import gateways
from bench.fanout_baseline import message
from bench.rawclient import SkimClient
from tests.conftest import pg_available


def _stream() -> bytes:
    frames = [Frame(Opcode.TEXT, b'{"type":"snapshot","seq":0,"pad":"' + b"x" * 70_000 + b'"}')]
    frames += [Frame(Opcode.TEXT, message(seq, 1.0, 514)) for seq in range(1, 6)]
    frames.append(Frame(Opcode.TEXT, b'{"type":"kpis"}'))
    frames.append(Frame(Opcode.PING, b"hi"))
    frames += [Frame(Opcode.TEXT, message(seq, 1.0, 100)) for seq in range(6, 9)]
    return b"".join(f.serialize(mask=False) for f in frames)


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 16, 513, 4096, 1_000_000])
def test_skim_client_counts_frames_however_the_reads_cut_them(cut: int) -> None:
    async def run() -> tuple[SkimClient, _Transport]:
        client = SkimClient("127.0.0.1", 1, b"{}", memoryview(bytearray(1)))
        client.upgraded = True
        transport = _Transport()
        client.transport = transport  # type: ignore[assignment]
        data = _stream()
        for i in range(0, len(data), cut):
            client.feed(data[i : i + cut])
        return client, transport

    client, transport = asyncio.run(run())
    assert client.snapshot.done()
    assert client.deltas == 8
    assert client.frames == 11
    assert len(transport.written) == 1  # the pong
    assert client.carry == b"" and client.skip == 0


def test_plan_spreads_connections_and_timed_ones_over_ports_and_processes() -> None:
    ports = [1, 2, 3, 4]
    plans = gateways.spread(ports, 10_000, 4, 500)
    every = [c for p in plans for c in p]
    assert len(every) == 10_000
    assert Counter(port for port, _ in every) == dict.fromkeys(ports, 2500)
    assert [len(p) for p in plans] == [2500] * 4
    timed = [(i, port) for i, p in enumerate(plans) for port, t in p if t]
    assert len(timed) == 500
    assert {i for i, _ in timed} == {0, 1, 2, 3}
    assert Counter(port for _, port in timed) == dict.fromkeys(ports, 125)
    for procs in (1, 2, 3):
        single = gateways.spread([9], 101, procs, 10)
        assert sorted(len(p) for p in single) == sorted(
            101 // procs + (i < 101 % procs) for i in range(procs)
        )


def test_a_small_run_of_both_sides_delivers_everything(capsys: pytest.CaptureFixture[str]) -> None:
    if not pg_available():
        pytest.skip("PostgreSQL not reachable (runs always under CI=true)")
    argv = ["--clients", "40", "--rate", "200", "--gateways", "2", "--client-procs", "2"]
    argv += ["--sample", "10", "--seconds", "1", "--warmup", "0.5"]
    ours, base = gateways.main(argv)
    for o in (ours, base):
        assert o.clients == 40 and o.gateways == 2
        assert o.expected > 0 and o.counted == o.expected and o.closed == 0
        assert o.timed.clients == 10 and o.timed.lost == 0 and o.timed.duplicates == 0
    assert "gateway 1" in ours.cpu and "server 2" in base.cpu
    out = capsys.readouterr().out
    assert "2 gateways" in out and "2 servers" in out and "reproduce:" in out
