"""Display names (§3 welcome.people, §3.3 people): the name a user is shown by travels to
every user, beside the name everything is recorded under; a new one reaches every open
connection at once (over the protocol) or within the users poll (the command line), and
closes none."""

from __future__ import annotations

import asyncio
import time

from dispatch.cli import main
from dispatch.store.store import Store
from protocol.messages import People, Result, UpdateUser, Welcome
from tests.dispatch.conftest import LINGHU, Client, start_server
from tests.dispatch.test_admin import admin_of, admin_rows, ask, create, still_up
from tests.dispatch.test_server import handshake


async def people_pushed(client: Client, timeout: float = 5.0) -> People:
    """The next `people` message (deltas and kpis passed over)."""
    message = await client.until(lambda m: isinstance(m, People), timeout=timeout)
    assert isinstance(message, People)
    return message


async def test_the_welcome_names_every_user_that_has_a_display_name(store: Store) -> None:
    running = await start_server(store)
    try:
        welcome, _ = await handshake(await running.client("linghu"))
        assert welcome.people == {}  # nobody has one yet: the field is left out
        store.update_user("菱湖分中心", display_name="菱湖街道分中心 王芳")
        store.create_user("已离职", "street", [LINGHU], display_name="李静")
        store.revoke_user("已离职")
        await running.server.reread_people()
        welcome, _ = await handshake(await running.client("commander"))
        # Revoked users keep theirs: what they did is on record under their name.
        assert welcome.people == {"已离职": "李静", "菱湖分中心": "菱湖街道分中心 王芳"}
    finally:
        await running.server.stop()


async def test_a_new_users_display_name_reaches_every_connection_before_the_answer(
    store: Store,
) -> None:
    running = await start_server(store)
    try:
        linghu = await running.client("linghu")
        await handshake(linghu)
        admin = await admin_of(running)
        reply = await ask(
            admin, create("菱湖网格员01", "street", [LINGHU], display_name="网格员 孙敏英")
        )
        assert isinstance(reply, Result), reply
        # The admin had it before the answer (ask() read up to the answer).
        assert any(isinstance(m, People) for m in admin.inbox), admin.inbox
        pushed = await people_pushed(linghu)
        assert pushed.people == {"菱湖网格员01": "网格员 孙敏英"}
        await still_up(linghu)  # a name closes no connection
        assert admin_rows(store)[-1].detail == (
            f"role=street streets={LINGHU} display_name=网格员 孙敏英"
        )
        # Re-keyed without a display name: it keeps the one it has, and nothing is pushed.
        reply = await ask(admin, UpdateUser(id=0, name="菱湖网格员01", new_token=True))
        assert isinstance(reply, Result), reply
        assert store.people() == {"菱湖网格员01": "网格员 孙敏英"}
        await still_up(linghu)
        assert not any(isinstance(m, People) for m in linghu.inbox)
        # A new connection has it in its welcome.
        welcome, _ = await handshake(await running.client("dekuan"))
        assert welcome.people == {"菱湖网格员01": "网格员 孙敏英"}
    finally:
        await running.server.stop()


async def test_a_display_name_changed_on_the_command_line_reaches_a_running_server(
    store: Store, capsys
) -> None:
    running = await start_server(store)
    url = store.url
    try:
        linghu = await running.client("linghu")
        welcome, _ = await handshake(linghu)
        assert isinstance(welcome, Welcome)
        started = time.monotonic()
        argv = ["--url", url, "update-user", "菱湖分中心", "--display-name", "菱湖街道分中心 王芳"]
        assert await asyncio.to_thread(main, argv) == 0
        err = capsys.readouterr().err
        assert "shown as 菱湖街道分中心 王芳" in err and "shows the name within 1 s" in err
        pushed = await people_pushed(linghu)
        assert pushed.people == {"菱湖分中心": "菱湖街道分中心 王芳"}
        assert time.monotonic() - started < 2.5  # the poll's 1 s
        await still_up(linghu)  # its authority did not change: its connection stays
        assert admin_rows(store)[-1].detail == "display_name=菱湖街道分中心 王芳"

        # A bad one: refused, said plainly, nothing changed.
        argv = ["--url", url, "update-user", "菱湖分中心", "--display-name", "王芳 "]
        assert await asyncio.to_thread(main, argv) == 2
        assert capsys.readouterr().err == (
            "error: a display name may not start or end with a space, nor hold control characters\n"
        )
        assert store.people() == {"菱湖分中心": "菱湖街道分中心 王芳"}
        assert admin_rows(store)[-1].outcome == "bad_args"

        # `users` lists it; "" takes it away (pushed as an empty table).
        assert main(["--url", url, "users"]) == 0
        listed = capsys.readouterr().out
        assert "菱湖分中心" in listed and "菱湖街道分中心 王芳" in listed
        argv = ["--url", url, "update-user", "菱湖分中心", "--display-name", ""]
        assert await asyncio.to_thread(main, argv) == 0
        assert (await people_pushed(linghu)).people == {}
        # create-user takes one too.
        argv = ["--url", url, "create-user", "新人", "--role", "wall", "--display-name", "大屏 2"]
        assert await asyncio.to_thread(main, argv) == 0
        assert (await people_pushed(linghu)).people == {"新人": "大屏 2"}
    finally:
        await running.server.stop()
