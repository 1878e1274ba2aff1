"""The event-loop watchdog (issue 13: "the event loop is never blocked").

Over the behaviour suites, which run the real bot and API on the test's own event loop, any one step the loop
runs (a callback, or one step of a task between two awaits) that blocks it for longer than `THRESHOLD` (100 ms)
fails the test, naming the step, how long it took and where it was busy. tests/conftest.py loads this module as
a plugin; tests/test_watchdog.py shows it failing a test that blocks and passing one that does not.

How it measures. Every `Handle._run` of the watched loop is timed (that is what asyncio's debug mode does in
`BaseEventLoop._run_once` to log "Executing <Handle ...> took 0.123 seconds"; doing it here as well is needed
under SimCord, for two reasons): SimCord wraps each callback of the bot in a closure of its own, so asyncio
would name every step of the bot `_track_callback.<locals>.invoke()`, and `env.advance_time` runs the timers
that fall due *inside* one step of its own, which the loop sees only as one long step of SimCord. Here a step is
named by what it runs (the task's coroutine, or the callback SimCord wrapped), a timer run inside another step is
named too, and a sampler thread records the loop thread's stack while a step runs long, so the failure says
which bot/ line was busy. Times are real: SimCord makes `time.monotonic` virtual inside the bot, never
perf_counter, nor the loop's own timing.

What is not the step's fault, and is said but not counted (a 2-core machine shared with other test runs):
- time the loop's thread was runnable but waiting for a CPU (Linux `/proc/self/task/<tid>/schedstat`);
- garbage collection (gc.callbacks): a full collection walks the whole test process's heap (pytest, Hypothesis,
  every test module), up to ~0.3 s here, and lands in whichever step allocates at that moment;
- a step in which the thread hardly ran and not one stack sample could be taken: the whole process was starved
  (the GIL's holder waiting for a CPU). A step blocked in a system call (a sleep, file or socket I/O, a lock)
  releases the GIL, is sampled, and counts.

What counts: only steps run while the test body runs (pytest's call phase); the test then fails as its body
ends (FAILED with the report, not an error at teardown). Steps during fixture setup and teardown (SimCord and
the bot starting and stopping, extensions loading, stores opening and migrating) are measured and listed in the
session summary, not failed. Every module of bot/ is imported before the first watched test, so a first import
never lands in a test's step.

asyncio's debug mode is off by default: it costs the suite ~65% more CPU (it extracts a stack on every Future,
Task and Handle created, inside the code under test, so it also lengthens the steps it times) and adds nothing
to the timing above. CALBOT_WATCHDOG_ASYNCIO_DEBUG=1 switches it on (`loop.set_debug(True)`, with
`loop.slow_callback_duration` at the threshold) for its other checks; asyncio's own "Executing ... took"
records are then captured by a handler on the `asyncio` logger and shown with the step they name.

A test may be given another threshold only with its reason beside it:
    @pytest.mark.watchdog(threshold=0.25, reason="...")
`@pytest.mark.watchdog` alone puts any coroutine test under the watchdog, wherever it lives.

CALBOT_WATCHDOG_LOG=<file> appends every step over half the threshold's wall time (all phases, counted or not)
to <file> as JSON lines.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import importlib
import importlib.util
import json
import logging
import os
import pkgutil
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

import pytest
import pytest_asyncio

THRESHOLD = 0.1  # seconds; issue 13: "no callback over 100 ms in the behaviour suites"

# The in-process behaviour suites (paths from the repository root). Process tests are left out: they start
# `python -m bot` and wait on it, and the bot's loop is then in another process.
WATCHED = ("tests/exts/", "tests/api/", "tests/test_one_road.py", "tests/test_poisoned_rows.py", "tests/test_hostile")
NOT_WATCHED = ("tests/api/test_processes.py",)

REPOSITORY = Path(__file__).resolve().parents[1]
_OURS = tuple({str(REPOSITORY), str(Path(importlib.util.find_spec("bot").origin).parents[1])})  # tests/, bot/
SAMPLE_EVERY = 0.01  # seconds between two looks at a long step's stack
MAX_SAMPLES = 200

WATCHDOG = pytest.StashKey["Watchdog"]()
_ORIGINAL_RUN = asyncio.events.Handle._run
_BY_THREAD: dict[int, Watchdog] = {}  # the watchdog of the loop running on each thread


# ---- which tests, which threshold


def watched(item: pytest.Item) -> bool:
    """A coroutine test of the behaviour suites, or one marked `watchdog`."""
    if not pytest_asyncio.is_async_test(item):
        return False
    if item.get_closest_marker("watchdog") is not None:
        return True
    try:
        relative = Path(str(item.path)).resolve().relative_to(REPOSITORY).as_posix()
    except ValueError:
        return False
    return relative.startswith(WATCHED) and not relative.startswith(NOT_WATCHED)


def threshold_for(item: pytest.Item) -> float:
    marker = item.get_closest_marker("watchdog")
    if marker is None or "threshold" not in marker.kwargs:
        return THRESHOLD
    reason = marker.kwargs.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.watchdog(threshold=...) needs reason='why'")
    return float(marker.kwargs["threshold"])


# ---- naming a step, and where it was busy


def describe(handle: asyncio.Handle) -> str:
    """The step by what it runs: a task's coroutine and where it now waits, or the callback (SimCord's wrapper off)."""
    callback = handle._callback
    callback = getattr(callback, "__simcord_original_callback__", callback)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", None) or repr(coro)
        frame = getattr(coro, "cr_frame", None)
        where = f"now at {_short(frame.f_code.co_filename)}:{frame.f_lineno}" if frame is not None else "finished"
        return f"task {task.get_name()!r} {name}() ({where})"
    return f"callback {asyncio.format_helpers._format_callback_source(callback, handle._args)}"


def _short(filename: str) -> str:
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    for root in _OURS:
        if filename.startswith(root + "/"):
            return filename[len(root) + 1 :]
    return filename


def _ours(filename: str) -> bool:
    return filename.startswith(_OURS) and "/.venv/" not in filename


def busy_at(frame: FrameType | None, stop: object) -> str:
    """Where one stack sample was: our frames (bot/, tests/), outermost first, then the innermost frame."""
    frames: list[FrameType] = []
    while frame is not None and frame.f_code is not stop:
        frames.append(frame)
        frame = frame.f_back
    if not frames:
        return "?"
    ours = [f for f in reversed(frames) if _ours(f.f_code.co_filename)]
    text = " > ".join(f"{_short(f.f_code.co_filename)}:{f.f_lineno} {f.f_code.co_name}" for f in ours[-4:])
    innermost = frames[0]
    if not ours or innermost is not ours[-1]:
        inner = f"{_short(innermost.f_code.co_filename)}:{innermost.f_lineno} {innermost.f_code.co_name}"
        text = f"{text} > … {inner}" if text else inner
    return text


# ---- the watchdog


class _SchedStat:
    """A thread's time on a CPU and time runnable but waiting for one, in seconds (Linux schedstat); zeros where
    the kernel does not say (then nothing is discounted as waiting)."""

    def __init__(self, native_id: int) -> None:
        try:
            self._fd: int | None = os.open(f"/proc/self/task/{native_id}/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def __call__(self) -> tuple[float, float]:
        if self._fd is None:
            return 0.0, 0.0
        running, waiting, _slices = os.pread(self._fd, 80, 0).split()
        return int(running) / 1e9, int(waiting) / 1e9

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class _Running:
    handle: asyncio.Handle
    started: float
    sched: tuple[float, float]  # (on a CPU, waiting for one) at the start
    gc: float = 0.0
    samples: list[str] = field(default_factory=list)
    inner: list[str] = field(default_factory=list)  # timers over the threshold SimCord ran inside this step


@dataclass
class SlowStep:
    """A step whose wall time passed half the threshold, taken apart."""

    phase: str  # setup, call or teardown
    step: str
    seconds: float  # wall time
    cpu: float  # of it, the loop's thread on a CPU
    waiting: float  # of it, runnable but waiting for a CPU (other processes)
    gc: float  # of it, garbage collection
    busy: list[tuple[str, int]]  # where the samples were, most often first
    inner: list[str]
    asyncio_said: str | None = None  # asyncio's own debug-mode record of the same step
    blocked: float = 0.0  # what the step itself cost the loop: wall time less waiting for a CPU and GC
    starved: bool = False  # hardly ran, never sampled: the process was starved, not the loop blocked

    def __post_init__(self) -> None:
        self.blocked = self.seconds - self.waiting - self.gc

    def counts(self, threshold: float) -> bool:
        return self.blocked >= threshold and not self.starved

    def describe(self) -> str:
        ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
        lines = [f"{ms(self.blocked)} blocked: {self.step}"]
        lines.append(
            f"    took {ms(self.seconds)}: {ms(self.cpu)} on a CPU, {ms(self.waiting)} waiting for a CPU, "
            f"{ms(self.gc)} collecting garbage{'; never sampled: the process was starved' if self.starved else ''}"
        )
        lines.extend(f"    of which {what} (a timer SimCord ran inside this step)" for what in self.inner)
        total = sum(n for _, n in self.busy)
        lines.extend(f"    busy at ({n}/{total} samples): {where}" for where, n in self.busy[:3])
        if self.asyncio_said:
            said = self.asyncio_said
            lines.append(f"    asyncio: {said if len(said) < 200 else said[:120] + ' … ' + said[-40:]}")
        return "\n".join(lines)


class _Records(logging.Handler):
    """asyncio's debug-mode "Executing ... took ... seconds" records."""

    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__(logging.WARNING)
        self.watchdog = watchdog

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("Executing ") and " took " in record.msg:
            self.watchdog._asyncio_said(record.getMessage())


