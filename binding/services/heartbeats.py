"""Periodic jobs say they ran: the heartbeat that /health/ and admin read (binding.selectors.sweep_state)."""

from __future__ import annotations

from django.utils import timezone

from ..models import Heartbeat


def heartbeat_record(*, name: str) -> None:
    """Record that the periodic job `name` finished now (the wall clock's now, whatever time the job was
    told it is)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"finished_at": timezone.now()})
