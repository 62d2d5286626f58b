"""One authenticated round trip to ExpressPlay, reported in words (the operators' connection check)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from ..expressplay import (
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayRejected,
    ExpressPlayTransportError,
    client_from_settings,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionReport:
    """The outcome of one authenticated round trip to ExpressPlay."""

    environment: str
    ok: bool
    records_seen: int = 0
    error_code: int | None = None
    meaning: str = ""
    advice: str = ""
    retryable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expressplay_connection_check(*, client: ExpressPlayClient | None = None) -> ConnectionReport:
    """Return whether ExpressPlay (or the sandbox) accepts our authenticator, via one getrecord call.

    Never raises for ExpressPlay failures: they are reported with their code and meaning.
    """
    client = client or client_from_settings()
    environment = settings.EXPRESSPLAY_ENV
    try:
        records = client.get_records()
    except ExpressPlayRejected as exc:
        return ConnectionReport(
            environment, ok=False, error_code=exc.code, meaning=exc.meaning, advice=exc.advice
        )
    except ExpressPlayTransportError as exc:
        return ConnectionReport(environment, ok=False, meaning=str(exc), retryable=True)
    except ExpressPlayError as exc:
        return ConnectionReport(environment, ok=False, meaning=str(exc))
    return ConnectionReport(environment, ok=True, records_seen=len(records))
