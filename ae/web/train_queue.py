"""The Train tab's queue: first come, first served, one training at a time, and honest about the wait.

Why its own queue rather than Gradio's concurrency limit: Gradio shows a waiting visitor a greyed panel under a
timer that runs past its own estimate, so a queued run looks stuck. Here each waiting run yields its place and
its wait, in the tab's own words, every second; the wait is worked out from what is ahead (each run is paced by
its clock, so its length is its budget plus a start-up this queue measures as runs end).

And a class pressing Train together must not wait a quarter of an hour: a run that joins behind others gets a
share of SHARE_S (half with one run ahead, a third with two ...), never less than the shortest budget. Ten
visitors choosing 30 s all start within about two and a half minutes (`python -m ae.bench`'s train queue).

Waiting holds no thread: the tab's generator awaits its turn on the server's event loop.
"""

import asyncio
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

SHARE_S = 60.0  # the time a newcomer's run shares with the runs ahead of it
START_UP_S = 1.0  # a run's time beyond its budget until one has been measured: building the model, the last report
MEASURED_RUNS = 5  # the start-up is the mean of the last few complete runs


@dataclass(eq=False)
class Ticket:
    """One visitor's place: the budget it chose, the budget it gets, and when its run started (None: waiting)."""
    chosen_s: float
    budget_s: float
    started: float | None = None
    turn: asyncio.Event = field(default_factory=asyncio.Event)


class TrainQueue:
    """Runs take their turn in the order they joined, `trainers` at a time."""

    def __init__(self, trainers: int = 1, min_budget_s: float = 5.0, share_s: float = SHARE_S, clock=time.monotonic):
        self.trainers, self.min_budget_s, self.share_s, self.clock = trainers, min_budget_s, share_s, clock
        self.running: list[Ticket] = []
        self.waiting: list[Ticket] = []
        self.start_ups: deque[float] = deque(maxlen=MEASURED_RUNS)

    def join(self, chosen_s: float) -> Ticket:
        """A new run, at the end of the line; its budget is its share if others are ahead of it."""
        ahead = len(self.running) + len(self.waiting)
        share = max(self.min_budget_s, round(self.share_s / (1 + ahead))) if ahead else chosen_s
        ticket = Ticket(chosen_s, min(chosen_s, share))
        self.waiting.append(ticket)
        self._start_next()
        return ticket

    def leave(self, ticket: Ticket, ran_its_budget: bool = False) -> None:
        """A run ended (`ran_its_budget`: it was not stopped or cut short, so its length teaches the start-up) or
        its visitor left the line; the next in line starts."""
        if ticket in self.running:
            self.running.remove(ticket)
            if ran_its_budget:
                self.start_ups.append(max(0.0, self.clock() - ticket.started - ticket.budget_s))
        elif ticket in self.waiting:
            self.waiting.remove(ticket)
        self._start_next()

    @property
    def start_up_s(self) -> float:
        return sum(self.start_ups) / len(self.start_ups) if self.start_ups else START_UP_S

    def ahead(self, ticket: Ticket) -> int:
        """How many runs go before this one: those training and those earlier in line."""
        return len(self.running) + self.waiting.index(ticket) if ticket in self.waiting else 0

    def wait_s(self, ticket: Ticket) -> float:
        """Seconds until this run starts: each trainer frees when its run's budget and start-up are spent, and
        takes the next in line."""
        if ticket not in self.waiting:
            return 0.0
        now = self.clock()
        free_at = [max(now, run.started + run.budget_s + self.start_up_s) for run in self.running]
        free_at += [now] * (self.trainers - len(free_at))
        heapq.heapify(free_at)
        for earlier in self.waiting[:self.waiting.index(ticket)]:
            heapq.heappush(free_at, heapq.heappop(free_at) + earlier.budget_s + self.start_up_s)
        return free_at[0] - now

    async def wait_turn(self, ticket: Ticket, every_s: float = 1.0) -> AsyncIterator[tuple[int, float]]:
        """(runs ahead, seconds to wait) now and every `every_s` until the run's turn comes."""
        while not ticket.turn.is_set():
            yield self.ahead(ticket), self.wait_s(ticket)
            try:
                await asyncio.wait_for(ticket.turn.wait(), every_s)
            except TimeoutError:
                pass

    def _start_next(self) -> None:
        while self.waiting and len(self.running) < self.trainers:
            ticket = self.waiting.pop(0)
            ticket.started = self.clock()
            self.running.append(ticket)
            ticket.turn.set()
