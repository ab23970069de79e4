"""The admin requests: list users, create one, change one (or re-key it), revoke one; each
one audited.

Only role admin may use them. Every request that gets past the rate limit leaves a row in the
admin log (done or refused) and a log line; neither ever holds a token, which appears only in
the create_user and update_user answers. Refusals cost little however many come: their lines
go through the hub's RefusalLog, and a user's refused requests write at most
Limits.admin_log_rows rows a window, the rest summed up in one `more_refusals` row. A user
revoked, re-keyed or given another role or jurisdiction here loses every open connection at
once (close 4004) and its cached tokens with them, so an old token opens nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Container
from dataclasses import replace
from typing import Any

import msgspec

from dispatch.handshake import Authenticator
from dispatch.hub import Client, Hub
from dispatch.store.store import (
    Account,
    AdminEntry,
    Store,
    User,
    UserExists,
    check_update,
    user_detail,
)
from protocol.codes import ErrorCode
from protocol.messages import (
    CreateUser,
    Error,
    Result,
    RevokeUser,
    UpdateUser,
    UserEntry,
    Users,
)

log = logging.getLogger("dispatch.admin")
_encode = msgspec.json.Encoder().encode

AdminRequest = Users | CreateUser | UpdateUser | RevokeUser
ACTIONS: dict[type[AdminRequest], str] = {
    Users: "users",
    CreateUser: "create_user",
    UpdateUser: "update_user",
    RevokeUser: "revoke_user",
}
MORE_REFUSALS = "more_refusals"  # the admin log's row summing up a user's unrecorded refusals


# The summing-up tasks under way (kept until they end).
_summing: set[asyncio.Task[None]] = set()


class Refused(Exception):
    """A request the admin rules refuse; nothing was changed."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Audited:
    """What every admin desk shares: the refusal's row in the admin log, the log lines and
    the answers (the users' here, the roster's and categories' in dispatch/tables.py)."""

    def __init__(self, hub: Hub, store: Store) -> None:
        self.hub = hub
        self.store = store

    async def _record(self, entry: AdminEntry, refused: Refused) -> None:
        refusal = replace(entry, outcome=str(refused.code), message=refused.message)
        budget = self.hub.refused_rows
        if not budget.admit(entry.actor, entry.peer):
            # Past the user's rows this window: counted, and summed up when it ends.
            if budget.timer is None:
                self._sum_up_later()
            return
        try:
            await asyncio.to_thread(self.store.record_admin, refusal)
        except Exception:
            log.exception("could not record a refused %s by %s", entry.action, entry.actor)

    def _sum_up_later(self) -> None:
        budget = self.hub.refused_rows
        delay = budget.next_end()
        if delay is None:
            return
        loop = asyncio.get_running_loop()

        def due() -> None:
            budget.timer = None
            task = loop.create_task(self.sum_up())
            _summing.add(task)
            task.add_done_callback(_summing.discard)

        budget.timer = loop.call_later(delay + 0.01, due)

    async def sum_up(self, everything: bool = False) -> None:
        """Write one `more_refusals` row per user whose window of refusals ended with some
        not recorded (every count so far with `everything`, at shutdown)."""
        budget = self.hub.refused_rows
        if everything and budget.timer is not None:
            budget.timer.cancel()
            budget.timer = None
        for actor, peer, count in budget.ended(everything):
            row = AdminEntry(
                at=time.time(),
                actor=actor,
                peer=peer,
                action=MORE_REFUSALS,
                detail=f"count={count}",
                outcome="refused",
                message=f"{count} more refused requests not recorded one by one"
                f" (at most {budget.rows} rows in {budget.window:g} s)",
            )
            try:
                await asyncio.to_thread(self.store.record_admin, row)
            except Exception:
                log.exception("could not record %d more refusals of %s", count, actor)
        if not everything and budget.timer is None:
            self._sum_up_later()

    def _refuse(
        self, client: Client, request_id: int, entry: AdminEntry, code: str, message: str
    ) -> None:
        # Through the refusals' budget: a flood of refused requests cannot fill the log.
        self.hub.refusals.note(
            log,
            f"{client.peer} ({client.user.name})",
            "admin %s (%s): %s %s%s -> %s (%s)",
            client.user.name,
            client.peer,
            entry.action,
            entry.target[:100],
            f" {entry.detail[:200]}" if entry.detail else "",
            code,
            message[:200],
        )
        frame = Error(id=request_id, code=code, message=message[:500])
        self.hub.write(client, [_encode(frame)])

    async def checked(
        self,
        client: Client,
        request_id: int,
        entry: AdminEntry,
        roles: Container[str],
        do: Callable[[], Awaitable[tuple[dict[str, Any], str]]],
        may: str | None = None,
    ) -> None:
        """Answer one request whose only rule before `do` is the role: refused (forbidden,
        "role … may not `may`", recorded) unless the client's role is one of `roles`; else
        `do` gives the answer's data and a note for the log line, or raises Refused
        (recorded and answered); any other failure is logged and answered `internal`."""
        try:
            role = client.user.role
            if role not in roles:
                raise Refused(ErrorCode.FORBIDDEN, f"role {role} may not {may or entry.action}")
            data, note = await do()
        except Refused as refused:
            await self._record(entry, refused)
            self._refuse(client, request_id, entry, refused.code, refused.message)
            return
        except Exception:
            log.exception("admin %s by %s failed", entry.action, client.user.name)
            await self._record(entry, Refused(ErrorCode.INTERNAL, "the store failed"))
            self._refuse(client, request_id, entry, ErrorCode.INTERNAL, f"could not {entry.action}")
            return
        self._done(client, request_id, entry, data, note)

    def _done(
        self, client: Client, request_id: int, entry: AdminEntry, data: Any, note: str
    ) -> None:
        log.info(
            "admin %s (%s): %s %s%s -> ok (%s)",
            client.user.name,
            client.peer,
            entry.action,
            entry.target,
            f" {entry.detail[:200]}" if entry.detail else "",
            note,
        )
        self.hub.write(client, [_encode(Result(id=request_id, data=data))])


