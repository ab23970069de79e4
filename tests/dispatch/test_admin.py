"""The admin requests over the wire: users, create_user, update_user, revoke_user; who may,
what is checked, the admin log, and the connections of a revoked, re-keyed or changed user
(closed, 4004)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed

from dispatch.cli import main
from dispatch.handshake import Authenticator
from dispatch.store.store import AdminEntry, Store, hash_token
from protocol.codec import convert, encode
from protocol.codes import CloseCode, ErrorCode
from protocol.entities import ROLES
from protocol.messages import (
    CreateUser,
    Error,
    People,
    Ping,
    Result,
    RevokeUser,
    UpdateUser,
    UserEntry,
    Users,
    Welcome,
)
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    LINGHU_SQ,
    Client,
    Running,
    open_client,
    start_server,
)
from tests.dispatch.test_server import handshake

ADMIN = "系统管理员"


async def ask(client: Client, message: Any) -> Result | Error:
    """Send a request (its id is set here) and wait for its answer."""
    request_id = next(client.ids)
    await client.ws.send(encode(msgspec.structs.replace(message, id=request_id)).decode())
    reply = await client.until(
        lambda m: isinstance(m, (Result, Error)) and m.id == request_id, timeout=10
    )
    assert isinstance(reply, (Result, Error))
    return reply


async def admin_of(running: Running) -> Client:
    """An admin, connected (its snapshot read)."""
    running.tokens["admin"] = running.store.create_user(ADMIN, "admin")
    client = await running.client("admin")
    await handshake(client)
    return client


def listed(reply: Result | Error) -> dict[str, UserEntry]:
    assert isinstance(reply, Result), reply
    assert set(reply.data) == {"users"}
    entries = [convert(u, UserEntry) for u in reply.data["users"]]
    # Every field is always present, as documented.
    assert all(set(u) == set(UserEntry.__struct_fields__) for u in reply.data["users"])
    return {u.name: u for u in entries}


async def closed_with(client: Client, timeout: float = 5.0) -> tuple[int, str]:
    """Read until the server closes the connection; its close code and reason."""
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await client.recv(timeout=timeout)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


async def refused_at_hello(running: Running, token: str) -> int:
    client = await open_client(running.port, token)
    code, _ = await closed_with(client)
    return code


async def still_up(client: Client) -> None:
    reply = await ask(client, Ping(id=0))
    assert isinstance(reply, Result) and "server_time" in reply.data


def admin_rows(store: Store) -> list[AdminEntry]:
    return store.admin_log(1000)


def create(name: str, role: str, streets=(), communities=(), display_name="") -> CreateUser:
    return CreateUser(
        id=0,
        name=name,
        role=role,
        streets=list(streets),
        communities=list(communities),
        display_name=display_name,
    )


# ---- what an admin does --------------------------------------------------------------------


async def test_an_admin_lists_creates_and_revokes_users(running: Running) -> None:
    admin = await admin_of(running)
    before = listed(await ask(admin, Users(id=0)))
    assert {"指挥长", "菱湖分中心", "菱湖社区工作站", ADMIN} <= set(before)
    assert before["菱湖分中心"].role == "street" and before["菱湖分中心"].jurisdiction == [LINGHU]
    assert before["菱湖社区工作站"].jurisdiction == [LINGHU_SQ]
    assert before["指挥长"].jurisdiction == [] and not any(u.revoked for u in before.values())

    started = time.time()
    made = await ask(admin, create("新分中心", "street", [DEKUAN, LINGHU]))
    assert isinstance(made, Result), made
    assert set(made.data) == {"user", "token"} and made.data["user"] == "新分中心"
    token = made.data["token"]
    assert isinstance(token, str) and len(token) >= 40
    newcomer = await open_client(running.port, token)
    welcome = await newcomer.recv()
    assert isinstance(welcome, Welcome) and welcome.user == "新分中心"
    assert welcome.role == "street" and welcome.jurisdiction == [DEKUAN, LINGHU]
    community = await ask(admin, create("新社区", "community", communities=[LINGHU_SQ]))
    assert isinstance(community, Result), community

    after = listed(await ask(admin, Users(id=0)))
    assert set(after) == set(before) | {"新分中心", "新社区"}
    assert after["新分中心"].jurisdiction == sorted([DEKUAN, LINGHU])
    assert started <= after["新分中心"].created_at <= time.time()
    assert after["新社区"].role == "community" and after["新社区"].jurisdiction == [LINGHU_SQ]

    revoked = await ask(admin, RevokeUser(id=0, name="新分中心"))
    assert isinstance(revoked, Result) and revoked.data == {"user": "新分中心"}
    assert await closed_with(newcomer) == (
        CloseCode.CREDENTIALS_CHANGED,
        "credentials changed: sign in again",
    )
    assert await refused_at_hello(running, token) == CloseCode.AUTH_FAILED
    final = listed(await ask(admin, Users(id=0)))
    assert final["新分中心"].revoked and not final["新社区"].revoked

    nobody = await ask(admin, RevokeUser(id=0, name="无此人"))
    assert isinstance(nobody, Error) and nobody.code == ErrorCode.NOT_FOUND
    assert nobody.message == "no user 无此人"

    rows = admin_rows(running.store)
    assert [(r.action, r.target, r.outcome) for r in rows] == [
        ("users", "", "ok"),
        ("create_user", "新分中心", "ok"),
        ("create_user", "新社区", "ok"),
        ("users", "", "ok"),
        ("revoke_user", "新分中心", "ok"),
        ("users", "", "ok"),
        ("revoke_user", "无此人", "not_found"),
    ]
    assert all(r.actor == ADMIN and r.peer.startswith("127.0.0.1:") for r in rows)
    assert rows[1].detail == f"role=street streets={DEKUAN},{LINGHU}"
    assert rows[2].detail == f"role=community communities={LINGHU_SQ}"
    assert rows[-1].message == "no user 无此人"
    assert all(started - 5 <= r.at <= time.time() for r in rows)


async def test_other_roles_are_refused_and_audited(running: Running, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dispatch")
    before = running.store.accounts()
    for who, name in (("commander", "指挥长"), ("linghu", "菱湖分中心"), ("wall", "大屏")):
        client = await running.client(who)
        await handshake(client)
        role = {"commander": "commander", "linghu": "street", "wall": "wall"}[who]
        for message, action in (
            (Users(id=0), "users"),
            (create("冒名", "admin"), "create_user"),
            (UpdateUser(id=0, name="指挥长", role="admin"), "update_user"),
            (RevokeUser(id=0, name="指挥长"), "revoke_user"),
        ):
            reply = await ask(client, message)
            assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN, reply
            assert reply.message == f"role {role} may not {action}"
            assert f"admin {name} " in caplog.text and f"-> forbidden (role {role}" in caplog.text
        await still_up(client)
    assert running.store.accounts() == before  # nothing changed
    rows = admin_rows(running.store)
    assert len(rows) == 12 and {r.outcome for r in rows} == {"forbidden"}
    assert [r.actor for r in rows[:4]] == ["指挥长"] * 4
    assert rows[1].target == "冒名" and rows[1].detail == "role=admin"
    assert rows[2].target == "指挥长" and rows[2].detail == "role=admin"
    assert rows[3].target == "指挥长" and rows[3].message == "role commander may not revoke_user"
    # The commander's token still works: the refused revoke changed nothing.
    await handshake(await running.client("commander"))


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (create("新人", "emperor"), f"unknown role 'emperor': one of {', '.join(ROLES)}"),
        (create("新人", "street", ["999"]), "unknown street code(s): 999"),
        (create("新人", "street"), "a street user needs at least one street in its jurisdiction"),
        (
            create("新人", "community", [LINGHU], [LINGHU_SQ]),
            "a community user's jurisdiction is communities (communities), not streets",
        ),
        (
            create("新人", "community"),
            "a community user needs at least one community (communities)",
        ),
        (
            create("新人", "community", communities=["340803004999"]),
            "unknown community code(s): 340803004999",
        ),
        (
            create("新人", "dispatcher", communities=[LINGHU_SQ]),
            "only community users have communities in their jurisdiction; a dispatcher user's"
            " is streets (streets) or the whole district",
        ),
        (create("", "wall"), "a user's name is 1 to 100 characters, not 0"),
        (create("长" * 101, "wall"), "a user's name is 1 to 100 characters, not 101"),
        (
            create(" 新人", "wall"),
            "a user's name may not start or end with a space, nor hold control characters",
        ),
        (
            create("新\n人", "wall"),
            "a user's name may not start or end with a space, nor hold control characters",
        ),
        (
            create("system", "commander"),
            "the name 'system' is reserved for the system's own changes",
        ),
        (
            create("新人", "wall", display_name=" 王芳"),
            "a display name may not start or end with a space, nor hold control characters",
        ),
        (
            create("新人", "wall", display_name="王" * 101),
            "a display name is at most 100 characters, not 101",
        ),
    ],
)
async def test_a_bad_user_is_refused_clearly_and_nothing_changes(
    running: Running, message: CreateUser, error: str
) -> None:
    linghu = await running.client("linghu")
    await handshake(linghu)
    admin = await admin_of(running)
    before, people = running.store.accounts(), running.store.people()
    reply = await ask(admin, message)
    assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_ARGS, reply
    assert reply.message == error
    assert running.store.accounts() == before and running.store.people() == people
    await still_up(linghu)  # the existing user's connection is untouched
    assert running.store.authenticate(running.tokens["linghu"]) is not None
    [row] = admin_rows(running.store)
    assert (row.action, row.target, row.outcome, row.message) == (
        "create_user",
        message.name[:100],
        "bad_args",
        error,
    )


async def test_an_admin_does_not_cut_off_his_own_account(running: Running) -> None:
    admin = await admin_of(running)
    for message, verb in (
        (UpdateUser(id=0, name=ADMIN, new_token=True), "update"),
        (UpdateUser(id=0, name=ADMIN, role="commander"), "update"),
        (RevokeUser(id=0, name=ADMIN), "revoke"),
    ):
        reply = await ask(admin, message)
        assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN
        assert reply.message.startswith(f"an admin may not {verb} his own account here")
    await still_up(admin)
    assert running.store.authenticate(running.tokens["admin"]) is not None
    assert [r.outcome for r in admin_rows(running.store)] == ["forbidden"] * 3


async def test_a_frame_the_codec_refuses_is_bad_message_and_not_audited(running: Running) -> None:
    admin = await admin_of(running)
    await admin.ws.send('{"id": 5, "type": "create_user", "name": "x", "role": 5}')
    reply = await admin.until(lambda m: isinstance(m, Error) and m.id == 5)
    assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_MESSAGE
    assert reply.message == "Expected `str`, got `int` - at `$.role`"
    await admin.ws.send('{"id": 6, "type": "revoke_user"}')
    reply = await admin.until(lambda m: isinstance(m, Error) and m.id == 6)
    assert isinstance(reply, Error) and reply.message == "Object missing required field `name`"
    assert admin_rows(running.store) == []


# ---- the token: only in the answer ---------------------------------------------------------


async def test_the_token_is_in_no_log_line_and_not_stored(running: Running, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="dispatch")
    admin = await admin_of(running)
    tokens = []
    for message in (
        create("新人", "street", [LINGHU]),
        UpdateUser(id=0, name="新人", new_token=True),
    ):  # made, then re-keyed
        made = await ask(admin, message)
        assert isinstance(made, Result), made
        tokens.append(made.data["token"])
        client = await open_client(running.port, tokens[-1])
        assert isinstance(await client.recv(), Welcome)
        await client.ws.close()
    assert tokens[0] != tokens[1]
    assert await ask(admin, RevokeUser(id=0, name="新人"))
    await asyncio.sleep(0.2)  # the disconnections' lines too
    assert "create_user 新人 role=street" in caplog.text  # the line is there...
    for token in tokens:
        for record in caplog.records:  # ... and no line holds a token
            assert token not in record.getMessage() and token not in (record.exc_text or "")
    with running.store.engine.connect() as conn:
        for table in ("admin_log", "users"):
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                assert not any(t in str(value) for t in tokens for value in row), table
        stored = conn.execute(sa.text("SELECT token_hash FROM users WHERE name = '新人'")).scalar()
    assert stored == hash_token(tokens[1])


# ---- connections of a changed user ---------------------------------------------------------


async def test_a_revoked_users_connections_close_and_its_token_opens_nothing(
    running: Running,
) -> None:
    first, second = await running.client("linghu"), await running.client("linghu")
    for client in (first, second):
        await handshake(client)  # the token is now in the server's auth cache (30 s)
    other = await running.client("dekuan")
    await handshake(other)
    admin = await admin_of(running)
    reply = await ask(admin, RevokeUser(id=0, name="菱湖分中心"))
    assert isinstance(reply, Result), reply
    for client in (first, second):
        assert (await closed_with(client, timeout=2))[0] == CloseCode.CREDENTIALS_CHANGED
    started = time.monotonic()
    assert await refused_at_hello(running, running.tokens["linghu"]) == CloseCode.AUTH_FAILED
    assert time.monotonic() - started < 2  # at once, not after the cache's 30 s
    await still_up(other)  # nobody else's connection is touched
    await still_up(admin)


async def test_re_keying_a_user_closes_its_connections_and_only_the_new_token_works(
    running: Running,
) -> None:
    old = await running.client("linghu")
    await handshake(old)
    admin = await admin_of(running)
    made = await ask(admin, UpdateUser(id=0, name="菱湖分中心", new_token=True))
    assert isinstance(made, Result), made
    assert made.data == {
        "user": "菱湖分中心",
        "role": "street",
        "jurisdiction": [LINGHU],
        "display_name": "",
        "token": made.data["token"],
    }
    assert (await closed_with(old, timeout=2))[0] == CloseCode.CREDENTIALS_CHANGED
    assert await refused_at_hello(running, running.tokens["linghu"]) == CloseCode.AUTH_FAILED
    fresh = await open_client(running.port, made.data["token"])
    welcome, _ = await handshake(fresh)
    assert welcome.user == "菱湖分中心" and welcome.jurisdiction == [LINGHU]
    await still_up(fresh)


async def test_creating_a_taken_name_is_a_conflict_and_changes_nothing(running: Running) -> None:
    linghu = await running.client("linghu")
    await handshake(linghu)
    admin = await admin_of(running)
    before, people = running.store.accounts(), running.store.people()
    reply = await ask(admin, create("菱湖分中心", "street", [DEKUAN], display_name="冒名"))
    assert isinstance(reply, Error) and reply.code == ErrorCode.CONFLICT, reply
    assert reply.message == (
        "user 菱湖分中心 exists: update_user changes its role or jurisdiction"
        " (new_token gives it a new token)"
    )
    assert running.store.accounts() == before and running.store.people() == people
    await still_up(linghu)  # not re-keyed: its connection and its token stay
    assert running.store.authenticate(running.tokens["linghu"]) is not None
    [row] = admin_rows(running.store)
    assert (row.action, row.target, row.outcome, row.message) == (
        "create_user",
        "菱湖分中心",
        "conflict",
        reply.message,
    )
    assert row.detail == f"role=street streets={DEKUAN} display_name=冒名"


async def test_update_user_changes_a_user_and_closes_its_connections(running: Running) -> None:
    old = await running.client("linghu")
    await handshake(old)
    admin = await admin_of(running)
    reply = await ask(
        admin,
        UpdateUser(id=0, name="菱湖分中心", streets=[LINGHU, DEKUAN], display_name="分中心 王芳"),
    )
    assert isinstance(reply, Result), reply
    assert reply.data == {  # no new token asked: none in the answer
        "user": "菱湖分中心",
        "role": "street",
        "jurisdiction": sorted([LINGHU, DEKUAN]),
        "display_name": "分中心 王芳",
    }
    # The new name reached the admin before the answer; the old connection is closed.
    pushed = [m for m in admin.inbox if isinstance(m, People)]
    assert pushed and pushed[-1].people["菱湖分中心"] == "分中心 王芳"
    assert (await closed_with(old, timeout=2))[0] == CloseCode.CREDENTIALS_CHANGED
    again = await running.client("linghu")  # the same token: the new jurisdiction
    welcome, _ = await handshake(again)
    assert welcome.jurisdiction == sorted([LINGHU, DEKUAN])

    # Another role, the whole district: the same token signs in as a dispatcher.
    reply = await ask(
        admin, UpdateUser(id=0, name="菱湖分中心", role="dispatcher", whole_district=True)
    )
    assert isinstance(reply, Result) and reply.data["jurisdiction"] == [], reply
    assert (await closed_with(again, timeout=2))[0] == CloseCode.CREDENTIALS_CHANGED
    welcome, _ = await handshake(await running.client("linghu"))
    assert (welcome.role, welcome.jurisdiction) == ("dispatcher", [])
    rows = admin_rows(running.store)
    assert [(r.action, r.target, r.outcome, r.detail) for r in rows] == [
        ("update_user", "菱湖分中心", "ok", f"codes={LINGHU},{DEKUAN} display_name=分中心 王芳"),
        ("update_user", "菱湖分中心", "ok", "role=dispatcher codes=district"),
    ]


async def test_a_new_display_name_alone_closes_no_connection(running: Running) -> None:
    linghu = await running.client("linghu")
    await handshake(linghu)
    admin = await admin_of(running)
    reply = await ask(admin, UpdateUser(id=0, name="菱湖分中心", display_name="王芳"))
    assert isinstance(reply, Result), reply
    pushed = await linghu.until(lambda m: isinstance(m, People), timeout=5)
    assert isinstance(pushed, People) and pushed.people["菱湖分中心"] == "王芳"
    await still_up(linghu)  # the same authority: its connection stays


@pytest.mark.parametrize(
    ("message", "code", "error"),
    [
        (
            UpdateUser(id=0, name="菱湖分中心", streets=[LINGHU], communities=[LINGHU_SQ]),
            "bad_args",
            "give streets or communities codes, not both",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", streets=[LINGHU], whole_district=True),
            "bad_args",
            "whole_district takes no streets or communities",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心"),
            "bad_args",
            "nothing to change: give role, streets, communities, whole_district,"
            " display_name or new_token",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", role="community"),
            "bad_args",
            "a community user's jurisdiction is communities: give communities",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", role="commander", communities=[LINGHU_SQ]),
            "bad_args",
            "only community users have communities in their jurisdiction; a commander user's"
            " is streets (streets) or the whole district",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", streets=[LINGHU, "999"], new_token=True),
            "bad_args",
            "unknown street code(s): 999",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", role="emperor"),
            "bad_args",
            f"unknown role 'emperor': one of {', '.join(ROLES)}",
        ),
        (
            UpdateUser(id=0, name="菱湖分中心", display_name="王\t芳", new_token=True),
            "bad_args",
            "a display name may not start or end with a space, nor hold control characters",
        ),
        (UpdateUser(id=0, name="无此人", new_token=True), "not_found", "no user 无此人"),
    ],
)
async def test_a_bad_update_is_refused_clearly_and_nothing_changes(
    running: Running, message: UpdateUser, code: str, error: str
) -> None:
    linghu = await running.client("linghu")
    await handshake(linghu)
    admin = await admin_of(running)
    before, people = running.store.accounts(), running.store.people()
    reply = await ask(admin, message)
    assert isinstance(reply, Error) and (reply.code, reply.message) == (code, error), reply
    assert running.store.accounts() == before and running.store.people() == people
    await still_up(linghu)  # its connection and its token are untouched
    assert running.store.authenticate(running.tokens["linghu"]) is not None
    [row] = admin_rows(running.store)
    assert (row.action, row.target, row.outcome, row.message) == (
        "update_user",
        message.name,
        code,
        error,
    )


async def test_changes_by_the_command_line_reach_a_running_server(store, capsys) -> None:
    """`dispatch update-user --new-token` and `revoke-user`: the server notices within its
    poll of the users (1 s), closes the connections and forgets the cached tokens.
    `create-user` on an existing name is refused and changes nothing."""
    running = await start_server(store)
    url = store.url
    try:
        linghu, dekuan = await running.client("linghu"), await running.client("dekuan")
        for client in (linghu, dekuan):
            await handshake(client)
        args = ["--url", url, "create-user", "菱湖分中心", "--role", "street", "--street", LINGHU]
        assert await asyncio.to_thread(main, args) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("error: user 菱湖分中心 exists: `dispatch update-user 菱湖分中心`")
        await still_up(linghu)  # nothing changed: its token still works
        await handshake(await open_client(running.port, running.tokens["linghu"]))

        started = time.monotonic()
        code = await asyncio.to_thread(
            main, ["--url", url, "update-user", "菱湖分中心", "--new-token"]
        )
        assert code == 0
        out, err = capsys.readouterr()
        new_token = out.strip()
        assert "its old token no longer works" in err and new_token not in err
        assert (await closed_with(linghu))[0] == CloseCode.CREDENTIALS_CHANGED
        assert time.monotonic() - started < 2.5  # the poll's 1 s, and the close
        assert await refused_at_hello(running, running.tokens["linghu"]) == CloseCode.AUTH_FAILED
        welcome, _ = await handshake(await open_client(running.port, new_token))
        assert (welcome.role, welcome.jurisdiction) == ("street", [LINGHU])

        assert await asyncio.to_thread(main, ["--url", url, "revoke-user", "德宽路分中心"]) == 0
        assert "within 1 s" in capsys.readouterr().out
        assert (await closed_with(dekuan))[0] == CloseCode.CREDENTIALS_CHANGED
        assert await refused_at_hello(running, running.tokens["dekuan"]) == CloseCode.AUTH_FAILED

        # All three are in the admin log, under the operating system's user.
        rows = admin_rows(store)
        assert [(r.action, r.target, r.outcome, r.peer) for r in rows] == [
            ("create_user", "菱湖分中心", "conflict", "cli"),
            ("update_user", "菱湖分中心", "ok", "cli"),
            ("revoke_user", "德宽路分中心", "ok", "cli"),
        ]
        assert rows[1].detail == "new_token"
        assert all(r.actor.startswith("cli:") for r in rows)
        assert main(["--url", url, "create-user", "x", "--role", "street", "--street", "9"]) == 2
        assert admin_rows(store)[-1].outcome == "bad_args"
        assert main(["--url", url, "admin-log", "--limit", "2"]) == 0
        printed = capsys.readouterr().out.splitlines()
        assert printed[0] == "times in China Standard Time" and len(printed) == 3
        assert "revoke_user 德宽路分中心  -> ok" in printed[1]
        assert printed[2].endswith("-> bad_args: unknown street code(s): 9")
        assert new_token not in "\n".join(printed)
    finally:
        await running.server.stop()


async def test_a_revocation_during_a_token_read_is_not_missed(store: Store) -> None:
    """A hello whose token is read from the store while the user is revoked: the answer read
    before the revocation is not trusted (read again), so it is refused."""
    token = store.create_user("读时撤销", "commander")
    auth = Authenticator(store, recheck=30)
    read = store.authenticate
    reads = []

    def revoked_meanwhile(t: str):
        user = read(t)  # the real read, then the real revocation, as an admin's would land
        reads.append(user)
        if len(reads) == 1:
            store.revoke_user("读时撤销")
            auth.forget("读时撤销")
        return user

    store.authenticate = revoked_meanwhile  # type: ignore[method-assign]
    try:
        user, generation = await auth.check(token)
    finally:
        del store.authenticate
    assert reads[0] is not None and reads[1] is None  # read again after the change
    assert user is None and generation == auth.generation
    assert auth.changed_since("读时撤销", generation - 1)
    assert not auth.changed_since("读时撤销", generation)


async def test_the_admin_log_is_append_only(store: Store) -> None:
    store.record_admin(AdminEntry(1.0, "a", "cli", "users"))
    for statement in ("UPDATE admin_log SET outcome = 'x'", "DELETE FROM admin_log"):
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            store.engine.begin() as conn,
        ):
            conn.execute(sa.text(statement))
    assert [r.outcome for r in store.admin_log()] == ["ok"]
