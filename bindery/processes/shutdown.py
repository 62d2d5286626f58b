"""Stopping child processes: asked first, killed when they do not listen."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time


def stop(*processes: subprocess.Popen | None, grace: float = 15.0, group: bool = False) -> None:
    """Stop each process still running: SIGTERM to all of them at once, then SIGKILL to any that has not
    exited within `grace` seconds of it; return once every one has exited (and is reaped).

    With `group`, each signal goes to the process's whole process group (a process started with
    `start_new_session=True`), so that a worker's pool or a server's children go with it. A None, or a process
    that already exited, is skipped.
    """
    running = [process for process in processes if process is not None and process.poll() is None]
    for process in running:
        _send(process, signal.SIGTERM, group=group)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _send(process, signal.SIGKILL, group=group)
            process.wait()


def _send(process: subprocess.Popen, sig: signal.Signals, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited (or its group emptied) in the meantime
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
