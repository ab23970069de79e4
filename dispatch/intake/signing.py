"""The HMAC-SHA256 request signature of the intake peers, both ways (their pushes to us, our
feedback to them), and the replay guard (timestamp window + nonce).

    X-TG-Peer:       the peer's name (whose key signs)
    X-TG-Timestamp:  Unix seconds of the signing
    X-TG-Nonce:      16-64 characters [A-Za-z0-9_-], new for every request
    X-TG-Signature:  hex HMAC-SHA256(key, "{timestamp}\\n{nonce}\\n{METHOD}\\n{path}\\n" + body)

No published 12345 wire format exists (../shared/intake/README.md §3.2): this is ours.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict

PEER = "x-tg-peer"
TIMESTAMP = "x-tg-timestamp"
NONCE = "x-tg-nonce"
SIGNATURE = "x-tg-signature"
# How far a request's timestamp may be from our clock, either way.
WINDOW = 300.0
_NONCE_RE = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")
_SIGNATURE_RE = re.compile(r"\A[0-9a-f]{64}\Z")


class SignatureError(Exception):
    """A request whose signature cannot be accepted: `reason` is the short code answered."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


def signature(key: bytes, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    """The hex signature of a request."""
    head = f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode()
    return hmac.new(key, head + body, hashlib.sha256).hexdigest()


def sign(
    key: bytes, peer: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers that sign a request as `peer`."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(18)
    return {
        PEER: peer,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        SIGNATURE: signature(key, timestamp, nonce, method, path, body),
    }


class ReplayGuard:
    """Nonces seen within the window, per peer; thread-safe, bounded.

    Held in memory: after a restart a request replayed within the window passes this
    guard, and the intake's own idempotency (工单编号) still makes it create nothing twice.
    """

    def __init__(self, window: float = WINDOW, capacity: int = 1_000_000) -> None:
        self.window = window
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, peer: str, nonce: str, stamp: float, now: float) -> None:
        """Raise SignatureError when `stamp` is outside the window or the nonce was seen."""
        if abs(now - stamp) > self.window:
            off = now - stamp
            when = f"{int(off)} s old" if off > 0 else f"{int(-off)} s ahead of our clock"
            raise SignatureError(
                "stale_timestamp",
                f"timestamp {stamp:.0f} is {when} (allowed ±{self.window:.0f} s)",
            )
        key = (peer, nonce)
        with self._lock:
            while self._seen:
                oldest_key, oldest = next(iter(self._seen.items()))
                if now - oldest <= 2 * self.window and len(self._seen) < self.capacity:
                    break
                del self._seen[oldest_key]
            if key in self._seen:
                raise SignatureError("replayed", f"nonce {nonce} was used already", 409)
            self._seen[key] = now


def verify(
    keys: dict[str, bytes],
    headers: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    guard: ReplayGuard,
    now: float | None = None,
) -> str:
    """The peer whose valid, fresh signature `headers` carry (lower-case names); raise
    SignatureError (with the reason) otherwise. The nonce is spent only once all else passed."""
    peer = headers.get(PEER, "")
    if not peer:
        raise SignatureError("unsigned", f"missing header {PEER}")
    key = keys.get(peer)
    if key is None:
        raise SignatureError("unknown_peer", f"unknown peer {peer[:64]!r}", 403)
    missing = [h for h in (TIMESTAMP, NONCE, SIGNATURE) if not headers.get(h)]
    if missing:
        raise SignatureError("unsigned", f"missing header(s) {', '.join(missing)}")
    timestamp, nonce, given = headers[TIMESTAMP], headers[NONCE], headers[SIGNATURE].lower()
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad_signature", f"{TIMESTAMP} must be Unix seconds")
    if not _NONCE_RE.match(nonce):
        raise SignatureError("bad_signature", f"{NONCE} must be 16-64 of [A-Za-z0-9_-]")
    if not _SIGNATURE_RE.match(given):
        raise SignatureError("bad_signature", f"{SIGNATURE} must be 64 hex digits")
    expected = signature(key, timestamp, nonce, method, path, body)
    if not hmac.compare_digest(expected, given):
        raise SignatureError("bad_signature", "the signature does not match the request")
    guard.check(peer, nonce, float(timestamp), time.time() if now is None else now)
    return peer
