"""Which of a virtual loop's connections still expect data from outside the loop.

Virtual time may jump only when nothing real is about to happen. A connection to a server in
another thread or process is real: after a request goes out, the reply arrives in real time, so
the loop waits for it (clock frozen) instead of jumping to, say, the client's timeout. The rule:

- a request sent and no byte back yet: wait up to ``PATIENCE`` real seconds;
- bytes moved in the last ``GRACE`` real seconds: more may follow (a reply in several chunks),
  wait out the rest of the grace;
- a connection idle for longer, or whose peer is a socket of this same loop (an in-loop server
  that is itself waiting on virtual time), does not hold the clock.

So a local server that answers within ``PATIENCE`` gives the same virtual outcome on an idle and
on a loaded machine; only a peer that is silent for more than ``GRACE`` in mid-reply could race
with a timer. No library tracks this (it needs to see every socket operation of the loop's
thread), so ``detect`` feeds it from its socket patches.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["GRACE", "PATIENCE", "Traffic"]

#: Real seconds to wait for the first byte of a reply from outside the loop.
PATIENCE = 30.0
#: Real seconds a connection counts as busy after bytes last moved on it.
GRACE = 0.25
_IP = (socket.AF_INET, socket.AF_INET6)


@dataclass
class _Connection:
    peer: Any
    sent: float = 0.0
    received: float = 0.0


class Traffic:
    """The loop thread's connections and when bytes last moved on each."""

    def __init__(self) -> None:
        self._connections: dict[int, _Connection] = {}
        self._own: set[Any] = set()  # addresses of this loop's own sockets

    def __repr__(self) -> str:
        return f"<Traffic connections={len(self._connections)} wait={self.wait():.3g}>"

    def moved(self, sock: socket.socket, *, sent: bool, peer: Any = None) -> None:
        """Bytes were sent (or a connection started) or received on ``sock``."""
        if sock.family not in _IP or sock.type != socket.SOCK_STREAM:
            return  # the loop's own wake-up socketpair, UDP, ...
        try:
            fd, own = sock.fileno(), sock.getsockname()
            if isinstance(own, tuple) and own[1]:
                self._own.add(own)
            conn = self._connections.get(fd)
            if conn is None or peer is not None:
                conn = self._connections[fd] = _Connection(peer or sock.getpeername())
        except (OSError, TypeError):  # not connected (UDP, listening) or not an IP socket
            return
        if sent:
            conn.sent = time.monotonic()
        else:
            conn.received = time.monotonic()

    def closed(self, sock: socket.socket) -> None:
        """``sock`` is being closed: it expects nothing any more."""
        self._connections.pop(sock.fileno(), None)

    def wait(self) -> float:
        """Real seconds to wait for data from outside before virtual time may jump (0: none)."""
        now, longest = time.monotonic(), 0.0
        for conn in self._connections.values():
            if conn.peer in self._own:
                continue
            if conn.sent > conn.received:
                longest = max(longest, conn.sent + PATIENCE - now)
            else:
                longest = max(longest, max(conn.sent, conn.received) + GRACE - now)
        return longest
