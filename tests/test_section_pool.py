"""The report's section workers: results in any order, a section's error, a worker that dies and a signal
while waiting, each ending at once with no process left behind."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import communicate_or_kill, line_within

from bayeswd._interrupts import InterruptFlag
from bayeswd.commands import _ForkServer, _SectionPool
from bayeswd.exceptions import Interrupted, UsageError

BIG = np.arange(100_000.0)   # 800 kB: a Context larger than a pipe holds, as the report's are


def work(name, ctx, label, mode):
    """A stand-in section, run in a worker process; its name says what it does."""
    if name.startswith("sleep"):
        time.sleep(float(name.removeprefix("sleep")))
    elif name == "fails":
        raise UsageError("this section cannot apply to your data")
    elif name == "dies":
        os._exit(3)
    return name, ctx, os.getpid()


def section(name, *shares):
    return SimpleNamespace(NAME=name, SHARES=shares)


@pytest.fixture(autouse=True)
def _fork_server():
    yield
    _ForkServer.stop()   # the next command starts its own, with its own imports


def test_results_come_back_whatever_order_they_are_asked_in():
    names = ["sleep0.5", "a", "b", "c"]
    with _SectionPool(2, "off", work=work) as pool:
        for name in names:
            pool.submit(section(name), BIG, "")
        got = {name: pool.result(section(name), BIG) for name in reversed(names)}
        workers = [process for process, _ in pool.workers]
    assert all(got[name][0] == name and np.array_equal(got[name][1], BIG) for name in names)
    assert {got[name][2] for name in names} == {process.pid for process in workers}   # both did some
    assert all(process.exitcode == 0 for process in workers)   # told there is no more work, they returned


def test_an_error_in_a_section_is_raised_here_and_the_others_go_on():
    with _SectionPool(2, "off", work=work) as pool:
        pool.submit(section("fails"), None, "")
        pool.submit(section("a"), None, "")
        with pytest.raises(UsageError, match="cannot apply to your data") as info:
            pool.result(section("fails"), None)
        assert pool.result(section("a"), None)[0] == "a"
    assert "raised in the worker process computing 'fails'" in info.value.__notes__[0]
    assert "Traceback" in info.value.__notes__[0]


def test_a_worker_that_dies_is_an_error_naming_its_section():
    start = time.perf_counter()
    with pytest.raises(ChildProcessError, match="computing section 'dies' stopped before it finished"):
        with _SectionPool(2, "off", work=work) as pool:
            pool.submit(section("dies"), None, "")
            pool.submit(section("sleep60"), None, "")
            workers = [process for process, _ in pool.workers]
            pool.result(section("dies"), None)
    assert time.perf_counter() - start < 30   # the other worker was killed, not waited for
    assert all(process.exitcode is not None for process in workers)


def test_a_signal_while_waiting_ends_the_wait_and_the_workers_at_once():
    """The case multiprocessing.Pool could hang in: sections still to send, each larger than a pipe holds."""
    start = time.perf_counter()
    with pytest.raises(Interrupted):
        with InterruptFlag() as interrupt, _SectionPool(2, "off", interrupt, work=work) as pool:
            for name in ["sleep60", "sleep61", "a", "b"]:
                pool.submit(section(name), BIG, "")
            workers = [process for process, _ in pool.workers]
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
            pool.result(section("sleep60"), BIG)
    assert time.perf_counter() - start < 20
    assert all(process.exitcode == -signal.SIGKILL for process in workers)


def test_a_worker_whose_command_is_gone_returns_quietly(monkeypatch):
    """Killed, the command closes its ends of the pipes: a worker waiting for a section, or sending one
    back, returns without a traceback."""
    import multiprocessing

    from bayeswd import commands

    monkeypatch.setattr(commands, "_worker_start", lambda environ: None)   # it would change this process's signals
    for pending in ([], [("a", None, "", "off")]):
        ours, theirs = multiprocessing.Pipe()
        for task in pending:
            ours.send(task)
        ours.close()
        assert commands._serve(theirs, {}, work) is None


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:   # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
def test_a_report_whose_worker_is_killed_says_so_in_one_line(tmp_path):
    """As the kernel's out-of-memory killer would: the report stops with one line naming the section."""
    proc = subprocess.Popen([sys.executable, "-m", "bayeswd", "report", "--quick", "--no-cache", "--out",
                             str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        line_within(proc.stderr, ": started", 120)
        workers = [pid for child in _children(proc.pid) for pid in _children(child)]   # the fork server's
        os.kill(workers[0], signal.SIGKILL)
    except BaseException:   # fail at once, without leaving the report running for the next test
        proc.kill()
        proc.communicate()
        raise
    _, err = communicate_or_kill(proc, 60)
    assert proc.returncode == 1, err
    assert re.fullmatch(r"bayeswd: error: the worker process computing section '\w+' stopped before it finished "
                        r"\(exit code -9: killed, or out of memory\?\); rerun with --jobs 1 .*",
                        err.strip().splitlines()[-1]), err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_section_sharing_a_computation_goes_to_the_worker_that_made_it():
    # The first worker holds "x" from sleep1; the other, free first, takes sleep3 rather than b, so
    # b waits for the first worker, which computed x (ctx.once keeps it there).
    with _SectionPool(2, "off", work=work) as pool:
        for module in (section("sleep1", "x"), section("sleep0.2"), section("b", "x"), section("sleep3")):
            pool.submit(module, None, "")
        pids = {name: pool.result(section(name), None)[2] for name in ("sleep1", "sleep0.2", "b", "sleep3")}
    assert pids["b"] == pids["sleep1"] != pids["sleep3"] == pids["sleep0.2"]


def test_a_free_worker_never_waits_for_a_shared_computation():
    with _SectionPool(2, "off", work=work) as pool:
        for module in (section("sleep5", "x"), section("a"), section("b", "x")):
            pool.submit(module, None, "")
        start = time.perf_counter()
        b, a = pool.result(section("b"), None), pool.result(section("a"), None)
        assert time.perf_counter() - start < 4   # computed by the free worker, not after sleep5
        pool.result(section("sleep5"), None)
    assert b[2] == a[2]
