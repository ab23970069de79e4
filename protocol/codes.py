"""Error codes carried by `error` messages and websocket close codes; both are documented."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ErrorCode(StrEnum):
    """Why a single request failed; the connection stays up after any of these."""

    BAD_MESSAGE = "bad_message"  # not JSON, unknown type, missing/unknown field, wrong type
    BAD_ID = "bad_id"  # request id not strictly greater than the previous one
    UNKNOWN_OP = "unknown_op"  # command op not in the registry
    BAD_ARGS = "bad_args"  # command args fail the op's schema
    FORBIDDEN = "forbidden"  # role or jurisdiction does not allow it
    NOT_FOUND = "not_found"  # the event/alert named does not exist (for this user)
    ILLEGAL_TRANSITION = "illegal_transition"  # workflow refuses the step in this state
    # The role may, but not this person on this case: the handler verifying or closing his
    # own work, a requester deciding his own extension or hold.
    SEPARATION_OF_DUTIES = "separation_of_duties"
    # command_id reused with different op/args; create_user of a name that is taken
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"  # too many commands; retry later with the same command_id
    INTERNAL = "internal"  # a server fault; nothing was applied
    # Sent to a standby or a gateway, which only read: nothing was applied; the error's
    # `writer` says where the writer serves (if known): send it there, same command_id.
    NOT_WRITER = "not_writer"


class CloseCode(IntEnum):
    """Websocket close codes the server uses; 4xxx are Tongguan's own."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect and resume
    # Sent by the websocket layer: a frame that breaks RFC 6455 (reserved bits set, unmasked,
    # an unknown opcode...), and a text frame whose payload is not UTF-8.
    PROTOCOL_ERROR = 1002
    INVALID_DATA = 1007
    MESSAGE_TOO_BIG = 1009  # frame over the size limit
    # The backend stops because its writer did (a commit whose outcome is unknown, the
    # database gone past its grace, a full disk): it exits for a supervisor to start it
    # again, which reloads from the database. Reconnect with back-off and resume.
    SERVICE_RESTART = 1012
    PROTOCOL_VIOLATION = 4000  # first message was not a valid hello, or a server-only type sent
    AUTH_FAILED = 4001  # unknown, revoked or malformed token
    HANDSHAKE_TIMEOUT = 4002  # no hello within the handshake window
    UNSUPPORTED_VERSION = 4003  # hello.protocol is not spoken by this server
    # The user was revoked or re-keyed (update_user new_token): its token is dead; sign in
    # again with a new one. Never resumable: the same token would be refused (4001).
    # Also when its role or jurisdiction changed (`dispatch update-user`): sign in again, with
    # the same token if it was kept, and start from a snapshot.
    CREDENTIALS_CHANGED = 4004
    # The user has as many connections open as the server allows one user: back off, retry.
    TOO_MANY_CONNECTIONS = 4005
    SERVER_FULL = 4006  # the server has as many connections as it takes: back off, retry
    TOO_SLOW = 4008  # client did not keep up with its queue: reconnect and resume


# Close codes after which a client should reconnect (after 4005 and 4006 with a back-off of
# some seconds) and send hello.resume.
RESUMABLE_CLOSE_CODES = frozenset(
    {
        CloseCode.GOING_AWAY,
        CloseCode.TOO_MANY_CONNECTIONS,
        CloseCode.SERVER_FULL,
        CloseCode.TOO_SLOW,
        1006,
        1011,
        CloseCode.SERVICE_RESTART,
    }
)
