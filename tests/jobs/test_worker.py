"""The worker on each database: bounded concurrency, retries, unknown kinds, periodic work, run/stop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from tests.support.stack import Stack
from tongbao.container import Container
from tongbao.jobs import queue
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.worker import Handler, Periodic, RetryAt, Worker

from .rows import add as add_job
from .rows import assert_close, only, rows

KIND = "test.work"


async def add(c: Container, kind: str = KIND, payload: dict[str, Any] | None = None, **options: Any) -> bool:
    return await add_job(c, kind, payload, **options)


def worker(c: Container, handlers: dict[str, Handler], **options: Any) -> Worker:
    return Worker(c, handlers, **{"owner": "test-worker", "lease_s": 60.0, **options})


def test_run_due_runs_every_due_job_at_most_concurrency_at_a_time(tongbao: Stack) -> None:
    c = tongbao.container
    active = 0
    peak = 0
    finished: list[int] = []

    async def slow(c: Container, job: ClaimedJob) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            await asyncio.sleep(0.05)
        finally:
            active -= 1
        finished.append(job.payload["n"])

    async def scenario() -> int:
        for n in range(9):
            assert await add(c, payload={"n": n})
        assert await add(c, payload={"n": 99}, run_at=c.clock.now() + timedelta(hours=1))  # not due
        return await worker(c, {KIND: slow}, concurrency=3).run_due()

    assert tongbao.server.run(scenario()) == 9
    assert peak == 3
    assert sorted(finished) == list(range(9))
    jobs = tongbao.server.run(rows(c))
    assert Counter(j.status for j in jobs) == {"done": 9, "queued": 1}
    assert all(j.attempts == 1 and j.lease_owner is None for j in jobs if j.status == "done")


def test_run_due_with_nothing_due_runs_nothing(tongbao: Stack) -> None:
    c = tongbao.container

    async def never(c: Container, job: ClaimedJob) -> None:
        raise AssertionError("not due")

    async def scenario() -> int:
        assert await add(c, run_at=c.clock.now() + timedelta(minutes=1))
        return await worker(c, {KIND: never}).run_due()

    assert tongbao.server.run(scenario()) == 0


def test_a_handler_returning_retry_at_is_run_again_at_that_time(tongbao: Stack) -> None:
    c = tongbao.container
    calls: list[int] = []
    later: list[datetime] = []

    async def handler(c: Container, job: ClaimedJob) -> RetryAt | None:
        calls.append(job.attempts)
        if len(calls) == 1:
            later.append(c.clock.now() + timedelta(minutes=10))
            return RetryAt(later[0])
        return None

    w = worker(c, {KIND: handler})

    async def scenario() -> None:
        assert await add(c)
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.run_at, job.attempts, job.lease_owner) == ("queued", later[0], 1, None)

        tongbao.clock.advance(9 * 60)
        assert await w.run_due() == 0  # not yet
        tongbao.clock.advance(61)
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.attempts) == ("done", 2)

    tongbao.server.run(scenario())
    assert calls == [1, 2]


def test_retry_at_that_does_not_count_never_uses_up_the_attempts(tongbao: Stack) -> None:
    c = tongbao.container
    calls: list[int] = []

    async def busy(c: Container, job: ClaimedJob) -> RetryAt:
        calls.append(job.attempts)
        return RetryAt(c.clock.now() + timedelta(seconds=30), counts=False)

    w = worker(c, {KIND: busy})

    async def scenario() -> None:
        assert await add(c, max_attempts=2)
        for _ in range(5):  # more rounds than the job has attempts
            assert await w.run_due() == 1
            job = await only(c)
            assert (job.status, job.attempts) == ("queued", 0)
            tongbao.clock.advance(31)

    tongbao.server.run(scenario())
    assert calls == [1] * 5


def test_a_raising_handler_is_retried_with_backoff_and_its_error_recorded(tongbao: Stack) -> None:
    c = tongbao.container
    calls: list[int] = []

    async def flaky(c: Container, job: ClaimedJob) -> None:
        calls.append(job.attempts)
        if job.attempts < 3:
            raise RuntimeError(f"channel down ({job.attempts})")

    w = worker(c, {KIND: flaky})

    async def scenario() -> None:
        assert await add(c)
        for attempt, wait_s in [(1, 5), (2, 10)]:
            before = c.clock.now()
            assert await w.run_due() == 1
            after = c.clock.now()
            job = await only(c)
            assert (job.status, job.attempts) == ("queued", attempt)
            assert job.last_error == repr(RuntimeError(f"channel down ({attempt})"))
            delay = timedelta(seconds=wait_s)
            assert_close(job.run_at, before + delay, after + delay)
            tongbao.clock.advance(wait_s + 0.5)

        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.attempts, job.last_error) == ("done", 3, None)

    tongbao.server.run(scenario())
    assert calls == [1, 2, 3]


def test_a_handler_that_keeps_raising_fails_the_job_after_its_attempts(tongbao: Stack) -> None:
    c = tongbao.container

    async def broken(c: Container, job: ClaimedJob) -> None:
        raise ValueError("bad payload")

    w = worker(c, {KIND: broken})

    async def scenario() -> None:
        assert await add(c, max_attempts=2)
        assert await w.run_due() == 1
        tongbao.clock.advance(6)
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.attempts, job.last_error) == ("failed", 2, "ValueError('bad payload')")
        tongbao.clock.advance(24 * 3600)
        assert await w.run_due() == 0

    tongbao.server.run(scenario())


def test_a_handler_that_overruns_its_time_is_stopped_and_retried(tongbao: Stack) -> None:
    c = tongbao.container

    async def hangs(c: Container, job: ClaimedJob) -> None:
        await asyncio.sleep(30)

    # A handler gets three quarters of its lease: 0.15 s here.
    w = worker(c, {KIND: hangs}, lease_s=0.2)

    async def scenario() -> None:
        assert await add(c)
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.attempts, job.lease_owner) == ("queued", 1, None)
        assert job.last_error is not None and "TimeoutError" in job.last_error

    tongbao.server.run(scenario(), timeout_s=10)


def test_a_job_of_unknown_kind_fails_with_a_clear_error(tongbao: Stack) -> None:
    c = tongbao.container

    async def handler(c: Container, job: ClaimedJob) -> None:
        raise AssertionError("only for the known kind")

    w = worker(c, {KIND: handler})

    async def scenario() -> None:
        assert await add(c, "test.mystery", max_attempts=1)
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.last_error) == ("failed", "no handler for job kind 'test.mystery'")

    tongbao.server.run(scenario())


def test_a_job_of_unknown_kind_is_retried_later_while_it_has_attempts(tongbao: Stack) -> None:
    # A worker of an older release may meet a kind that a newer one knows: it backs off, it does
    # not drop the job.
    c = tongbao.container
    w = worker(c, {})

    async def scenario() -> None:
        assert await add(c, "test.mystery")
        assert await w.run_due() == 1
        job = await only(c)
        assert (job.status, job.attempts) == ("queued", 1)
        assert job.last_error == "no handler for job kind 'test.mystery'"
        assert job.run_at > c.clock.now()

    tongbao.server.run(scenario())


def test_ensure_periodic_is_idempotent(tongbao: Stack) -> None:
    c = tongbao.container
    ran: list[str] = []

    async def tick(c: Container, job: ClaimedJob) -> None:
        ran.append(job.kind)

    periodic = [Periodic("test.tick", every_s=60), Periodic("test.tock", every_s=30)]
    w = Worker(c, {"test.tick": tick, "test.tock": tick}, periodic, owner="test-worker")

    async def scenario() -> None:
        before = c.clock.now()
        await w.ensure_periodic()
        await w.ensure_periodic()
        jobs = await rows(c)
        assert sorted((j.kind, j.every_s, j.dedupe_key, j.status) for j in jobs) == [
            ("test.tick", 60, "periodic:test.tick", "queued"),
            ("test.tock", 30, "periodic:test.tock", "queued"),
        ]
        for job in jobs:
            assert_close(job.run_at, before, c.clock.now())

        # Each runs once and comes round again every_s later; ensuring again adds nothing.
        assert await w.run_due() == 2
        await w.ensure_periodic()
        jobs = await rows(c)
        assert len(jobs) == 2
        assert all(j.status == "queued" and j.attempts == 0 for j in jobs)
        tongbao.clock.advance(31)
        assert await w.run_due() == 1
        tongbao.clock.advance(30)
        assert await w.run_due() == 2

    tongbao.server.run(scenario())
    assert sorted(ran) == ["test.tick"] * 2 + ["test.tock"] * 3


def test_run_processes_jobs_as_they_arrive_and_stops_promptly(tongbao: Stack) -> None:
    c = tongbao.container
    seen: list[int] = []

    async def record(c: Container, job: ClaimedJob) -> None:
        seen.append(job.payload["n"])

    async def wait_until_done(n: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while True:
            statuses = {j.payload["n"]: j.status for j in await rows(c)}
            if statuses.get(n) == "done":
                return
            assert loop.time() < deadline, statuses
            await asyncio.sleep(0.02)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        w = worker(c, {KIND: record}, poll_s=0.05)
        task = asyncio.create_task(w.run(stop))
        assert await add(c, payload={"n": 1})
        await wait_until_done(1)
        assert await add(c, payload={"n": 2})
        await wait_until_done(2)
        stop.set()
        started = loop.time()
        await asyncio.wait_for(task, timeout=2)
        return loop.time() - started

    stopped_in = tongbao.server.run(scenario(), timeout_s=15)
    assert stopped_in < 2
    assert seen == [1, 2]
    jobs = tongbao.server.run(rows(c))
    assert [(j.status, j.attempts) for j in jobs] == [("done", 1), ("done", 1)]


def test_run_waits_for_a_running_handler_before_it_stops(tongbao: Stack) -> None:
    c = tongbao.container
    finished: list[str] = []

    async def scenario() -> None:
        started = asyncio.Event()

        async def slow(c: Container, job: ClaimedJob) -> None:
            started.set()
            await asyncio.sleep(0.1)
            finished.append(job.id)

        stop = asyncio.Event()
        w = worker(c, {KIND: slow}, poll_s=0.05)
        assert await add(c)
        task = asyncio.create_task(w.run(stop))
        await asyncio.wait_for(started.wait(), timeout=5)
        stop.set()
        await asyncio.wait_for(task, timeout=2)
        job = await only(c)
        assert job.status == "done"
        assert finished == [job.id]

    tongbao.server.run(scenario(), timeout_s=15)


def test_two_workers_in_one_process_hold_leases_under_different_names(tongbao: Stack) -> None:
    c = tongbao.container
    first, second = Worker(c, {}), Worker(c, {})

    async def scenario() -> None:
        assert await add(c)
        [stale] = await queue.claim(c, first.owner, 10, 60)
        tongbao.clock.advance(61)
        [current] = await queue.claim(c, second.owner, 10, 60)
        assert current.attempts == 2
        # The first worker's late outcome must not land on the second worker's run.
        assert await queue.finish(c, stale) is False
        assert (await only(c)).status == "running"

    tongbao.server.run(scenario())
    assert first.owner != second.owner


ENQUEUE_ELSEWHERE = """
import asyncio, sys
from datetime import datetime
from tongbao.db.engine import make_engine, make_sessionmaker
from tongbao.jobs import queue

