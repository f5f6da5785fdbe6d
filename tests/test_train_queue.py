"""The Train tab's line (ae/web/train_queue.py), on a clock the test moves: first come first served, one run at a
time, shorter runs while others wait, and a wait estimate that comes true."""

import asyncio

import pytest

from ae.web.train_queue import START_UP_S, TrainQueue


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_runs_take_turns_in_the_order_they_joined_one_at_a_time(clock):
    line = TrainQueue(clock=clock)
    first, second, third = (line.join(30) for _ in range(3))
    assert first.turn.is_set() and not second.turn.is_set() and not third.turn.is_set()
    assert [line.ahead(ticket) for ticket in (first, second, third)] == [0, 1, 2]
    line.leave(first, ran_its_budget=True)
    assert second.turn.is_set() and not third.turn.is_set() and line.running == [second]
    line.leave(second)
    assert third.turn.is_set() and line.running == [third]


def test_a_visitor_who_leaves_the_line_lets_the_others_move_up(clock):
    line = TrainQueue(clock=clock)
    first, second, third = (line.join(30) for _ in range(3))
    line.leave(second)
    assert line.ahead(third) == 1 and line.waiting == [third]
    line.leave(first)
    assert third.turn.is_set()


def test_while_others_wait_a_run_gets_its_share_never_below_the_shortest(clock):
    line = TrainQueue(min_budget_s=5, share_s=60, clock=clock)
    budgets = [line.join(30).budget_s for _ in range(12)]
    assert budgets[:4] == [30, 30, 20, 15]  # alone: as chosen; then 60 s shared with those ahead
    assert budgets[-1] == 5
    assert line.join(10).budget_s == 5 and TrainQueue(clock=clock).join(60).budget_s == 60


def test_the_wait_is_what_is_ahead_and_the_start_up_is_learnt_from_runs_that_ended(clock):
    line = TrainQueue(clock=clock)
    first = line.join(30)
    second, third = line.join(30), line.join(30)
    clock.now = 10
    assert line.wait_s(second) == pytest.approx(30 + START_UP_S - 10)
    assert line.wait_s(third) == pytest.approx(30 + START_UP_S - 10 + second.budget_s + START_UP_S)
    clock.now = 32.5  # the first run took 2.5 s beyond its budget
    line.leave(first, ran_its_budget=True)
    assert line.start_up_s == pytest.approx(2.5) and line.wait_s(second) == 0
    assert line.wait_s(third) == pytest.approx(second.budget_s + 2.5)


def test_a_stopped_run_teaches_nothing_about_the_start_up(clock):
    line = TrainQueue(clock=clock)
    first = line.join(30)
    clock.now = 3
    line.leave(first)
    assert line.start_up_s == START_UP_S


def test_ten_visitors_pressing_train_within_ten_seconds_are_told_their_wait_truly(clock):
    """A class: ten 30 s runs asked for a second apart, each run lasting its budget and 1.5 s of
    start-up. Every first estimate is within 20% of the real wait, and the last run starts within 3 minutes."""
    line = TrainQueue(clock=clock)
    start_up = 1.5
    joined, told, tickets = [], [], []
    for visitor in range(10):
        clock.now = float(visitor)
        tickets.append(line.join(30))
        joined.append(clock.now)
        told.append(line.wait_s(tickets[-1]))
    started = {}
    while line.running:
        run = line.running[0]
        started[run] = run.started
        clock.now = run.started + run.budget_s + start_up
        line.leave(run, ran_its_budget=True)
    for ticket, at, estimate in zip(tickets, joined, told):
        real = started[ticket] - at
        assert abs(estimate - real) <= 0.2 * real + 1e-9, (estimate, real)
    assert max(started.values()) - joined[0] < 180


def test_waiting_yields_the_place_and_the_wait_until_the_turn_comes():
    async def scenario():
        line = TrainQueue()
        first, second = line.join(30), line.join(30)
        seen = []

        async def wait():
            async for ahead, wait_s in line.wait_turn(second, every_s=0.01):
                seen.append((ahead, wait_s))

        waiter = asyncio.create_task(wait())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        line.leave(first)
        await asyncio.wait_for(waiter, 5)
        return seen

    seen = asyncio.run(scenario())
    assert len(seen) >= 2 and all(ahead == 1 and 0 < wait_s <= 30 + START_UP_S for ahead, wait_s in seen)


def test_with_two_trainers_two_runs_go_at_once_and_the_third_waits_for_the_first_to_end(clock):
    line = TrainQueue(trainers=2, clock=clock)
    first, second = line.join(30), line.join(20)
    third = line.join(30)
    assert first.turn.is_set() and second.turn.is_set() and not third.turn.is_set()
    assert line.ahead(third) == 2 and line.wait_s(third) == pytest.approx(second.budget_s + START_UP_S)
    line.leave(second)
    assert third.turn.is_set()
