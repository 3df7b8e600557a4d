"""Read in other processes while this one loads: the read → validate stage of an importer, sharded.

An importer's ``read`` stage (parse, check, normalise: pure Python, CPU-bound) costs more than its
``load`` stage, and one process uses one core. :func:`sharded` runs ``produce(shard, shards)`` in
``workers`` forked child processes: each reads the whole input but does the costly work only for its own
records (record ``i`` belongs to shard ``i % shards``) and yields exactly one item per own record, in order.
This process merges the items round-robin, which restores the input's order exactly, and loads them. The
result is the same, item for item, as ``produce(0, 1)`` run here (``workers=0``, what small inputs do).

What stays true:

- **Order and determinism**: the merge is by record number, so rejects, duplicates (first occurrence
  wins) and batches come out exactly as in one process.
- **Bounded memory**: a child blocks when the pipe is full (a few chunks of ``chunk`` items ahead).
- **Interruption**: the children only read; every write is this process's, one transaction per batch.
  If this process is killed (even ``kill -9``), a child's next write to the pipe fails and it exits;
  if the load fails, the children are terminated.
- **Errors** raised by ``produce`` (:class:`ImportRefused`…) are re-raised here at the record where they
  happened, after every earlier item.

**Chunks.** A ``produce`` that can skip other shards' records without parsing them (an XML file cut at
record boundaries, :mod:`passerelles.importing.xmlchunks`) yields :data:`CHUNKED` first, then its own
chunks' items, each chunk's followed by :data:`CHUNK_END` (chunk ``j`` belongs to shard ``j % shards``):
the merge then goes round-robin chunk by chunk instead of record by record. :data:`STREAM_END` after
some items of a chunk says that the input ends there (broken): no later chunk is taken from any shard.

Children are forked (Linux): they inherit the reference data already loaded (communes, codes) without
copying it, and never touch the database connections they inherit (they exit with ``os._exit``).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")

Produce = Callable[[int, int], Generator[T, None, S]]

AUTO_MIN_BYTES = 16 * 1024 * 1024  # below this, forking costs more than it saves
QUEUED_CHUNKS = 8  # per reader process: how far ahead of the loading it may run
GC_YOUNG = 20_000  # allocations between two collections of the youngest generation (Python's default: 700)


def auto_workers(size: int, forced: int | None = None) -> int:
    """Reader processes for an input of ``size`` bytes: two on a machine with several cores, else none;
    ``forced`` (the ``import_workers`` setting, 0 for none) decides instead when it is given."""
    fork = "fork" in multiprocessing.get_all_start_methods()
    if forced is not None:
        return forced if fork else 0
    if size < AUTO_MIN_BYTES or (os.cpu_count() or 1) < 2 or not fork:
        return 0
    return 2


class _Ended:
    pass


class Marker:
    """A signal from ``produce`` to the merge (never an item)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


CHUNKED = Marker("chunked")  # this shard yields whole chunks, see the module's docstring
CHUNK_END = Marker("chunk end")  # the items of one chunk were all yielded
STREAM_END = Marker("stream end")  # the input ends inside this chunk: nothing after is read