class Watchdog:
    """Times every step of one event loop, on the thread running it, from install() to uninstall()."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float = THRESHOLD, *, debug: bool = False) -> None:
        self.loop = loop
        self.threshold = threshold
        self.debug = debug
        self.phase = "setup"
        self.slow: list[SlowStep] = []  # every step over half the threshold
        self.steps: collections.Counter[str] = collections.Counter()  # steps run, by phase
        self._thread = threading.get_ident()
        self._sched = _SchedStat(threading.get_native_id())
        self._current: _Running | None = None  # the outermost step running
        self._depth = 0
        self._gc_started: tuple[float, float] | None = None
        self._stopped = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="event-loop watchdog", daemon=True)
        self._records = _Records(self)
        self._saved: tuple[bool, float] | None = None

    # -- on and off, on the loop's own thread

    def install(self) -> None:
        if self._thread in _BY_THREAD:
            raise RuntimeError("a watchdog already watches this thread's loop")
        _BY_THREAD[self._thread] = self
        asyncio.events.Handle._run = _watched_run  # TimerHandle's too
        self._saved = (self.loop.get_debug(), self.loop.slow_callback_duration)
        self.loop.slow_callback_duration = self.threshold
        if self.debug:
            self.loop.set_debug(True)
            logging.getLogger("asyncio").addHandler(self._records)
        gc.callbacks.append(self._gc)
        self._sampler.start()

    def uninstall(self) -> None:
        self._stopped.set()
        self._sampler.join()
        gc.callbacks.remove(self._gc)
        logging.getLogger("asyncio").removeHandler(self._records)
        assert self._saved is not None
        self.loop.set_debug(self._saved[0])
        self.loop.slow_callback_duration = self._saved[1]
        del _BY_THREAD[self._thread]
        if not _BY_THREAD:
            asyncio.events.Handle._run = _ORIGINAL_RUN
        self._sched.close()

    # -- timing

    def _run(self, handle: asyncio.Handle) -> None:
        running = _Running(handle, time.perf_counter(), self._sched())
        outermost = self._depth == 0
        self._depth += 1
        if outermost:
            self._current = running
        try:
            _ORIGINAL_RUN(handle)
        finally:
            took = time.perf_counter() - running.started
            self._depth -= 1
            if outermost:
                self._current = None
                self.steps[self.phase] += 1
                if took >= self.threshold / 2:  # near misses too, for the summary's margin
                    self._slow(running, took)
            elif took >= self.threshold and self._current is not None:
                waited = self._sched()[1] - running.sched[1]
                self._current.inner.append(f"{(took - waited) * 1000:.0f} ms in {describe(handle)}")

    def _slow(self, running: _Running, took: float) -> None:
        cpu, waiting = (now - then for now, then in zip(self._sched(), running.sched, strict=True))
        busy = collections.Counter(running.samples).most_common()
        step = SlowStep(self.phase, describe(running.handle), took, cpu, waiting, running.gc, busy, running.inner)
        step.starved = not busy and cpu - running.gc < self.threshold
        self.slow.append(step)

    def _asyncio_said(self, message: str) -> None:
        # The loop logs right after the step it names: the last slow step recorded here is that step.
        if self.slow and self.slow[-1].asyncio_said is None:
            self.slow[-1].asyncio_said = message

    def _gc(self, phase: str, info: dict) -> None:
        # A collection's wall time less its own wait for a CPU (already counted as waiting).
        if phase == "start":
            self._gc_started = (time.perf_counter(), self._sched()[1])
        elif self._gc_started is not None:
            started, waited = self._gc_started
            current = self._current
            if current is not None:
                current.gc += (time.perf_counter() - started) - (self._sched()[1] - waited)
            self._gc_started = None

    def _sample(self) -> None:
        stop = Watchdog._run.__code__
        while not self._stopped.wait(SAMPLE_EVERY):
            current = self._current
            if current is None or len(current.samples) >= MAX_SAMPLES:
                continue
            if time.perf_counter() - current.started < self.threshold / 4:
                continue
            frame = sys._current_frames().get(self._thread)
            where = busy_at(frame, stop)
            del frame
            if self._current is current:
                current.samples.append(where)

    # -- verdict

    def blocking(self, phase: str = "call") -> list[SlowStep]:
        """The steps of a phase that blocked the loop for longer than the threshold."""
        return [s for s in self.slow if s.phase == phase and s.counts(self.threshold)]

    def report(self, steps: list[SlowStep]) -> str:
        limit = f"{self.threshold * 1000:.0f} ms"
        head = f"the event loop was blocked: {len(steps)} step(s) over {limit} while the test ran"
        return "\n".join([head, *(f"{n}. {s.describe()}" for n, s in enumerate(steps, 1))])


def _watched_run(handle: asyncio.Handle) -> None:
    watchdog = _BY_THREAD.get(threading.get_ident())
    if watchdog is None:
        return _ORIGINAL_RUN(handle)
    return watchdog._run(handle)


# ---- importing bot/ before the first watched test

_warmed = False


def warm_up() -> None:
    """Import every module of bot/ once, so no test's step pays for a first import."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    import bot

    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if module.name != "bot.__main__":
            importlib.import_module(module.name)


