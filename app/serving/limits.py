"""What one client can cost the server: the body's read time, and the bytes held at once.

A prediction request's memory is its body times a small factor (the decoded JSON, the
columns, the frame), held from the first byte read until the answer is sent. So the server
bounds the *bytes of bodies in flight*: a request reserves its ``Content-Length`` (or the
body cap, when it sends none) from a ``ByteBudget`` before its body is read, waits in line
up to ``queue_seconds`` when the budget is spent, and is refused with 503 and
``Retry-After`` past that. Until it is let in, its body stays in the socket: uvicorn stops
reading a connection whose request body the app has not asked for (flow control), so a
waiting request costs a few kilobytes, not its size.

A body that does not arrive in time (a slow or stalled client holding a reservation and a
connection) is answered 408 and the connection closed. "In time" is Apache mod_reqtimeout's
rule (``body=T,MinRate=R``): ``body_timeout_s``, plus one second for every ``MIN_RATE``
bytes received, so a large body on a busy server is not cut while a client trickling bytes
(slowloris) is.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import RequestError

Receive = Callable[[], Awaitable[dict[str, Any]]]
CLOSE = {"connection": "close"}  # the rest of the body is not read: the connection ends
MIN_RATE = 256 * 1024  # bytes per second that earn a body more time


class ByteBudget:
    """A semaphore counted in bytes, first come first served (a large body is not starved)."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = max(1, int(limit))
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self.peak = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def acquire(self, size: int) -> int:
        """Reserve ``size`` bytes (at most the whole budget); returns what to release."""
        size = min(max(0, size), self.limit)
        if not self._waiters and self.in_use + size <= self.limit:
            self._take(size)
            return size
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((size, future))
        granted = False
        try:
            await asyncio.wait({future}, timeout=self.wait_seconds)
            granted = future.done()
        finally:
            if not granted:
                if future.done() and not future.cancelled():
                    self.release(size)  # let in just as the caller went away
                else:
                    future.cancel()
                    self._wake()  # it left the line: the ones behind it may fit now
        if not granted:
            retry = max(1, math.ceil(self.wait_seconds))
            raise RequestError(
                503,
                f"The server is busy: {self.in_use:,} bytes of requests are being worked on, "
                f"its limit is {self.limit:,}. Retry in {retry} s, or send fewer rows per "
                "request.",
                headers={"retry-after": str(retry), **CLOSE},
            )
        return size

    def release(self, size: int) -> None:
        self.in_use -= size
        self._wake()

    def _take(self, size: int) -> None:
        self.in_use += size
        self.peak = max(self.peak, self.in_use)

    def _wake(self) -> None:
        while self._waiters:
            size, future = self._waiters[0]
            if future.done():
                self._waiters.popleft()
                continue
            if self.in_use + size > self.limit:
                return
            self._waiters.popleft()
            self._take(size)
            future.set_result(None)


async def read_body(receive: Receive, *, max_body: int, timeout: float) -> bytes:
    """The whole body in time (``timeout`` s, plus 1 s per ``MIN_RATE`` bytes received); over
    the cap is a 413 even without a Content-Length; too slow is a 408."""
    chunks, size = [], 0
    start = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout_at(start + timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestError(400, "The client went away before sending the whole body.")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_body:
                    raise RequestError(
                        413,
                        f"The request body is over this server's cap of {max_body:,} bytes.",
                        headers=CLOSE,
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
                deadline.reschedule(start + timeout + size / MIN_RATE)
    except TimeoutError:
        raise RequestError(
            408,
            f"The request body did not arrive within {timeout + size / MIN_RATE:.3g} s "
            f"({size:,} bytes came). "
            "Send it faster, or raise the server's body timeout.",
            headers=CLOSE,
        ) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
