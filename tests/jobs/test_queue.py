"""The durable job table on each database: enqueue, dedupe, claim under a lease, finish, fail."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.support.stack import Stack
from tongbao.container import Container
from tongbao.jobs import queue
from tongbao.jobs.models import Job
from tongbao.jobs.queue import ClaimedJob

from .rows import add as add_job
from .rows import assert_close, only, rows

KIND = "test.job"


async def add(c: Container, kind: str = KIND, payload: dict[str, Any] | None = None, **options: Any) -> bool:
    return await add_job(c, kind, payload, **options)


async def row(c: Container, job_id: str) -> Job:
    async with c.uow() as tx:
        job = await tx.get(Job, job_id)
    assert job is not None
    return job


# --- enqueue ---------------------------------------------------------------------------------


def test_enqueue_writes_a_queued_job_due_now(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        before = c.clock.now()
        assert await add(c, payload={"payment_id": "pay_1", "n": 3})
        job = await only(c)
        assert job.id.startswith("job_")
        assert (job.kind, job.payload, job.status) == (KIND, {"payment_id": "pay_1", "n": 3}, "queued")
        assert (job.attempts, job.max_attempts) == (0, queue.DEFAULT_MAX_ATTEMPTS)
        assert (job.lease_owner, job.lease_expires_at, job.last_error, job.every_s) == (
            None,
            None,
            None,
            None,
        )
        assert_close(job.run_at, before, c.clock.now())
        assert job.created_at == job.run_at == job.updated_at

    tongbao.server.run(scenario())


def test_a_job_enqueued_in_a_transaction_that_is_not_committed_does_not_exist(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        async with c.uow() as tx:
            assert await queue.enqueue(tx, KIND, {"n": 1}, now=c.clock.now(), dedupe_key="lost")
            # Inside its own transaction the job is there ...
            assert await tx.scalar(select(func.count()).select_from(Job)) == 1
            # ... and on PostgreSQL nobody else sees it before the commit.
            if tongbao.backend == "postgres":
                assert await queue.claim(c, "peeker", 10, 60) == []
        # ... but the block ended without a commit.
        async with c.uow() as tx:
            assert await queue.enqueue(tx, KIND, {"n": 2}, now=c.clock.now())
            await tx.rollback()

        assert await queue.claim(c, "w", 10, 60) == []
        assert await rows(c) == []
        # The rolled-back job did not take its dedupe key with it.
        assert await add(c, dedupe_key="lost")
        assert len(await rows(c)) == 1

    tongbao.server.run(scenario())


def test_a_job_commits_with_the_rest_of_its_transaction(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        async with c.uow() as tx:
            assert await queue.enqueue(tx, KIND, {"n": 1}, now=c.clock.now())
            assert await queue.enqueue(tx, KIND, {"n": 2}, now=c.clock.now(), dedupe_key="k")
            await tx.commit()
        assert sorted(j.payload["n"] for j in await rows(c)) == [1, 2]

    tongbao.server.run(scenario())


# --- dedupe ----------------------------------------------------------------------------------


def test_the_same_dedupe_key_in_two_transactions_gives_one_job(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, payload={"first": True}, dedupe_key="notify:evt_1") is True
        assert await add(c, payload={"first": False}, dedupe_key="notify:evt_1") is False
        job = await only(c)
        assert (job.payload, job.dedupe_key) == ({"first": True}, "notify:evt_1")
        # A different key is a different job.
        assert await add(c, dedupe_key="notify:evt_2") is True
        assert len(await rows(c)) == 2

    tongbao.server.run(scenario())


def test_the_same_dedupe_key_twice_in_one_transaction_gives_one_job(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        async with c.uow() as tx:
            now = c.clock.now()
            assert await queue.enqueue(tx, KIND, {"n": 1}, now=now, dedupe_key="once") is True
            assert await queue.enqueue(tx, KIND, {"n": 2}, now=now, dedupe_key="once") is False
            # The transaction is still usable after the refused second enqueue.
            assert await queue.enqueue(tx, KIND, {"n": 3}, now=now) is True
            await tx.commit()
        assert sorted(j.payload["n"] for j in await rows(c)) == [1, 3]

    tongbao.server.run(scenario())


def test_a_dedupe_key_stays_taken_after_its_job_is_done(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, dedupe_key="ever")
        [claimed] = await queue.claim(c, "w", 10, 60)
        assert await queue.finish(c, claimed)
        assert await add(c, dedupe_key="ever") is False
        job = await only(c)
        assert job.status == "done"

    tongbao.server.run(scenario())


def test_ten_concurrent_enqueues_of_one_dedupe_key_give_one_job(tongbao: Stack) -> None:
    c = tongbao.container

    async def one(n: int) -> bool:
        async with c.uow() as tx:
            added = await queue.enqueue(tx, KIND, {"n": n}, now=c.clock.now(), dedupe_key="race")
            # Each caller's transaction carries on and commits whatever else it did.
            await queue.enqueue(tx, "test.other", {"n": n}, now=c.clock.now())
            await tx.commit()
        return added

    async def scenario() -> list[bool]:
        return list(await asyncio.gather(*(one(n) for n in range(10))))

    results = tongbao.server.run(scenario())
    assert sorted(results) == [False] * 9 + [True]
    jobs = tongbao.server.run(rows(tongbao.container))
    raced = [j for j in jobs if j.kind == KIND]
    assert len(raced) == 1
    assert raced[0].payload == {"n": results.index(True)}
    assert sorted(j.payload["n"] for j in jobs if j.kind == "test.other") == list(range(10))


# --- claim and lease -------------------------------------------------------------------------


def test_claim_takes_only_due_jobs_and_marks_them_running_under_a_lease(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        now = c.clock.now()
        assert await add(c, payload={"when": "now"})
        assert await add(c, payload={"when": "later"}, run_at=now + timedelta(seconds=30))

        before = c.clock.now()
        [claimed] = await queue.claim(c, "w1", 10, 60)
        after = c.clock.now()
        assert (claimed.kind, claimed.payload, claimed.owner) == (KIND, {"when": "now"}, "w1")
        assert (claimed.attempts, claimed.max_attempts, claimed.every_s) == (
            1,
            queue.DEFAULT_MAX_ATTEMPTS,
            None,
        )
        job = await row(c, claimed.id)
        assert (job.status, job.lease_owner, job.attempts) == ("running", "w1", 1)
        assert_close(job.lease_expires_at, before + timedelta(seconds=60), after + timedelta(seconds=60))
        assert_close(job.updated_at, before, after)

        assert await queue.claim(c, "w2", 10, 60) == []  # the later one is not due, the first is leased
        tongbao.clock.advance(31)
        [later] = await queue.claim(c, "w2", 10, 60)
        assert later.payload == {"when": "later"}
        assert (await row(c, claimed.id)).lease_owner == "w1"  # still w1's

    tongbao.server.run(scenario())


def test_claim_takes_the_oldest_due_jobs_up_to_its_limit(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        now = c.clock.now()
        for n, age_s in enumerate([10, 30, 20, 40]):
            assert await add(c, payload={"n": n}, run_at=now - timedelta(seconds=age_s))
        first = await queue.claim(c, "w", 2, 60)
        assert [j.payload["n"] for j in first] == [3, 1]
        second = await queue.claim(c, "w", 2, 60)
        assert [j.payload["n"] for j in second] == [2, 0]
        assert await queue.claim(c, "w", 2, 60) == []

    tongbao.server.run(scenario())


def test_a_job_whose_lease_ran_out_is_claimed_again_and_the_old_owner_cannot_settle_it(
    tongbao: Stack,
) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c)
        [first] = await queue.claim(c, "crashed", 10, 60)
        tongbao.clock.advance(30)
        assert await queue.claim(c, "other", 10, 60) == []  # the lease still holds

        tongbao.clock.advance(31)  # past the lease: the first worker is presumed dead
        [second] = await queue.claim(c, "other", 10, 60)
        assert (second.id, second.attempts, second.owner) == (first.id, 2, "other")
        taken = await row(c, first.id)
        assert (taken.status, taken.lease_owner, taken.attempts) == ("running", "other", 2)

        # The first worker wakes up: none of its outcomes is written.
        assert await queue.finish(c, first) is False
        assert await queue.fail(c, first, "late") is False
        assert await queue.retry_at(c, first, c.clock.now()) is False
        unchanged = await row(c, first.id)
        assert (unchanged.status, unchanged.lease_owner, unchanged.attempts, unchanged.last_error) == (
            "running",
            "other",
            2,
            None,
        )
        assert unchanged.lease_expires_at == taken.lease_expires_at
        assert unchanged.updated_at == taken.updated_at

        assert await queue.finish(c, second) is True
        done = await row(c, first.id)
        assert (done.status, done.lease_owner, done.lease_expires_at) == ("done", None, None)
        assert await queue.finish(c, second) is False  # settling twice does nothing the second time
        tongbao.clock.advance(3600)
        assert await queue.claim(c, "other", 10, 60) == []  # done is done

    tongbao.server.run(scenario())


def test_a_claim_waiting_for_sqlites_write_lock_counts_a_job_made_due_meanwhile(tongbao: Stack) -> None:
    """The claim reads the clock once it holds the write lock: a job that the writer it waited for
    made due counts as due (else a worker draining what is due stops one job short)."""
    if tongbao.backend != "sqlite":
        pytest.skip("on PostgreSQL a claim does not wait for other writers")
    c = tongbao.container

    async def scenario() -> None:
        async with c.uow() as tx:
            await queue.enqueue(tx, "test.holder", {}, now=c.clock.now())  # the write lock, held
            claiming = asyncio.create_task(queue.claim(c, "w", 10, 60.0))
            await asyncio.sleep(0.3)  # the claim has begun and waits for the lock
            await queue.enqueue(tx, KIND, {"n": 1}, now=c.clock.now())
            await tx.commit()
        claimed = await claiming
        assert sorted(j.kind for j in claimed) == sorted(["test.holder", KIND])

    tongbao.server.run(scenario())


def test_four_concurrent_claimers_share_forty_jobs_without_overlap(tongbao: Stack) -> None:
    if tongbao.backend != "postgres":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    c = tongbao.container

    async def scenario() -> list[list[ClaimedJob]]:
        async with c.uow() as tx:
            for n in range(40):
                await queue.enqueue(tx, KIND, {"n": n}, now=c.clock.now())
            await tx.commit()
        rounds = list(await asyncio.gather(*(queue.claim(c, f"w{i}", 10, 60) for i in range(4))))
        # Whatever a claimer skipped because another had just taken it is still there for later.
        while leftover := await queue.claim(c, "late", 40, 60):
            rounds.append(leftover)
        return rounds

    rounds = tongbao.server.run(scenario())
    claimed = [job for batch in rounds for job in batch]
    ids = [job.id for job in claimed]
    assert len(ids) == 40
    assert len(set(ids)) == 40  # every job exactly once
    assert sorted(job.payload["n"] for job in claimed) == list(range(40))
    owner_of = {job.id: job.owner for job in claimed}
    jobs = tongbao.server.run(rows(c))
    assert all(j.status == "running" and j.attempts == 1 for j in jobs)
    assert {j.id: j.lease_owner for j in jobs} == owner_of
    assert sum(len(batch) for batch in rounds[:4]) > 10  # the four really worked side by side


# --- fail, backoff, give up ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (5, 80), (8, 640), (10, 2560), (11, 3600), (20, 3600), (500, 3600)],
)
def test_backoff_doubles_from_five_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert queue.backoff(attempts) == timedelta(seconds=seconds)


def test_fail_backs_off_and_gives_up_after_max_attempts_keeping_the_error(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, max_attempts=4)
        for attempt, wait_s in [(1, 5), (2, 10), (3, 20)]:
            [claimed] = await queue.claim(c, "w", 10, 60)
            assert claimed.attempts == attempt
            before = c.clock.now()
            assert await queue.fail(c, claimed, f"boom {attempt}")
            after = c.clock.now()
            job = await row(c, claimed.id)
            assert (job.status, job.attempts, job.last_error) == ("queued", attempt, f"boom {attempt}")
            assert (job.lease_owner, job.lease_expires_at) == (None, None)
            delay = timedelta(seconds=wait_s)
            assert_close(job.run_at, before + delay, after + delay)

            tongbao.clock.advance(wait_s - 1)
            assert await queue.claim(c, "w", 10, 60) == []  # not yet
            tongbao.clock.advance(1.5)

        [last] = await queue.claim(c, "w", 10, 60)
        assert last.attempts == 4
        assert await queue.fail(c, last, "boom 4" + "!" * 5000)
        job = await row(c, last.id)
        assert (job.status, job.attempts, job.lease_owner) == ("failed", 4, None)
        assert job.last_error == ("boom 4" + "!" * 5000)[:2000]
        tongbao.clock.advance(24 * 3600)
        assert await queue.claim(c, "w", 10, 60) == []  # a failed job is never taken again

    tongbao.server.run(scenario())


def test_a_job_with_one_attempt_fails_at_once(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, max_attempts=1)
        [claimed] = await queue.claim(c, "w", 10, 60)
        assert await queue.fail(c, claimed, "no")
        assert ((await only(c)).status, (await only(c)).last_error) == ("failed", "no")

    tongbao.server.run(scenario())


def test_retry_at_requeues_for_the_given_time(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c)
        [claimed] = await queue.claim(c, "w", 10, 60)
        at = c.clock.now() + timedelta(minutes=5)
        assert await queue.retry_at(c, claimed, at)
        job = await only(c)
        assert (job.status, job.run_at, job.attempts, job.lease_owner) == ("queued", at, 1, None)

        tongbao.clock.advance(301)
        [again] = await queue.claim(c, "w", 10, 60)
        assert again.attempts == 2
        assert await queue.retry_at(c, again, c.clock.now() + timedelta(minutes=5), counts=False)
        assert (await only(c)).attempts == 1  # handed back: it did not really run

    tongbao.server.run(scenario())


# --- periodic jobs ---------------------------------------------------------------------------


def test_a_periodic_job_is_rescheduled_after_finish_and_after_fail(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, "test.periodic", dedupe_key="periodic:test", every_s=60, max_attempts=1)

        [run] = await queue.claim(c, "w", 10, 60)
        assert (run.every_s, run.attempts) == (60, 1)
        before = c.clock.now()
        assert await queue.finish(c, run)
        after = c.clock.now()
        job = await only(c)
        assert (job.status, job.attempts, job.last_error, job.lease_owner) == ("queued", 0, None, None)
        assert_close(job.run_at, before + timedelta(seconds=60), after + timedelta(seconds=60))
        assert await queue.claim(c, "w", 10, 60) == []

        tongbao.clock.advance(61)
        [run] = await queue.claim(c, "w", 10, 60)
        assert run.attempts == 1
        before = c.clock.now()
        assert await queue.fail(c, run, "sweep broke")
        after = c.clock.now()
        job = await only(c)
        # Not failed although max_attempts is 1: a periodic job always comes round again.
        assert (job.status, job.attempts, job.last_error) == ("queued", 0, "sweep broke")
        assert_close(job.run_at, before + timedelta(seconds=60), after + timedelta(seconds=60))

        tongbao.clock.advance(61)
        [run] = await queue.claim(c, "w", 10, 60)
        assert await queue.finish(c, run)
        assert (await only(c)).last_error is None  # a good run clears the last error

    tongbao.server.run(scenario())


def test_a_failing_flush_of_the_callers_own_rows_is_not_mistaken_for_a_duplicate_job(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, dedupe_key="taken")
        async with c.uow() as tx:
            now = c.clock.now()
            # The caller's own business row, not yet flushed, breaks a unique constraint.
            tx.add(
                Job(
                    id="job_callers_own_row",
                    kind="test.other",
                    payload={},
                    status="queued",
                    run_at=now,
                    attempts=0,
                    max_attempts=1,
                    dedupe_key="taken",
                    created_at=now,
                    updated_at=now,
                )
            )
            with pytest.raises(IntegrityError):
                await queue.enqueue(tx, KIND, {}, now=now, dedupe_key="fresh")

    tongbao.server.run(scenario())


def test_a_job_whose_worker_dies_on_every_attempt_ends_failed_instead_of_circling(tongbao: Stack) -> None:
    c = tongbao.container

    async def scenario() -> None:
        assert await add(c, max_attempts=2)
        for _ in range(2):
            [taken] = await queue.claim(c, "doomed", 10, 30)
            tongbao.clock.advance(31)  # the worker died: its lease runs out
        assert await queue.claim(c, "next", 10, 30) == []
        job = await only(c)
        assert (job.status, job.attempts, job.lease_owner) == ("failed", 2, None)
        assert job.last_error == "the lease ran out on all 2 attempts"

    tongbao.server.run(scenario())
