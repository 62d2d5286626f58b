"""Which DRMs a deployment offers, and how each one's titles are bound to a device (decision 0013).

A device's DRM is a fact about the device: the browser chose it when it registered (the first key system of
EXPRESSPLAY_DRMS it supports), and every token for the device comes from that DRM's token API. How a DRM's
titles are bound is a setting (EXPRESSPLAY_BINDING), unless ExpressPlay refused device binding on it
(-7002 Widevine, -6008 FairPlay): from then on the DRM's fallback mode (EXPRESSPLAY_BINDING_FALLBACK) holds,
on record as a DrmFallback row that admin and /health/ show.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import Actor, BindingMode, DrmChoices, DrmFallback, EventKind
from ._common import _event

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)

# The EME key system of each DRM, as browsers name it.
KEY_SYSTEMS = {
    DrmChoices.PLAYREADY: "com.microsoft.playready",
    DrmChoices.WIDEVINE: "com.widevine.alpha",
    DrmChoices.FAIRPLAY: "com.apple.fps",
}
CLEARKEY = "org.w3.clearkey"
# ExpressPlay's "Device ID binding is not supported for Widevine / FairPlay" (research section 8).
# Keyed by an optional code: a rejection without a code is no DRM's.
BINDING_UNSUPPORTED: dict[int | None, str] = {-7002: DrmChoices.WIDEVINE, -6008: DrmChoices.FAIRPLAY}


def offered_drms() -> list[str]:
    """Return the DRMs this deployment offers, in the order a browser tries them."""
    return [drm for drm in settings.EXPRESSPLAY_DRMS if drm in DrmChoices.values]


def configured_mode(drm: str) -> str:
    """Return the binding mode the settings give `drm` (expressplay when unset)."""
    mode: str = settings.EXPRESSPLAY_BINDING.get(drm, BindingMode.EXPRESSPLAY)
    return mode


def fallback_mode(drm: str) -> str:
    """Return the mode `drm` moves to when ExpressPlay refuses to bind on it (bindery when unset)."""
    mode = settings.EXPRESSPLAY_BINDING_FALLBACK.get(drm, BindingMode.BINDERY)
    return mode if mode != BindingMode.EXPRESSPLAY else BindingMode.BINDERY


def binding_mode(drm: str) -> str:
    """Return how `drm`'s titles are bound now: its fallback once ExpressPlay refused binding on it, else the
    configured mode. One indexed read."""
    mode = configured_mode(drm)
    if mode != BindingMode.EXPRESSPLAY:
        return mode
    fallback = DrmFallback.objects.filter(drm=drm).values_list("mode", flat=True).first()
    return fallback or mode


def binding_modes() -> dict[str, str]:
    """Return every offered DRM's binding mode now (one query)."""
    fallen = dict(DrmFallback.objects.values_list("drm", "mode"))
    modes = {}
    for drm in offered_drms():
        mode = configured_mode(drm)
        modes[drm] = fallen.get(drm, mode) if mode == BindingMode.EXPRESSPLAY else mode
    return modes


def drm_fall_back(drm: str, *, code: int | None, detail: str = "") -> str:
    """Record that ExpressPlay refused device binding on `drm` (answering `code`) and return the mode its titles
    are bound by from now on. Idempotent: concurrent refusals record one fallback."""
    mode = fallback_mode(drm)
    try:
        with transaction.atomic():
            created = DrmFallback.objects.get_or_create(
                drm=drm, defaults={"mode": mode, "expressplay_code": code, "detail": detail[:300]}
            )[1]
    except IntegrityError:  # another worker recorded it first
        created = False
    if created:
        logger.warning(
            "ExpressPlay refused device binding on %s (%s): its titles are bound %s from now on.",
            DrmChoices(drm).label,
            code,
            mode,
        )
    return DrmFallback.objects.filter(drm=drm).values_list("mode", flat=True).first() or mode


@transaction.atomic
def drm_fallback_clear(*, fallback: DrmFallback, actor_user: User | None, reason: str = "") -> bool:
    """Forget that ExpressPlay refused device binding on a DRM (an operator's "try again", after the account
    changed): titles bought from now on ask ExpressPlay to bind again; titles already bound by Bindery stay so
    until moved or re-issued. Return False when the fallback was gone already."""
    deleted, _by_model = DrmFallback.objects.filter(pk=fallback.pk).delete()
    if deleted:
        _event(
            EventKind.DRM_BINDING_RETRIED,
            actor=Actor.OPERATOR,
            actor_user=actor_user,
            code=fallback.expressplay_code,
            detail=(
                f"{DrmChoices(fallback.drm).label}: ExpressPlay's device binding is tried again (bound "
                f"{fallback.mode} since {fallback.since:%Y-%m-%d %H:%M} UTC){': ' + reason if reason else ''}"
            ),
        )
        logger.warning(
            "%s: ExpressPlay's device binding is to be tried again", DrmChoices(fallback.drm).label
        )
    return bool(deleted)


def drm_fallbacks() -> list[DrmFallback]:
    """Return the DRMs on which ExpressPlay refused device binding, and how they are bound instead."""
    return list(DrmFallback.objects.order_by("drm"))


def key_system(drm: str) -> str:
    """Return the EME key system the player asks for to play `drm`'s tokens: the DRM's own, or ClearKey in
    the sandbox (the only CDM a test browser has; the sandbox's licence servers all answer in ClearKey)."""
    if settings.EXPRESSPLAY_ENV == "sandbox":
        return CLEARKEY
    return KEY_SYSTEMS[DrmChoices(drm)]