class UserAdmin(Audited):
    """Answers the user requests of attached clients (store work on worker threads)."""

    def __init__(self, hub: Hub, store: Store, auth: Authenticator) -> None:
        super().__init__(hub, store)
        self.auth = auth

    async def answer(self, client: Client, message: AdminRequest) -> None:
        """Check, do, audit and answer one admin request."""
        action = ACTIONS[type(message)]
        entry = AdminEntry(
            at=time.time(),
            actor=client.user.name,
            peer=client.peer,
            action=action,
            target="" if isinstance(message, Users) else message.name,
            detail=_detail(message),
        )
        try:
            self._check(client, message, action)
            data, drop = await self._do(message, entry)
        except Refused as refused:
            # Refused before the store was asked: the refusal is recorded on its own.
            await self._record(entry, refused)
            self._refuse(client, message.id, entry, refused.code, refused.message)
            return
        except UserExists as exc:  # the name is taken (recorded by the store)
            self._refuse(client, message.id, entry, ErrorCode.CONFLICT, str(exc))
            return
        except ValueError as exc:  # the store refused the user (and recorded the refusal)
            self._refuse(client, message.id, entry, ErrorCode.BAD_ARGS, str(exc))
            return
        except LookupError as exc:  # no such user (recorded by the store)
            self._refuse(client, message.id, entry, ErrorCode.NOT_FOUND, str(exc))
            return
        except Exception:
            log.exception("admin %s by %s failed", action, client.user.name)
            await self._record(entry, Refused(ErrorCode.INTERNAL, "the store failed"))
            self._refuse(
                client, message.id, entry, ErrorCode.INTERNAL, "could not change the users"
            )
            return
        if isinstance(message, Users):
            note = f"{len(data['users'])} users"
        elif isinstance(message, CreateUser):
            note = "created"
        else:
            closed = 0
            if drop:
                # A revoked or re-keyed user's old token is dead, and a changed role or
                # jurisdiction applies from its next hello: its connections go, and the
                # cache forgets it (a hello with an old token now reads the store and is
                # refused), before anyone hears it is done.
                self.auth.forget(message.name)
                closed = self.hub.close_user(message.name)
            note = f"{closed} connection(s) of it closed"
        self._done(client, message.id, entry, data, note)

    def _check(self, client: Client, message: AdminRequest, action: str) -> None:
        role = client.user.role
        if role != "admin":
            raise Refused(ErrorCode.FORBIDDEN, f"role {role} may not {action}")
        if isinstance(message, UpdateUser | RevokeUser) and message.name == client.user.name:
            # It would cut off the very session asking; another admin or the CLI can.
            raise Refused(
                ErrorCode.FORBIDDEN,
                f"an admin may not {'update' if isinstance(message, UpdateUser) else 'revoke'}"
                " his own account here: another admin or `dispatch` on the server can",
            )

    async def _do(self, message: AdminRequest, entry: AdminEntry) -> tuple[dict[str, Any], bool]:
        """The answer's data, and whether the user's connections must go."""
        if isinstance(message, Users):
            accounts = await asyncio.to_thread(self._list, entry)
            return {"users": msgspec.to_builtins(accounts)}, False
        if isinstance(message, CreateUser):
            token = await asyncio.to_thread(
                self.store.create_user,
                message.name,
                message.role,
                message.streets,
                message.communities,
                audit=entry,
                words="wire",
                exists_ok=False,  # a taken name is refused: update_user changes a user
                display_name=message.display_name,
            )
            # Everyone sees the new name at once (the users poll would, within a second).
            self.hub.set_people(await asyncio.to_thread(self.store.people))
            return {"user": message.name, "token": token}, False
        if isinstance(message, UpdateUser):
            return await self._update(message, entry)
        found = await asyncio.to_thread(self.store.revoke_user, message.name, audit=entry)
        if not found:
            raise LookupError(f"no user {message.name}")
        return {"user": message.name}, True

    async def _update(self, message: UpdateUser, entry: AdminEntry) -> tuple[dict[str, Any], bool]:
        try:
            # The command line's checks of what is asked (dispatch update-user), then the
            # store's of the result: the same functions, with the fields' names.
            codes, kind, _ = check_update(
                message.role,
                message.streets,
                message.communities,
                message.whole_district,
                message.display_name,
                message.new_token,
                words="wire",
            )
        except ValueError as exc:
            raise Refused(ErrorCode.BAD_ARGS, str(exc)) from exc
        token = await asyncio.to_thread(
            self.store.update_user,
            message.name,
            message.role,
            codes,
            new_token=message.new_token,
            audit=entry,
            display_name=message.display_name,
            words="wire",
            kind=kind,
        )
        account, current = await asyncio.to_thread(self._read_user, message.name)
        if message.display_name is not None:
            self.hub.set_people(await asyncio.to_thread(self.store.people))
        data: dict[str, Any] = {
            "user": message.name,
            "role": account.role,
            "jurisdiction": account.jurisdiction,
            "display_name": account.display_name,
        }
        if token is not None:
            data["token"] = token
        # A new display name alone changes no one's authority: no connection closes for it.
        drop = any(c.user != current for c in self.hub.clients if c.user.name == message.name)
        return data, drop or token is not None

    def _read_user(self, name: str) -> tuple[Account, User | None]:
        """The user's account, and who it is to the server now (None: revoked)."""
        account = next(a for a in self.store.accounts() if a.name == name)
        current = next((u for u in self.store.users() if u.name == name), None)
        return account, current

    def _list(self, entry: AdminEntry) -> list[UserEntry]:
        """Every user, and the request's row in the admin log (a worker thread)."""
        accounts = self.store.accounts()
        self.store.record_admin(entry)
        return [
            UserEntry(a.name, a.role, a.jurisdiction, a.created_at, a.revoked, a.display_name)  # type: ignore[arg-type]
            for a in accounts
        ]


def _detail(message: AdminRequest) -> str:
    """What a request asked, for the admin log and its log line (no token ever)."""
    if isinstance(message, CreateUser):
        return user_detail(message.role, message.streets, message.communities, message.display_name)
    if isinstance(message, UpdateUser):
        try:
            return check_update(
                message.role,
                message.streets,
                message.communities,
                message.whole_district,
                message.display_name,
                message.new_token,
                words="wire",
            )[2]
        except ValueError:  # refused in _update: what was asked, as given
            asked = [f"role={message.role}"] if message.role else []
            asked += [f"streets={','.join(message.streets)}"] if message.streets else []
            asked += [f"communities={','.join(message.communities)}"] * bool(message.communities)
            asked += ["whole_district"] if message.whole_district else []
            return " ".join(asked)[:2000]
    return ""
