"""Reader processes (``importing/pipeline.py``): items come back in input order whatever the number of
readers, errors arrive after every earlier item, each reader's final state is kept, and stopping early
leaves no process behind."""

from __future__ import annotations

import gc
import os
from collections.abc import Generator

import pytest

from passerelles.importing.pipeline import CHUNK_END, CHUNKED, GC_YOUNG, STREAM_END, auto_workers, sharded
from passerelles.importing.report import ImportRefused
from passerelles.settings import Settings


def numbers(limit: int, fail_at: int | None = None):  # type: ignore[no-untyped-def]
    """A reader of ``limit`` records; each shard yields (record, process id) for its own records."""

    def produce(shard: int, shards: int) -> Generator[tuple[int, int], None, dict[str, int]]:
        own = 0
        for i in range(limit):
            if i == fail_at:
                raise ImportRefused(f"refus à l'enregistrement {i}")
            if i % shards == shard:
                own += 1
                yield i, os.getpid()
        return {"shard": shard, "own": own}

    return produce


@pytest.mark.parametrize("workers", [0, 1, 2, 3])
def test_items_come_back_in_input_order(workers: int) -> None:
    items = sharded(numbers(1000), workers, chunk=7)
    got = list(items)
    assert [i for i, _ in got] == list(range(1000))
    shards = max(workers, 1)
    assert items.states == [{"shard": k, "own": len(range(k, 1000, shards))} for k in range(shards)]
    pids = {pid for _, pid in got}
    if workers == 0:
        assert pids == {os.getpid()}
    else:
        assert len(pids) == workers and os.getpid() not in pids


@pytest.mark.parametrize("limit", [0, 1, 2, 5])
def test_fewer_records_than_readers(limit: int) -> None:
    items = sharded(numbers(limit), 3, chunk=2)
    assert [i for i, _ in items] == list(range(limit))
    assert [s["own"] for s in items.states] == [len(range(k, limit, 3)) for k in range(3)]


@pytest.mark.parametrize("workers", [0, 2])
def test_an_error_comes_after_every_earlier_item(workers: int) -> None:
    got: list[int] = []
    with pytest.raises(ImportRefused, match="refus à l'enregistrement 7"):
        for i, _ in sharded(numbers(100, fail_at=7), workers, chunk=3):
            got.append(i)
    assert got == list(range(7))


def test_stopping_early_ends_the_readers() -> None:
    items = iter(sharded(numbers(1_000_000), 2, chunk=50))
    first = [next(items) for _ in range(10)]
    readers = {pid for _, pid in first}
    items.close()  # type: ignore[attr-defined]
    for pid in readers:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: nothing left running


def test_workers_by_size_or_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # The number is a setting (Settings.import_workers), passed down by the commands.
    monkeypatch.delenv("PASSERELLES_IMPORT_WORKERS", raising=False)
    assert auto_workers(1024, Settings().import_workers) == 0
    assert auto_workers(1 << 30, Settings().import_workers) == (2 if (os.cpu_count() or 1) >= 2 else 0)
    monkeypatch.setenv("PASSERELLES_IMPORT_WORKERS", "3")
    assert auto_workers(1024, Settings().import_workers) == 3
    monkeypatch.setenv("PASSERELLES_IMPORT_WORKERS", "beaucoup")
    with pytest.raises(ValueError, match="PASSERELLES_IMPORT_WORKERS"):
        auto_workers(1024, Settings().import_workers)


@pytest.mark.parametrize("workers", [0, 2])
def test_collector_restored_after_an_import(workers: int) -> None:
    before = (gc.get_threshold(), gc.get_freeze_count())
    items = iter(sharded(numbers(100), workers, chunk=10))
    next(items)
    assert gc.get_threshold()[0] >= GC_YOUNG  # collected less often while reading
    assert gc.get_freeze_count() > 0  # what was alive before is left out of the collections
    assert [n for n, _ in items] == list(range(1, 100))
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_collector_restored_by_the_last_of_two_imports() -> None:
    before = gc.get_threshold()
    first = iter(sharded(numbers(10), 0))
    second = iter(sharded(numbers(10), 0))
    next(first)
    next(second)
    list(first)
    assert gc.get_threshold()[0] >= GC_YOUNG  # the second one is still reading
    list(second)
    assert gc.get_threshold() == before


def chunked(sizes: list[int], broken_at: tuple[int, int] | None = None, fail_at: tuple[int, int] | None = None):  # type: ignore[no-untyped-def]
    """A reader of chunks of ``sizes[j]`` records; shard ``k`` reads chunk ``j`` when ``j % shards == k``.
    ``broken_at`` (chunk, record): the input ends there (STREAM_END); ``fail_at``: an error there."""

    def produce(shard: int, shards: int) -> Generator[object, None, dict[str, int]]:
        yield CHUNKED
        first = 0
        for j, size in enumerate(sizes):
            if j % shards == shard:
                for r in range(size):
                    if (j, r) == broken_at:
                        yield STREAM_END
                        return {"shard": shard, "broken": j}
                    if (j, r) == fail_at:
                        raise ImportRefused(f"refus dans le bloc {j}")
                    yield first + r
                yield CHUNK_END
            first += size
        return {"shard": shard, "broken": -1}

    return produce


@pytest.mark.parametrize("workers", [0, 1, 2, 3])
def test_chunks_come_back_in_input_order(workers: int) -> None:
    sizes = [3, 0, 5, 1, 1, 7, 2, 4, 4]
    items = sharded(chunked(sizes), workers)
    assert list(items) == list(range(sum(sizes)))
    assert items.count == sum(sizes)
    assert items.states[items.ended_by]["broken"] == -1


@pytest.mark.parametrize("workers", [0, 2, 3])
def test_a_broken_chunk_ends_the_input_for_every_reader(workers: int) -> None:
    sizes = [4, 4, 4, 4, 4, 4]
    items = sharded(chunked(sizes, broken_at=(2, 1)), workers)
    # Chunks 3, 4, 5 were read by other readers, in parallel: none of their records come out.
    assert list(items) == list(range(9))
    assert items.count == 9
    assert items.states[items.ended_by] == {"shard": 2 % max(workers, 1), "broken": 2}


@pytest.mark.parametrize("workers", [0, 2])
def test_an_error_in_a_chunk_comes_after_every_earlier_record(workers: int) -> None:
    got: list[int] = []
    with pytest.raises(ImportRefused, match="refus dans le bloc 3"):
        for i in sharded(chunked([2, 2, 2, 2, 2], fail_at=(3, 1)), workers):
            got.append(i)
    assert got == list(range(7))
