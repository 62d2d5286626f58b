"""Helpers shared by the binding services: the audit trail and ExpressPlay failures in words."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..expressplay import (
    ExpressPlayError,
    ExpressPlayRejected,
)
from ..models import (
    Actor,
    BindingEvent,
    Device,
    Entitlement,
    EventKind,
    Registration,
)
from ..signals import binding_event_recorded

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)


def _event(
    kind: EventKind,
    *,
    user: User | None = None,
    cookie: Registration | None = None,
    device: Device | None = None,
    entitlement: Entitlement | None = None,
    reporting_device: Device | None = None,
    actor: Actor = Actor.SYSTEM,
    actor_user: User | None = None,
    code: int | None = None,
    detail: str = "",
) -> BindingEvent:
    event = BindingEvent.objects.create(
        kind=kind,
        user=user,
        cookie=cookie,
        device=device,
        entitlement=entitlement,
        reporting_device=reporting_device,
        actor=actor,
        actor_user=actor_user,
        expressplay_code=code,
        detail=detail[:500],
    )
    binding_event_recorded.send(sender=BindingEvent, event=event)
    return event


def _describe(exc: ExpressPlayError) -> tuple[int | None, str]:
    """Return (ExpressPlay code, operator-facing explanation) of a client failure."""
    if isinstance(exc, ExpressPlayRejected):
        return exc.code, f"{exc.meaning} {exc.advice}".strip()
    return None, str(exc)