_gc_lock = threading.RLock()  # reentrant: a generator abandoned inside the block may be finalised there
_gc_users = 0  # imports inside quiet_gc (threads of one process): the first one in sets, the last one out restores
_gc_saved: tuple[tuple[int, int, int], bool] = ((700, 10, 10), False)


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Fewer, cheaper cyclic garbage collections while importing.

    Reading makes and drops many small containers (a record's nodes and dicts), and each pass of the
    collector also walks every object alive before (reference data, caches): it took about 15 % of a
    reader's CPU. The objects alive on entry are frozen out of the collector (:func:`gc.freeze`, which also
    spares a forked reader the copy of the pages it would touch), unless something else froze objects
    already, and the youngest generation is collected less often. Both are undone when the last import
    running in the process ends."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            threshold = gc.get_threshold()
            freeze = gc.get_freeze_count() == 0
            _gc_saved = (threshold, freeze)
            if freeze:
                gc.freeze()
            gc.set_threshold(max(threshold[0], GC_YOUNG), *threshold[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                threshold, froze = _gc_saved
                gc.set_threshold(*threshold)
                if froze:
                    gc.unfreeze()


def _child(
    produce: Produce[Any, Any], shard: int, shards: int, conn: Connection, chunk: int, inherited: list[Connection]
) -> None:
    # The reading ends of the pipes (this reader's and the earlier readers') came with the fork: closed here,
    # so that once the parent is gone (kill -9) no process holds them and the next write fails. Else this
    # reader would wait forever on a full pipe, keeping the parent's database connection (inherited too) and
    # its transaction's locks alive.
    for end in inherited:
        with contextlib.suppress(OSError):  # closed by the parent's receiving thread while forking
            end.close()
    buffer: list[Any] = []
    chunked = False
    gc.freeze()  # what the parent held at the fork: never garbage here, never scanned here
    try:
        gen = produce(shard, shards)
        try:
            while True:
                item = next(gen)
                if type(item) is Marker:
                    if item is CHUNKED:
                        chunked = True
                    else:
                        conn.send(("chunk" if item is CHUNK_END else "last", buffer))
                        buffer = []
                    continue
                buffer.append(item)
                if not chunked and len(buffer) >= chunk:
                    conn.send(("items", buffer))
                    buffer = []
        except StopIteration as stop:
            if not chunked or buffer:
                conn.send(("last" if chunked else "items", buffer))
            conn.send(("end", stop.value))
        except Exception as exc:  # re-raised in the parent, in order
            conn.send(("last" if chunked else "items", buffer))
            try:
                conn.send(("error", exc))
            except Exception:  # an exception that does not pickle
                conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone: nothing to do but stop
    finally:
        conn.close()


class Sharded(Generic[T, S]):
    """Iterate over the merged items; afterwards :attr:`states` holds each shard's return value."""

    def __init__(self, produce: Produce[T, S], workers: int, chunk: int = 256) -> None:
        self.produce = produce
        self.workers = workers
        self.chunk = chunk
        self.states: list[S] = []
        self.ended_by = 0  # the shard whose state tells how the input ended
        self.count = 0  # items yielded

    def __iter__(self) -> Generator[T, None, None]:
        with quiet_gc():
            if self.workers <= 0:
                gen = self.produce(0, 1)
                while True:
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        self.states = [stop.value]
                        return
                    if type(item) is not Marker:
                        self.count += 1
                        yield item
            yield from self._merged()

    def _merged(self) -> Iterator[T]:
        ctx = multiprocessing.get_context("fork")
        n = self.workers
        stop = threading.Event()
        queues: list[queue.Queue[tuple[str, Any]]] = []
        procs: list[Any] = []
        threads: list[threading.Thread] = []
        receiving: list[Connection] = []
        # The receiving threads wait for the GIL after each read from their pipe: with the default 5 ms
        # switch interval they would hold the children up far more than reading costs.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, 0.0005))
        try:
            for shard in range(n):
                recv, send = ctx.Pipe(duplex=False)
                receiving.append(recv)
                _widen(send)
                proc = ctx.Process(
                    target=_child,
                    args=(self.produce, shard, n, send, self.chunk, list(receiving)),
                    daemon=True,
                    name=f"reader-{shard}",
                )
                proc.start()
                send.close()
                procs.append(proc)
                # A thread per child empties its pipe into a small queue, so that the child keeps reading
                # while this process writes a batch (a pipe alone holds less than one chunk).
                q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=QUEUED_CHUNKS)
                thread = threading.Thread(target=_receive, args=(recv, q, stop), daemon=True)
                thread.start()
                queues.append(q)
                threads.append(thread)
            pending: list[list[Any]] = [[] for _ in range(n)]
            positions = [0] * n
            states: list[Any] = [_Ended] * n
            shard = 0
            while True:
                if positions[shard] >= len(pending[shard]):
                    kind, payload = queues[shard].get()
                    if kind == "items":
                        pending[shard], positions[shard] = payload, 0
                        continue
                    if kind in ("chunk", "last"):
                        self.count += len(payload)
                        yield from payload
                        if kind == "chunk":
                            shard = (shard + 1) % n
                            continue
                        # The input ended in this chunk: what the other shards read after it is dropped.
                        kind, payload = queues[shard].get()
                        if kind == "error":
                            raise payload
                        states[shard] = payload
                        self.states, self.ended_by = states, shard
                        return
                    if kind == "error":
                        raise payload
                    # This shard has no record left, so neither has any other: collect their states.
                    states[shard] = payload
                    for other in range(n):
                        while states[other] is _Ended:
                            kind, payload = queues[other].get()
                            if kind == "error":
                                raise payload
                            if kind == "end":
                                states[other] = payload
                            elif payload[positions[other] :] if other == shard else payload:
                                raise RuntimeError("lecteurs parallèles désaccordés : enregistrements en trop")
                    self.states, self.ended_by = states, shard
                    return
                item = pending[shard][positions[shard]]
                positions[shard] += 1
                self.count += 1
                yield item
                shard = (shard + 1) % n
        finally:
            sys.setswitchinterval(interval)
            stop.set()
            for proc in procs:
                proc.join(timeout=0.2)
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
            for thread in threads:
                thread.join()
            for recv in receiving:
                recv.close()


def _widen(conn: Connection) -> None:
    """A 1 MiB pipe instead of 64 KiB (Linux ``F_SETPIPE_SZ``): fewer reads per message, fewer waits."""
    # On another system, or over /proc/sys/fs/pipe-max-size, the default size works too.
    with contextlib.suppress(OSError):
        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)


def _receive(conn: Connection, q: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    # The pipe is closed by _merged once every reader is started and this thread is done: closed here, its
    # descriptor could be reused by a pipe made for the next reader before that reader's fork, and the
    # reader would close it as one of the ends it inherited.
    while not stop.is_set():
        try:
            message: tuple[str, Any] = conn.recv()
        except (EOFError, OSError):
            message = ("error", RuntimeError("processus de lecture interrompu"))
        while True:
            try:
                q.put(message, timeout=0.1)
                break
            except queue.Full:
                if stop.is_set():
                    return
        if message[0] in ("end", "error"):
            return


def sharded(produce: Produce[T, S], workers: int, chunk: int = 256) -> Sharded[T, S]:
    """The items of ``produce(0, 1)``, computed by ``workers`` child processes (none: here)."""
    return Sharded(produce, workers, chunk)
