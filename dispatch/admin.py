"""The admin requests: list users, create (or re-key) one, revoke one; each one audited.

Only role admin may use them. Every request that gets past the rate limit leaves a row in the
admin log (done or refused) and an INFO line; neither ever holds a token, which appears only
in the create_user answer. A user revoked or re-keyed here loses every open connection at
once (close 4004) and its cached tokens with them, so an old token opens nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

import msgspec

from dispatch.handshake import Authenticator
from dispatch.hub import Client, Hub
from dispatch.store.store import AdminEntry, Store, user_detail
from protocol.codes import ErrorCode
from protocol.messages import CreateUser, Error, Result, RevokeUser, UserEntry, Users

log = logging.getLogger("dispatch.admin")
_encode = msgspec.json.Encoder().encode

AdminRequest = Users | CreateUser | RevokeUser
ACTIONS: dict[type[AdminRequest], str] = {
    Users: "users",
    CreateUser: "create_user",
    RevokeUser: "revoke_user",
}


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
        try:
            await asyncio.to_thread(self.store.record_admin, refusal)
        except Exception:
            log.exception("could not record a refused %s by %s", entry.action, entry.actor)

    def _refuse(
        self, client: Client, request_id: int, entry: AdminEntry, code: str, message: str
    ) -> None:
        log.info(
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
            detail=(
                user_detail(
                    message.role, message.streets, message.communities, message.display_name
                )
                if isinstance(message, CreateUser)
                else ""
            ),
        )
        try:
            self._check(client, message, action)
            data = await self._do(message, entry)
        except Refused as refused:
            # Refused before the store was asked: the refusal is recorded on its own.
            await self._record(entry, refused)
            self._refuse(client, message.id, entry, refused.code, refused.message)
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
        if not isinstance(message, Users):
            # The old token is dead: its connections go, and the cache forgets it (a hello
            # with it now reads the store and is refused), before anyone hears it is done.
            self.auth.forget(message.name)
            closed = self.hub.close_user(message.name)
            entry_text = f"{closed} connection(s) of it closed"
        else:
            entry_text = f"{len(data['users'])} users"
        self._done(client, message.id, entry, data, entry_text)

    def _check(self, client: Client, message: AdminRequest, action: str) -> None:
        role = client.user.role
        if role != "admin":
            raise Refused(ErrorCode.FORBIDDEN, f"role {role} may not {action}")
        if not isinstance(message, Users) and message.name == client.user.name:
            # It would cut off the very session asking; another admin or the CLI can.
            raise Refused(
                ErrorCode.FORBIDDEN,
                f"an admin may not {'re-key' if isinstance(message, CreateUser) else 'revoke'}"
                " his own account here: another admin or `dispatch` on the server can",
            )

    async def _do(self, message: AdminRequest, entry: AdminEntry) -> dict[str, Any]:
        if isinstance(message, Users):
            accounts = await asyncio.to_thread(self._list, entry)
            return {"users": msgspec.to_builtins(accounts)}
        if isinstance(message, CreateUser):
            token = await asyncio.to_thread(
                self.store.create_user,
                message.name,
                message.role,
                message.streets,
                message.communities,
                audit=entry,
                words="wire",
                display_name=message.display_name or None,  # none given: kept on a re-key
            )
            # Everyone sees the new name at once (the users poll would, within a second).
            self.hub.set_people(await asyncio.to_thread(self.store.people))
            return {"user": message.name, "token": token}
        found = await asyncio.to_thread(self.store.revoke_user, message.name, audit=entry)
        if not found:
            raise LookupError(f"no user {message.name}")
        return {"user": message.name}

    def _list(self, entry: AdminEntry) -> list[UserEntry]:
        """Every user, and the request's row in the admin log (a worker thread)."""
        accounts = self.store.accounts()
        self.store.record_admin(entry)
        return [
            UserEntry(a.name, a.role, a.jurisdiction, a.created_at, a.revoked, a.display_name)  # type: ignore[arg-type]
            for a in accounts
        ]
