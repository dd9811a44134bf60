"""Adaptive micro-batching: concurrent requests share one predict call.

Requests are put on an asyncio queue; one coroutine takes what is queued (up to the maximum
batch size, in rows) and runs the predict on a single worker thread, so the event loop keeps
parsing the next requests meanwhile — that is where batches come from under load. A request
that arrives alone is predicted at once: the batcher only waits (up to ``max_wait_ms``) while
other requests are still being read and parsed, so batching never taxes an idle server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .parsing import Piece
from .predictor import BatchResult, PieceResult


@dataclass
class _Item:
    piece: Piece
    future: asyncio.Future[PieceResult]
    extra: Any = None


@dataclass
class BatchStats:
    batches: int = 0
    rows: int = 0
    largest: int = 0


class MicroBatcher:
    def __init__(
        self,
        predict: Callable[[list[Piece]], BatchResult],
        *,
        max_batch: int = 128,
        max_wait_ms: float = 2.0,
        after_batch: Callable[[list[Piece], list[Any], BatchResult, float], None] | None = None,
    ) -> None:
        self._predict = predict
        self.max_batch = max(1, int(max_batch))
        self.max_wait = max(0.0, float(max_wait_ms)) / 1000.0
        self._after_batch = after_batch
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._carry: _Item | None = None
        self._task: asyncio.Task[None] | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="predict")
        self._post = ThreadPoolExecutor(1, thread_name_prefix="predict-log")
        self.arriving = 0  # requests being read or parsed: more rows are about to come
        self.stats = BatchStats()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish what is queued, then stop the worker threads (post-batch work included)."""
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._worker.shutdown(wait=True)
        self._post.shutdown(wait=True)

    async def submit(self, piece: Piece, extra: Any = None) -> PieceResult:
        future: asyncio.Future[PieceResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(piece, future, extra))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = self._carry or await self._queue.get()
            self._carry = None
            if first is None:
                return
            batch, stop_after = self._gather(first)
            if (
                not stop_after
                and self.max_wait
                and self.arriving
                and self._rows(batch) < self.max_batch
            ):
                stop_after = await self._wait_for_more(batch, loop.time() + self.max_wait)
            await self._execute(loop, batch)
            if stop_after:
                await self._drain_rest(loop)
                return

    def _rows(self, batch: list[_Item]) -> int:
        return sum(i.piece.n for i in batch)

    def _gather(self, first: _Item) -> tuple[list[_Item], bool]:
        batch, rows = [first], first.piece.n
        while rows < self.max_batch and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                return batch, True
            if rows + item.piece.n > self.max_batch:
                self._carry = item
                break
            batch.append(item)
            rows += item.piece.n
        return batch, False

    async def _wait_for_more(self, batch: list[_Item], deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        rows = self._rows(batch)
        while rows < self.max_batch and self.arriving and self._carry is None:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                break
            if item is None:
                return True
            if rows + item.piece.n > self.max_batch:
                self._carry = item
                break
            batch.append(item)
            rows += item.piece.n
        return False

    async def _drain_rest(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                await self._execute(loop, [item])

    async def _execute(self, loop: asyncio.AbstractEventLoop, batch: list[_Item]) -> None:
        pieces = [i.piece for i in batch]
        started = loop.time()
        try:
            result = await loop.run_in_executor(self._worker, self._predict, pieces)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            for item in batch:  # one bad request must not fail the others it was batched with
                await self._execute(loop, [item])
            return
        seconds = loop.time() - started
        start = 0
        for item in batch:
            stop = start + item.piece.n
            if not item.future.done():  # the client may have gone away
                item.future.set_result(result.slice(start, stop))
            start = stop
        rows = start
        self.stats.batches += 1
        self.stats.rows += rows
        self.stats.largest = max(self.stats.largest, rows)
        if self._after_batch is not None:
            self._post.submit(self._after_batch, pieces, [i.extra for i in batch], result, seconds)
