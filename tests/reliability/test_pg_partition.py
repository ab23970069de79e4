"""The PostgreSQL primary's machine gone without a word under load, the standby promoted.

test_pg_replication.py kills the primary's processes: on one machine the kernel then resets
their connections and the backend learns at once. A machine that loses its power or its cable
sends nothing: the backend's connections to it hang until libpq's `tcp_user_timeout` and
keepalives give up (the URL's options, docs/deployment.md). Here the primary runs in a network
namespace of its own, reached over a veth pair (bench/reliability/netns.py), and vanishes by
a blackhole qdisc on both ends of the pair (every packet dropped, no reset, no ICMP); the
standby, in this namespace, is promoted at once (what Patroni does once it sees the primary
gone). Three street users report cases through a real `dispatch serve` on the multi-host URL
(the primary by its veth address, the standby by 127.0.0.1), resending every unanswered
command with its command_id: every command acknowledged before or after is in the promoted
database, once, and the seconds from the cut to the first command acknowledged on the
promoted primary are printed (docs/deployment.md), for two `tcp_user_timeout`s.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from bench.reliability import netns, private_pg
from bench.reliability.netns import NoNamespaces, network_namespace
from bench.reliability.replicated_pg import URL_OPTIONS, replicated_postgres
from tests.reliability.test_pg_replication import _all_in_the_database_once, _through_a_loss

pytestmark = pytest.mark.timeout(120)


def _skip_unless_possible() -> None:
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(f"the primary's machine cannot be simulated: {reason}")


@pytest.mark.parametrize("user_timeout_ms", [5000, 2000])
async def test_the_primary_machine_gone_silently_loses_no_acknowledged_command(
    tmp_path: Path, user_timeout_ms: int
) -> None:
    _skip_unless_possible()
    options = URL_OPTIONS.replace("tcp_user_timeout=5000", f"tcp_user_timeout={user_timeout_ms}")
    with network_namespace() as space, replicated_postgres(space) as pair:
        url = pair.url.replace(URL_OPTIONS, options)
        assert f"host={space.address}:" in url and "host=127.0.0.1:" in url

        def cut() -> float:
            # From when both ends drop (tc takes a few ms; a command answered meanwhile is
            # not one "after the cut").
            space.cut()
            return time.monotonic()

        data, gateway = tmp_path / "backend", tmp_path / "gateway"
        data.mkdir()
        gateway.mkdir()
        loss = await _through_a_loss(url, data, cut, pair.promote, 45, gateway)
        print(
            f"primary's machine cut (tcp_user_timeout={user_timeout_ms} ms, load average "
            f"{os.getloadavg()[0]:.1f}): {loss.told('cut')}; a gateway's wall had the first "
            f"case after the cut {loss.wall_live_again():.2f} s after it"
        )
        assert pair.sql(pair.standby, "SELECT pg_is_in_recovery()") == "f"
        # Read on the promoted primary alone (by the URL, each new connection would first
        # wait connect_timeout for the vanished host).
        _all_in_the_database_once(pair.standby.url, loss.load)
        # Bounded by the URL's options, not by TCP's own minutes: the commit under way given
        # up after tcp_user_timeout, then a new connection for the head check and one for
        # the writer, each first waiting connect_timeout (2 s) for the vanished host
        # (docs/deployment.md; measured 6.4 s and 9.6 s); a restarted backend opens more.
        # 6 s more for a busy machine.
        bound = user_timeout_ms / 1000 + 2 * 2 + 6 + (12 if loss.exited else 0)
        assert loss.first - loss.lost < bound, loss.first - loss.lost
        # The gateway's listening connection hangs as well, until it reads (a second without
        # a notification) and tcp_user_timeout gives up; then it waits a second and listens
        # again through the URL (connect_timeout for the vanished host first). Every case
        # acknowledged reached its wall (checked above).
        assert loss.wall_live_again() < bound + 2, loss.wall_live_again()


def test_without_root_the_reason_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert netns.unavailable() == (
        "network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN); not root"
    )


def test_without_tc_the_reason_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns.shutil, "which", lambda tool: None if tool == "tc" else tool)
    assert netns.unavailable() == (
        "network namespaces need iproute2's `tc`, which is not installed"
    )


def test_a_namespace_that_cannot_be_made_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    real = subprocess.run

    def refuse(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if list(argv[:3]) == ["ip", "netns", "add"]:
            return subprocess.CompletedProcess(argv, 1, "", "mount --make-shared: Permission")
        return real(argv, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(netns.subprocess, "run", refuse)
    with pytest.raises(NoNamespaces, match="Permission"), network_namespace():
        pass


def test_the_namespace_and_its_pair_go_even_when_the_test_fails() -> None:
    reason = netns.unavailable()
    if reason is not None:
        pytest.skip(reason)
    with pytest.raises(ZeroDivisionError), network_namespace() as space:
        sleeper = space.run("sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!")
        assert space.pids() == [int(sleeper.stdout)]
        space.cut()
        raise ZeroDivisionError("the test failed")
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert space.name not in names and space.host_veth not in links
    assert _gone(int(sleeper.stdout))


def _gone(pid: int) -> bool:
    """Whether the process ended (a zombie waiting for init to reap it counts), within 5 s."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False