async def main():
    engine = make_engine(sys.argv[1])
    async with make_sessionmaker(engine)() as tx:
        await queue.enqueue(tx, sys.argv[2], {"n": 3}, now=datetime.fromisoformat(sys.argv[3]))
        await tx.commit()
    await engine.dispose()

asyncio.run(main())
"""


def test_an_idle_worker_wakes_for_a_job_due_now_long_before_its_next_poll(tongbao: Stack) -> None:
    """Written in this process (both databases), and on PostgreSQL by another process too."""
    c = tongbao.container
    seen: dict[int, float] = {}

    async def record(c: Container, job: ClaimedJob) -> None:
        seen[job.payload["n"]] = asyncio.get_running_loop().time()

    async def handled_within(n: int) -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while n not in seen:
            assert loop.time() - started < 10, f"job {n} was not run"
            await asyncio.sleep(0.01)
        return seen[n] - started

    async def scenario() -> list[float]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker(c, {KIND: record}, poll_s=30).run(stop))
        await asyncio.sleep(0.3)  # idle, waiting
        took = []
        for n in (1, 2):
            assert await add(c, payload={"n": n})
            took.append(await handled_within(n))
        if tongbao.backend == "postgres":
            await asyncio.sleep(0.3)
            await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-c",
                    ENQUEUE_ELSEWHERE,
                    tongbao.database_url,
                    KIND,
                    c.clock.now().isoformat(),
                ],
                check=True,
                timeout=60,
            )
            took.append(await handled_within(3))
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return took

    took = tongbao.server.run(scenario(), timeout_s=90)
    assert len(took) == (3 if tongbao.backend == "postgres" else 2)
    assert all(t < 2 for t in took), took