# ---- pytest wiring (tests/conftest.py: pytest_plugins = ["tests.watchdog"])

_SESSION: list[tuple[str, float, list[SlowStep]]] = []  # (test, threshold, its slow steps)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "watchdog(threshold=None, reason=None): put a coroutine test under the event-loop watchdog; a threshold "
        f"(seconds) other than {THRESHOLD} needs its reason",
    )


@pytest.fixture(autouse=True)
def _watch_the_event_loop(request: pytest.FixtureRequest) -> None:
    # Autouse from a plugin: set up before any fixture of the test's own, so torn down after them all.
    if watched(request.node):
        request.getfixturevalue("event_loop_watchdog")


@pytest_asyncio.fixture
async def event_loop_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[Watchdog]:
    """Watch the test's event loop from here to the end of its teardown."""
    warm_up()
    debug = os.environ.get("CALBOT_WATCHDOG_ASYNCIO_DEBUG", "") not in ("", "0")
    watchdog = Watchdog(asyncio.get_running_loop(), threshold_for(request.node), debug=debug)
    request.node.stash[WATCHDOG] = watchdog
    watchdog.install()
    try:
        yield watchdog
    finally:
        watchdog.phase = "teardown"
        watchdog.uninstall()
        _record(request.node.nodeid, watchdog)


