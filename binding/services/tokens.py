"""Token requests to ExpressPlay for a media asset: the whole life of one, from its record to the token kept.

ExpressPlay makes a new token for every request and offers no way to read back a token it made (there is
no token lookup or revocation call), so after a lost answer the only way on is to ask again. What keeps the
count honest is the TokenRequest row written (and committed) before the request leaves and updated with
what came back: an operator sees every token that was made and every one that may have been.

`token_request` owns each step: (1) the request on record, committed with what the caller's `guard` checks
or writes (an issuing run's claim); (2) the request sent; (3a) a failure recorded, then raised; or (3b) the
request marked issued in one commit with what the caller's `keep` stores of the token (an entitlement made
ready, a device check's licence URL, a Play's session), so that a token is never kept without its record
saying so, nor recorded issued without being kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..expressplay import (
    BuyToOwn,
    ContentKey,
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayRejected,
    ExpressPlayRequestInvalid,
    ExpressPlayTransportError,
    LicenseToken,
    Policy,
    Rental,
    client_from_settings,
)
from ..models import (
    Entitlement,
    MediaAsset,
    Registration,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)
from ._common import _describe

logger = logging.getLogger(__name__)

Kept = TypeVar("Kept")


def outcome_of(exc: ExpressPlayError) -> TokenRequestOutcome:
    """Return what a failed token request means for the count of tokens that exist."""
    if isinstance(exc, ExpressPlayRejected):
        return TokenRequestOutcome.REFUSED
    if isinstance(exc, ExpressPlayRequestInvalid):
        return TokenRequestOutcome.NOT_SENT
    if isinstance(exc, ExpressPlayTransportError):
        if exc.status is not None:
            return TokenRequestOutcome.SERVER_ERROR
        if not exc.sent:
            return TokenRequestOutcome.NOT_SENT
    # A timeout, a dropped connection or an unreadable 2xx: ExpressPlay may have made the token.
    return TokenRequestOutcome.LOST


def token_request(
    *,
    asset: MediaAsset,
    policy: Policy,
    cookie: Registration | None,
    expires: timedelta,
    keep: Callable[[LicenseToken, TokenRequest], Kept],
    device_id: str | None = None,
    drm: str | None = None,
    entitlement: Entitlement | None = None,
    task_id: str = "",
    client: ExpressPlayClient | None = None,
    guard: Callable[[], object] | None = None,
    purpose: TokenRequestPurpose | None = None,
) -> Kept:
    """Ask `drm`'s token API (the device's DRM; the registration's when not given) for a token for `asset`,
    carrying `cookie` (none for a time-based token), with `policy` in that DRM's own terms; return what
    `keep(token, attempt)` returns.

    The request is recorded and committed before it is sent, with whatever `guard()` writes in the same
    commit; `guard` raising stops the request before it leaves, and nothing of it is kept. A failure is recorded, then ExpressPlayError raised as the client raised it. A
    success is recorded in one commit with `keep`'s writes. `purpose` is on record (an entitlement's token,
    or a device check's, when not given).
    """
    client = client or client_from_settings()
    drm = drm or (cookie.drm if cookie else None)
    if not drm:
        raise ValueError("a token request without a registration names its DRM")
    with transaction.atomic():
        attempt = TokenRequest.objects.create(
            purpose=purpose
            or (TokenRequestPurpose.ENTITLEMENT if entitlement else TokenRequestPurpose.DEVICE_CHECK),
            entitlement=entitlement,
            cookie=cookie,
            task_id=task_id[:64],
            drm=drm,
            device_id=device_id or "",
            expires_at=timezone.now() + expires,
        )
        if guard is not None:
            guard()
    try:
        token = client.token(
            drm,
            key=ContentKey(kid=asset.kid, key=asset.key),
            policy=policy,
            iv=asset.iv,
            cookie=cookie.value if cookie else None,
            device_id=device_id,
            expires=expires,
        )
    except ExpressPlayError as exc:
        _token_request_failed(attempt, exc, entitlement or cookie)
        raise
    with transaction.atomic():
        TokenRequest.objects.filter(pk=attempt.pk).update(
            outcome=TokenRequestOutcome.ISSUED, answered_at=timezone.now(), token_short=token.short
        )
        return keep(token, attempt)


def _token_request_failed(attempt: TokenRequest, exc: ExpressPlayError, subject: object) -> None:
    code, detail = _describe(exc)
    outcome = outcome_of(exc)
    TokenRequest.objects.filter(pk=attempt.pk).update(
        outcome=outcome, answered_at=timezone.now(), expressplay_code=code, detail=detail[:300]
    )
    if outcome == TokenRequestOutcome.LOST:
        logger.warning(
            "Token request %s for %s lost its answer (%s); a token may exist until %s.",
            attempt.pk,
            subject,
            detail,
            attempt.expires_at,
        )


def time_based_token_issue(
    *, asset: MediaAsset, drm: str, rental: timedelta | None = None, client: ExpressPlayClient | None = None
) -> tuple[LicenseToken, timedelta]:
    """Return a token for `asset` that is time-bound only, with no device restriction, and how long it lives:
    SEES's time-based entitlement (requestType 1), asked for by an API client that decided the entitlement
    itself (decision 0008). `rental` makes it a rental of that length; without it the licence is BuyToOwn
    for the token's ENTITLEMENT_TOKEN_LIFETIME. On record as a TIME_BASED TokenRequest, committed before it is
    sent. Raises ExpressPlayError as the client does."""
    lifetime = min(rental or timedelta(seconds=settings.ENTITLEMENT_TOKEN_LIFETIME), timedelta(days=30))
    policy = Rental(period_end=timezone.now() + rental) if rental else BuyToOwn()
    token = token_request(
        asset=asset,
        policy=policy,
        cookie=None,
        expires=lifetime,
        keep=lambda token, attempt: token,  # the API client keeps it: nothing of it is stored here
        drm=drm,
        client=client,
        purpose=TokenRequestPurpose.TIME_BASED,
    )
    return token, lifetime
