"""Fault injection: make the sandbox behave like an ExpressPlay having a bad day, on purpose.

Off by default. SANDBOX_FAULTS (an environment variable) sets the faults a process starts with; a staff
member can change them at run time on /sandbox/faults/ (kept in the database, so every web process sees the
same within a second). Each fault applies to the ExpressPlay API calls Bindery's worker makes (token
requests and record retrieval), each at its own rate (0 to 1):

    latency_ms, jitter_ms   a fixed delay plus a uniformly random one on every call
    server_error            answer HTTP 503 without doing anything
    error_code              answer a documented ExpressPlay error (one of error_codes) without doing anything
    hang                    keep the connection open for hang_seconds (past the client's timeout)
    drop                    do the work (issue the token), then lose the answer: the connection is closed
                            unanswered (under gunicorn) or held past the client's timeout
    no_record               record retrieval by cookie answers as if nothing were logged yet

SANDBOX_FAULTS reads like "latency_ms=100,drop=0.05,error_codes=-2030 -2019".

The same row holds the device-binding switch (device_binding_drms): the DRMs on which the token endpoints
accept a device restriction, SANDBOX_DEVICE_BINDING_DRMS (PlayReady only) unless staff changed it. It is
read with the faults, in the same query and under the same one-second cache.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import time
from dataclasses import asdict, dataclass, fields, replace

from django.conf import settings
from django.db import transaction

from .errors import SandboxError

logger = logging.getLogger(__name__)
_CACHE_SECONDS = 1.0
ERROR_CODES = re.compile(r"(-[0-9]{4}\s*)*")
MAX_DELAY_MS = 60_000
MAX_HANG_SECONDS = 120.0
# (read at, faults in force, DRMs the row says bind or None for the setting's)
_cache: tuple[float, Faults, tuple[str, ...] | None] | None = None


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    jitter_ms: int = 0
    server_error: float = 0.0
    error_code: float = 0.0
    error_codes: str = "-2030"
    hang: float = 0.0
    hang_seconds: float = 15.0
    drop: float = 0.0
    no_record: float = 0.0

    @property
    def active(self) -> bool:
        rates = (self.server_error, self.error_code, self.hang, self.drop, self.no_record)
        return any((self.latency_ms, self.jitter_ms, *rates))

    def describe(self) -> str:
        """The faults that are on, in words ("300 ms per call, 15 % HTTP 503, …")."""
        from django.utils.translation import gettext as _

        parts = []
        if self.latency_ms or self.jitter_ms:
            parts.append(_("%(ms)s ms per call") % {"ms": self.latency_ms + self.jitter_ms // 2})
        for rate, words in (
            (self.server_error, _("%(rate)s HTTP 503")),
            (self.error_code, _("%(rate)s ExpressPlay error codes")),
            (self.hang, _("%(rate)s calls hang")),
            (self.drop, _("%(rate)s answers lost")),
            (self.no_record, _("%(rate)s lookups find no record yet")),
        ):
            if rate:
                parts.append(words % {"rate": f"{rate:.0%}"})
        return ", ".join(parts)

    def codes(self) -> list[int]:
        return [
            int(code) for code in self.error_codes.replace(",", " ").split() if code.lstrip("-").isdigit()
        ]

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def parse(cls, text: str) -> Faults:
        """Return the faults described by "name=value,..." (unknown names and bad values are refused)."""
        faults, types = cls(), {f.name: f.type for f in fields(cls)}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in types:
                raise ValueError(f"SANDBOX_FAULTS: unknown fault {name!r}")
            kind = {"int": int, "float": float, "str": str}[types[name]]
            faults = replace(faults, **{name: kind(value.strip())})  # ValueError for a bad number
        return faults


def _state() -> tuple[Faults, tuple[str, ...] | None]:
    """Return (the faults in force, the device-binding DRMs the row sets or None), cached for a second."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
        return _cache[1], _cache[2]
    from .models import FaultSettings

    row = FaultSettings.objects.filter(pk=1).first()
    try:
        faults = row.as_faults() if row else Faults.parse(settings.SANDBOX_FAULTS)
    except ValueError:  # a typo must not break the sandbox; `manage.py check` names it (sandbox.E001)
        logger.exception("SANDBOX_FAULTS is unreadable; no faults injected")
        faults = Faults()
    binding = row.device_binding() if row else None
    _cache = (now, faults, binding)
    return faults, binding


def current() -> Faults:
    """Return the faults in force: the staff page's (database) if set, else SANDBOX_FAULTS'."""
    return _state()[0]


def default_device_binding_drms() -> tuple[str, ...]:
    """The DRMs whose device restriction ExpressPlay accepts by default: SANDBOX_DEVICE_BINDING_DRMS."""
    from .models import DRMS

    chosen = set(settings.SANDBOX_DEVICE_BINDING_DRMS)
    return tuple(code for code, _name in DRMS if code in chosen)


def device_binding_drms() -> tuple[str, ...]:
    """The DRMs on which the token endpoints accept a device restriction now: the staff switch's (database)
    if set, else the setting's (read live, so a reset to the default follows the deployment's setting)."""
    binding = _state()[1]
    return default_device_binding_drms() if binding is None else binding


def device_binding_default() -> None:
    """Put the device-binding switch back to its default (the setting), for every process within a second."""
    from .models import FaultSettings

    FaultSettings.objects.filter(pk=1).update(device_binding_drms=None)
    forget()
    transaction.on_commit(forget)  # inside a transaction (a demo reset), forget again once it is visible


def faults_off() -> None:
    """Switch every fault off, for every process within a second (the faults page's "All faults off", a demo
    reset that asks for it)."""
    from .models import FaultSettings

    FaultSettings.objects.update_or_create(pk=1, defaults=Faults().as_dict())
    forget()
    transaction.on_commit(forget)  # inside a transaction (a demo reset), forget again once it is visible


def forget() -> None:
    """Drop the cached faults and switch (after the staff page or a test changes them)."""
    global _cache
    _cache = None


def before_call(*, faults: Faults, lookup: bool = False, rng: random.Random | None = None) -> str:
    """Apply latency, then pick at most one fault for this call; return its name ("" for none).

    Raises SandboxError for server_error and error_code; sleeps for hang (then raises a 503 that the client
    has stopped waiting for). The caller handles "drop" (after the work) and "no_record".
    """
    if not faults.active:
        return ""
    rng = rng or random
    delay = faults.latency_ms + (rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
    if delay > 0:
        time.sleep(min(delay, MAX_DELAY_MS) / 1000)
    roll = rng.random()
    for name in ("server_error", "error_code", "hang", "drop", "no_record"):
        rate = getattr(faults, name)
        if name == "no_record" and not lookup:
            continue
        if roll < rate:
            break
        roll -= rate
    else:
        return ""
    if name == "server_error":
        raise SandboxError(-2030, "injected fault: server error", status=503)
    if name == "error_code":
        codes = faults.codes() or [-2030]
        raise SandboxError(rng.choice(codes), "injected fault")
    if name == "hang":
        time.sleep(_hang_seconds(faults))
        raise SandboxError(-2030, "injected fault: hung", status=503)
    return name


def drop_answer(request, *, faults: Faults) -> None:
    """Lose the answer to `request`: close its connection unanswered where the server lets us (gunicorn),
    else hold it past the client's timeout."""
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
            return
        except OSError:
            pass
    time.sleep(_hang_seconds(faults))


def _hang_seconds(faults: Faults) -> float:
    return min(max(faults.hang_seconds, 0.0), MAX_HANG_SECONDS)
