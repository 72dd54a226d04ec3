"""The writers: each calendar's actions sent in order, several calendars at a time, each writer over its
own connection, while the calling thread prepares what comes next."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from plansync.sync.reconcile import Action

C = TypeVar("C")


class ProgressBar(Protocol):
    def update(self, n_steps: int) -> None: ...


# Called before each calendar is looked at and before each action: `serve` stops there when asked to
# (by raising) and feeds systemd's watchdog, so a long run stays both stoppable and alive.
Checkpoint = Callable[[], None]
# (total, label) → a context manager giving a bar; click.progressbar(length=total, label=label) fits.
Progress = Callable[[int, str], contextlib.AbstractContextManager[ProgressBar]]


def write_calendars(
    work: Iterable[tuple[C, Sequence[Action]]],
    apply: Callable[[C, Action], None],
    writers: int,
    checkpoint: Checkpoint,
    bar: ProgressBar | None,
    written: Callable[[Sequence[C]], None] | None = None,
) -> None:
    """Each calendar's actions in order, up to `writers` calendars at a time: a server answers
    one PUT while the next is prepared and sent (each writer has its own connection), and our own work
    per event hides behind the server's. `work` is drawn here, in the calling thread, while the writers
    write what it gave before. `checkpoint` runs here too, between calendars and answers; when it
    raises, the writers stop before their next action and the exception goes on. So does `written`,
    with the calendars whose writes ended since (or none), once all of `work` is given."""
    stop = threading.Event()
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()
    ended: queue.SimpleQueue[C] = queue.SimpleQueue()

    def write(cal: C, actions: Sequence[Action]) -> None:
        for action in actions:
            if stop.is_set():
                return
            try:
                apply(cal, action)
            except BaseException:
                stop.set()  # not a failure of this action (those are recorded): everyone stops
                raise
            finished.put(1)
        ended.put(cal)

    def advance() -> None:
        while not finished.empty():
            n = finished.get()
            if bar is not None:
                bar.update(n)

    def drained() -> list[C]:
        out = []
        while not ended.empty():
            out.append(ended.get())
        return out

    futures = []
    with ThreadPoolExecutor(max(1, writers), thread_name_prefix="plansync-write") as pool:
        try:
            given = iter(work)
            while not stop.is_set():
                checkpoint()
                item = next(given, None)
                if item is None:
                    break
                futures.append(pool.submit(write, *item))
                advance()
            pending = set(futures)
            done: list[C] = []
            while pending and not stop.is_set():
                checkpoint()
                if written is not None:
                    written(done)
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                advance()
                done = drained()
        except BaseException:
            stop.set()
            raise
    advance()
    for future in futures:
        future.result()  # a writer's exception (a crash, a bug) is the run's
