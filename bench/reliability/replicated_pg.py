"""A PostgreSQL primary and a hot standby of a test's own, with synchronous replication.

Two clusters on two free ports under one fresh directory (initdb for the primary,
`pg_basebackup -R` for the standby), run by the `postgres` account when run as root, as
bench/reliability/private_pg.py runs one. Not `pg_createcluster`: that registers the clusters
in /etc/postgresql (started at boot, listed by `pg_lsclusters`, restarted with the machine's
`postgresql` service) until `pg_dropcluster`, so a test killed before its cleanup would leave
them running again after a reboot; here nothing outside the one directory under /tmp refers to
them, and the server at 127.0.0.1:5432 and its configuration are never touched.

`synchronous_commit = on` with the standby named in `synchronous_standby_names`: a commit is
acknowledged once the standby has flushed its WAL to disk, so the standby has every
acknowledged commit when it is promoted (promotion replays all it has flushed). `remote_apply`
would wait for the standby to replay it too: needed only by readers of the standby, and the
backends read and write on the primary alone (`target_session_attrs=read-write`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.reliability.netns import Namespace
from bench.reliability.private_pg import PrivatePostgres, _bin, _free_port

STANDBY_NAME = "standby1"
# PostgreSQL 15 takes a promote request that comes while the standby waits to reconnect to
# its lost primary only at the end of that wait (wal_retrieve_retry_interval, 5 s by default).
STANDBY_SETTINGS = "-c hot_standby=on -c wal_retrieve_retry_interval=1s"
# libpq's options of the backends' URL (docs/deployment.md shows them): only a read-write
# server is kept; a host that does not answer is given up after 2 s, a connection whose sent
# data go unacknowledged after 5 s (tcp_user_timeout, ms), an idle one after 5 + 3 × 1 s
# of unanswered keepalives: a machine gone sends no reset.
URL_OPTIONS = (
    "target_session_attrs=read-write&connect_timeout=2&tcp_user_timeout=5000"
    "&keepalives_idle=5&keepalives_interval=1&keepalives_count=3"
)


@dataclass
class ReplicatedPostgres:
    """The primary and its synchronous standby; `url` reaches whichever is read-write."""

    primary: PrivatePostgres
    standby: PrivatePostgres

    @property
    def url(self) -> str:
        """A multi-host SQLAlchemy URL: libpq tries both, keeps the one that takes writes."""
        hosts = "&".join(f"host={c.host}:{c.port}" for c in (self.primary, self.standby))
        return f"postgresql+psycopg://postgres@/test?{hosts}&{URL_OPTIONS}"

    def start_standby(self) -> None:
        """Start the standby (again): it connects to the primary and catches up."""
        self.standby.start(STANDBY_SETTINGS)

    def postmaster_pid(self, cluster: PrivatePostgres) -> int:
        """The pid of a running cluster's postmaster (the first line of postmaster.pid)."""
        text = (cluster.directory / "data" / "postmaster.pid").read_text()
        return int(text.split("\n", 1)[0])

    def kill_primary(self) -> None:
        """kill -9 the primary's postmaster and then its children: the machine gone, as far
        as PostgreSQL can tell (no shutdown checkpoint, no goodbye to the clients)."""
        pid = self.postmaster_pid(self.primary)
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def promote(self) -> float:
        """Promote the standby (`pg_ctl promote -w`); when it took writes (monotonic)."""
        data = str(self.standby.directory / "data")
        self.standby._run(_bin("pg_ctl"), "-D", data, "-w", "promote")
        return time.monotonic()

    def sql(self, cluster: PrivatePostgres, query: str) -> str:
        """One query by psql on `cluster`'s `test` database, its unaligned output."""
        done = cluster._run(
            _bin("psql"), "-h", cluster.host, "-p", str(cluster.port), "-U", "postgres",
            "-d", "test", "-tAc", query,
        )  # fmt: skip
        return done.stdout.strip()


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The parent is the 4th field, after the command in parentheses.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def replicated_postgres(namespace: Namespace | None = None) -> Iterator[ReplicatedPostgres]:
    """A primary with a `test` database and a hot standby streaming from it synchronously,
    both stopped (immediate) and removed at the end, whatever happened. NoPostgres without
    the server programs.

    `namespace`: the primary runs inside it, listening on its address alone, trusting the
    pair's subnet (bench/reliability/netns.py: the primary's machine, which can vanish);
    the standby stays here and streams from that address. Stopped before the namespace
    goes (enter this one inside network_namespace())."""
    user = "postgres" if os.geteuid() == 0 else None
    tmp = Path(tempfile.mkdtemp(prefix="tg-pgrepl-"))
    primary = PrivatePostgres(tmp / "primary", _free_port(), user)
    if namespace is not None:
        primary.host, primary.netns = namespace.address, namespace.name
    standby = PrivatePostgres(tmp / "standby", _free_port(), user)
    for cluster in (primary, standby):
        cluster.directory.mkdir()
    if user:
        for path in (tmp, primary.directory, standby.directory):
            shutil.chown(path, user)
    pair = ReplicatedPostgres(primary, standby)
    try:
        primary._run(
            _bin("initdb"), "-D", str(primary.directory / "data"), "-U", "postgres",
            "-A", "trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        if namespace is not None:
            # The standby and the backends come from the other end of the veth pair.
            with (primary.directory / "data" / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {namespace.subnet} trust\n")
                hba.write(f"host replication all {namespace.subnet} trust\n")
        primary.start("-c wal_level=replica -c max_wal_senders=4")
        primary._run(
            _bin("createdb"), "-h", primary.host, "-p", str(primary.port), "-U", "postgres",
            "test",
        )  # fmt: skip
        # -R: standby.signal and primary_conninfo, with the name the primary waits for.
        primary._run(
            _bin("pg_basebackup"), "-D", str(standby.directory / "data"), "-R",
            "-X", "stream", "--checkpoint=fast", "--no-sync",
            "-d", f"host={primary.host} port={primary.port} user=postgres"
            f" application_name={STANDBY_NAME}",
        )  # fmt: skip
        pair.start_standby()
        # Set once the standby is there (createdb would wait for it for ever), in the
        # primary's own postgresql.auto.conf: the standby's copy was taken before, so once
        # promoted it waits for no standby of its own (with one, every commit would hang;
        # Patroni's synchronous_mode sets it on whichever node is the primary).
        pair.sql(primary, f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
        pair.sql(primary, "ALTER SYSTEM SET synchronous_commit = 'on'")
        pair.sql(primary, "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while pair.sql(primary, "SELECT sync_state FROM pg_stat_replication") != "sync":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not become synchronous in 30 s")
            time.sleep(0.1)
        yield pair
    finally:
        for cluster in (standby, primary):
            cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)
