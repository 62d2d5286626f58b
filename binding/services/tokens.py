"""Token requests to ExpressPlay for a media asset, each on record before it is sent and after it answers.

ExpressPlay makes a new token for every request and offers no way to read back a token it made (there is
no token lookup or revocation call), so after a lost answer the only way on is to ask again. What keeps the
count honest is the TokenRequest row written (and committed) before the request leaves and updated with
what came back: an operator sees every token that was made and every one that may have been.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

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
    Cookie,
    Entitlement,
    MediaAsset,
    TokenRequest,
    TokenRequestOutcome,
    TokenRequestPurpose,
)
from ._common import _describe

logger = logging.getLogger(__name__)


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
    cookie: Cookie | None,
    expires: timedelta,
    device_id: str | None = None,
    drm: str | None = None,
    entitlement: Entitlement | None = None,
    task_id: str = "",
    client: ExpressPlayClient | None = None,
    before_send: Callable[[], object] | None = None,
    purpose: TokenRequestPurpose | None = None,
) -> tuple[LicenseToken, TokenRequest]:
    """Return a token for `asset` from `drm`'s token API (the device's DRM; the registration's when not given),
    carrying `cookie` (none for a time-based token), with `policy` in that DRM's own terms, and its TokenRequest.

    The request is recorded (and committed, with whatever `before_send` writes) before it is sent. A failure
    is recorded here; a success is the caller's to record, with `token_request_issued` in the transaction that
    keeps the token, so that one commit stores both. Raises ExpressPlayError as the client does. `purpose` is
    on record (an entitlement's token, or a device check's, when not given).
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
        if before_send is not None:
            before_send()
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
        code, detail = _describe(exc)
        outcome = outcome_of(exc)
        TokenRequest.objects.filter(pk=attempt.pk).update(
            outcome=outcome, answered_at=timezone.now(), expressplay_code=code, detail=detail[:300]
        )
        if outcome == TokenRequestOutcome.LOST:
            logger.warning(
                "Token request %s for %s lost its answer (%s); a token may exist until %s.",
                attempt.pk,
                entitlement or cookie,
                detail,
                attempt.expires_at,
            )
        raise
    return token, attempt


def token_request_issued(attempt: TokenRequest, token: LicenseToken) -> None:
    """Record that `attempt` got `token` (call it in the transaction that stores the token)."""
    TokenRequest.objects.filter(pk=attempt.pk).update(
        outcome=TokenRequestOutcome.ISSUED, answered_at=timezone.now(), token_short=token.short
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
    token, attempt = token_request(
        asset=asset,
        policy=policy,
        cookie=None,
        expires=lifetime,
        drm=drm,
        client=client,
        purpose=TokenRequestPurpose.TIME_BASED,
    )
    token_request_issued(attempt, token)
    return token, lifetime
