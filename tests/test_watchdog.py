"""The event-loop watchdog (tests/watchdog.py) can fail: a step that blocks the loop for over 100 ms fails its test,
named with its duration; fast steps, long awaits and slow fixture setup do not.

The cases run in a pytest of their own (a subprocess) over a tiny generated test file that uses the watchdog as
the behaviour suites do, so this suite stays green and the watchdog's patching stays out of this process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.watchdog import REPOSITORY

TESTS = """
import asyncio
import time

import pytest

pytestmark = pytest.mark.watchdog


async def test_a_coroutine_that_sleeps_in_a_step():
    await asyncio.sleep(0)
    time.sleep(0.15)  # blocks the loop


async def test_a_blocking_callback():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(lambda: (time.sleep(0.15), done.set_result(None)))
    await done


async def test_a_timer_run_inside_another_step():
    # What SimCord's advance_time does with the timers that fall due: runs them inside one step of its own.
    loop = asyncio.get_running_loop()
    timer = asyncio.TimerHandle(loop.time(), time.sleep, (0.15,), loop)
    loop.call_soon(timer._run)
    await asyncio.sleep(0.01)


async def test_fast_steps_and_a_long_await():
    for _ in range(5):
        time.sleep(0.02)  # 20 ms steps: under the threshold
        await asyncio.sleep(0)
    await asyncio.sleep(0.3)  # waiting is not blocking


@pytest.fixture
async def slow_setup():
    await asyncio.sleep(0)
    time.sleep(0.15)  # like SimCord and the bot starting: measured and reported, not failed
    yield


async def test_slow_fixture_setup_is_not_the_test(slow_setup):
    await asyncio.sleep(0)


@pytest.mark.watchdog(threshold=0.4, reason="proves an override with its reason is honoured")
async def test_a_threshold_with_its_reason():
    await asyncio.sleep(0)
    time.sleep(0.15)


@pytest.mark.watchdog(threshold=0.4)
async def test_a_threshold_without_a_reason():
    await asyncio.sleep(0)


def test_a_plain_test_is_not_watched():
    time.sleep(0.15)
"""


def run_tiny(folder: Path, *args: str, **environ: str) -> str:
    """A pytest run (a subprocess) over the tiny test file, using the watchdog as tests/conftest.py does."""
    folder.joinpath("pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    folder.joinpath("conftest.py").write_text('pytest_plugins = ["tests.watchdog"]\n')
    folder.joinpath("test_tiny.py").write_text(TESTS)
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "PYTHONPATH": path, **environ}
    environment.pop("CALBOT_WATCHDOG_LOG", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "test_tiny.py", *args],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_tiny(tmp_path_factory.mktemp("watchdog"))


def section(output: str, test: str) -> str:
    """The failure text of one test."""
    match = re.search(rf"_{{3,}} {test} _{{3,}}\n(.*?)(?=\n_{{3,}} |\n={{3,}} )", output, re.S)
    assert match, f"no failure section for {test}:\n{output}"
    return match.group(1)


def blocked_ms(text: str) -> list[int]:
    return [int(ms) for ms in re.findall(r"(\d+) ms blocked", text)]


def test_a_blocking_step_fails_its_test_naming_it_and_fast_ones_do_not(output):
    counts = dict((word, int(n)) for n, word in re.findall(r"(\d+) (passed|failed|errors?)\b", output.splitlines()[-1]))
    assert counts == {"failed": 3, "passed": 4, "error": 1}, output

    text = section(output, "test_a_coroutine_that_sleeps_in_a_step")
    assert "the event loop was blocked: 1 step(s) over 100 ms while the test ran" in text
    assert "test_a_coroutine_that_sleeps_in_a_step()" in text  # the task's coroutine
    assert all(145 <= ms < 1000 for ms in blocked_ms(text)) and blocked_ms(text)
    assert re.search(r"busy at \(\d+/\d+ samples\): .*test_tiny\.py:\d+ test_a_coroutine_that_sleeps_in_a_step", text)

    text = section(output, "test_a_blocking_callback")
    assert "callback test_a_blocking_callback.<locals>.<lambda>()" in text
    assert blocked_ms(text) and blocked_ms(text)[0] >= 145

    text = section(output, "test_a_timer_run_inside_another_step")
    assert re.search(r"of which \d+ ms in callback sleep\(0\.15\)", text)  # the timer, named inside the step

    for passed in (
        "test_fast_steps_and_a_long_await",
        "test_slow_fixture_setup_is_not_the_test",
        "test_a_threshold_with_its_reason",
        "test_a_plain_test_is_not_watched",
    ):
        assert f"PASSED test_tiny.py::{passed}" in output


def test_slow_fixture_setup_is_measured_and_reported_not_failed(output):
    summary = output.split("event-loop watchdog", 1)[1]
    assert "In fixture setup/teardown: 1 step(s) over the threshold (measured, not failed)" in summary
    assert re.search(r"setup of test_tiny\.py::test_slow_fixture_setup_is_not_the_test:\n +\d+ ms blocked", summary)
    assert re.search(r"busy at \(\d+/\d+ samples\): .*test_tiny\.py:\d+ slow_setup", summary)


def test_with_asyncio_debug_mode_its_own_record_is_shown_with_the_step(tmp_path):
    output = run_tiny(tmp_path, "-k", "sleeps_in_a_step or fast_steps", CALBOT_WATCHDOG_ASYNCIO_DEBUG="1")
    assert "1 failed, 1 passed" in output.splitlines()[-1], output
    text = section(output, "test_a_coroutine_that_sleeps_in_a_step")
    assert re.search(r"asyncio: Executing <Task .*test_a_coroutine_that_sleeps_in_a_step.* took 0\.1\d\d seconds", text)


def test_a_threshold_needs_its_reason(output):
    assert "ERROR test_tiny.py::test_a_threshold_without_a_reason" in output
    assert "@pytest.mark.watchdog(threshold=...) needs reason='why'" in output
