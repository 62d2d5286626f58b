"""One way to stop a child process: asked with SIGTERM, killed when it does not listen."""

import signal
import subprocess
import sys
import time

from bindery.processes import stop

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"
)


def child(code: str = "import time; time.sleep(60)", **options) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, **options)
    return process


def test_a_process_that_listens_exits_on_sigterm():
    process = child()
    stop(process, grace=10)
    assert process.returncode == -signal.SIGTERM


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace():
    process = child(IGNORES_SIGTERM)
    process.stdout.readline()  # its handler is in place
    started = time.monotonic()
    stop(process, grace=0.5)
    assert process.returncode == -signal.SIGKILL
    assert 0.5 <= time.monotonic() - started < 10


def test_several_processes_share_one_grace_and_exited_or_missing_ones_are_skipped():
    done = child("pass")
    done.wait()
    stubborn = [child(IGNORES_SIGTERM) for _ in range(3)]
    for process in stubborn:
        process.stdout.readline()
    started = time.monotonic()
    stop(done, None, *stubborn, grace=1)
    assert time.monotonic() - started < 3  # not a grace each
    assert done.returncode == 0
    assert [process.returncode for process in stubborn] == [-signal.SIGKILL] * 3


def test_with_group_the_whole_process_group_is_stopped():
    # A shell that starts a grandchild and waits: SIGTERM to the shell alone would leave the grandchild.
    leader = child(
        "import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        " print(g.pid, flush=True); time.sleep(60)",
        start_new_session=True,
    )
    grandchild = int(leader.stdout.readline())
    stop(leader, grace=10, group=True)
    assert leader.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(grandchild):
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