def _record(test: str, watchdog: Watchdog) -> None:
    _SESSION.append((test, watchdog.threshold, watchdog.slow))
    if path := os.environ.get("CALBOT_WATCHDOG_LOG"):
        with open(path, "a", encoding="utf-8") as out:
            for step in watchdog.slow:
                out.write(json.dumps({"test": test, **asdict(step)}, ensure_ascii=False) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    watchdog = item.stash.get(WATCHDOG, None)
    if watchdog is None:
        return (yield)
    watchdog.phase = "call"
    try:
        result = yield
    finally:
        watchdog.phase = "teardown"
    if watchdog.steps["call"] == 0:
        pytest.fail(
            "event-loop watchdog: no step of this test ran on the loop it watches (the function-scoped one); "
            "a test on another loop_scope is not watched",
            pytrace=False,
        )
    if steps := watchdog.blocking("call"):
        pytest.fail(watchdog.report(steps), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter) -> None:
    """Counts, the slowest step of any test body, and the slowest steps outside test bodies."""
    if not _SESSION:
        return
    body = [(t, s) for t, limit, steps in _SESSION for s in steps if s.phase == "call" and s.seconds >= limit]
    failed = sum(s.counts(limit) for _, limit, steps in _SESSION for s in steps if s.phase == "call")
    outside = [(t, s) for t, limit, steps in _SESSION for s in steps if s.phase != "call" and s.counts(limit)]
    slowest = max(
        ((t, s) for t, _, steps in _SESSION for s in steps if s.phase == "call" and not s.starved),
        key=lambda pair: pair[1].blocked,
        default=None,
    )
    write = terminalreporter.write_line
    terminalreporter.section("event-loop watchdog")
    write(
        f"{len(_SESSION)} tests watched. In test bodies: {failed} step(s) blocked the loop over the threshold "
        f"(failed), {len(body) - failed} more took that long in wall time only waiting for a CPU, collecting "
        f"garbage or starved (not counted)."
    )
    if slowest is not None and slowest[1].blocked >= THRESHOLD / 2:
        write(f"The step of a test body that blocked the loop longest, in {slowest[0]}:")
        write("    " + slowest[1].describe().replace("\n", "\n    "))
    else:
        write(f"No step of a test body blocked the loop for {THRESHOLD * 500:.0f} ms or more.")
    fixtures = [(t, s) for t, _, steps in _SESSION for s in steps if s.phase != "call" and not s.starved]
    longest = (
        f"the longest blocked the loop {max(s.blocked for _, s in fixtures) * 1000:.0f} ms"
        if fixtures
        else f"none took {THRESHOLD * 500:.0f} ms"
    )
    write(f"In fixture setup/teardown: {len(outside)} step(s) over the threshold (measured, not failed); {longest}.")
    for test, step in sorted(outside, key=lambda pair: -pair[1].blocked)[:5]:
        write(f"  {step.phase} of {test}:")
        write("    " + step.describe().replace("\n", "\n    "))
