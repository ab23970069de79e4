"""A second "machine" on this one: a network namespace reached over a veth pair, which can be
made to vanish without a word (no reset, no ICMP), as a machine does that loses its power or
its cable.

The kernel here has no `netem`; the `blackhole` qdisc (always built in with tc) drops every
packet handed to a device and tells the sender it went. On both ends of the pair, nothing
crosses either way, the links stay up and the routes stay: an established connection's sent
data go unanswered until TCP gives up (`tcp_user_timeout`, keepalives), a new connection's SYN
goes unanswered (`connect_timeout`). A process killed, or `ip link set down`, would instead
reset the connections or fail a connect at once: not what a vanished machine does.

Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and `ip`/`tc` (iproute2); `unavailable()` says
why not, before anything is made.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass


class NoNamespaces(RuntimeError):
    """This machine does not let us make a network namespace."""


@dataclass(frozen=True)
class Namespace:
    """One network namespace and the veth pair to it: names and the two ends' addresses."""

    name: str
    host_veth: str  # the root namespace's end
    ns_veth: str  # the namespace's end
    host_address: str
    address: str  # the namespace's end: where its servers listen
    subnet: str  # both ends' /24, for pg_hba.conf

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace (a daemon it starts stays in it)."""
        return _ip("netns", "exec", self.name, *argv, check=check)

    def cut(self) -> None:
        """Every packet either way dropped from now on, silently: the machine gone."""
        _run("tc", "qdisc", "add", "dev", self.host_veth, "root", "blackhole")
        self.run("tc", "qdisc", "add", "dev", self.ns_veth, "root", "blackhole")

    def heal(self) -> None:
        """Packets cross again (the cable back)."""
        _run("tc", "qdisc", "del", "dev", self.host_veth, "root", check=False)
        self.run("tc", "qdisc", "del", "dev", self.ns_veth, "root", check=False)

    def pids(self) -> list[int]:
        """The processes inside the namespace."""
        done = _ip("netns", "pids", self.name, check=False)
        return [int(p) for p in done.stdout.split()]


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done


def _ip(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run("ip", *argv, check=check)


def unavailable() -> str | None:
    """Why a network namespace cannot be made here (None: it can): tried, not guessed."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN); not root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"network namespaces need iproute2's `{tool}`, which is not installed"
    probe = f"tg-probe-{secrets.token_hex(4)}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        return f"`ip netns add` fails here: {done.stderr.strip() or done.returncode}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _free_subnet() -> int:
    """A third octet of 10.213.X.0/24 that no interface here has (parallel runs each take
    their own)."""
    used = {int(m) for m in re.findall(r"\b10\.213\.(\d+)\.", _ip("-o", "-4", "addr").stdout)}
    free = [x for x in range(256) if x not in used]
    if not free:
        raise NoNamespaces("every 10.213.X.0/24 is in use on this machine")
    return random.choice(free)


@contextlib.contextmanager
def network_namespace() -> Iterator[Namespace]:
    """A fresh namespace with its loopback up and a veth pair to it (10.213.X.1 here,
    10.213.X.2 there); at the end, whatever happened, every process left in it killed, the
    namespace and the pair deleted. Names are unique per run. NoNamespaces when it cannot
    be made (see unavailable)."""
    token = secrets.token_hex(3)
    x = _free_subnet()
    space = Namespace(
        name=f"tg-pg-{token}",
        host_veth=f"tgh{token}",
        ns_veth=f"tgn{token}",
        host_address=f"10.213.{x}.1",
        address=f"10.213.{x}.2",
        subnet=f"10.213.{x}.0/24",
    )
    made = False
    try:
        try:
            _ip("netns", "add", space.name)
        except RuntimeError as exc:
            raise NoNamespaces(str(exc)) from None
        made = True
        _ip("link", "add", space.host_veth, "type", "veth", "peer", "name", space.ns_veth,
            "netns", space.name)  # fmt: skip
        _ip("addr", "add", f"{space.host_address}/24", "dev", space.host_veth)
        _ip("link", "set", space.host_veth, "up")
        space.run("ip", "addr", "add", f"{space.address}/24", "dev", space.ns_veth)
        space.run("ip", "link", "set", space.ns_veth, "up")
        space.run("ip", "link", "set", "lo", "up")
        yield space
    finally:
        if made:
            # A namespace deleted with processes in it only loses its name; they go on.
            for pid in space.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _ip("netns", "del", space.name, check=False)
        # Deleting the namespace deletes its end and so the pair; this is for a failure
        # before the pair reached it.
        _ip("link", "del", space.host_veth, check=False)
