"""Bindery's own binding at Play, for DRMs on which ExpressPlay will not bind a device (decision 0013).

A title bound by Bindery keeps no token. At each Play the page proves, with the device key its registration
proved, that it is the browser the title is bound to: it signs a one-time challenge, and its signed
registration cookie names the registration of that very device. Bindery then starts a playback session
(BINDING_CONCURRENT_PLAYS live ones per entitlement at most), asks ExpressPlay for a short token without a
device restriction (BINDING_PLAY_TOKEN_TTL seconds, and no more viewing time than the rental has left) and
keeps it on the session. The token never reaches the browser: the player sends its licence requests, each
signed with the device key, to Bindery's licence proxy, which relays them to the token's licence server for
the live session of that browser only.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..exceptions import PlayRefused, PlayUnavailable
from ..expressplay import (
    ExpressPlayClient,
    ExpressPlayError,
    ExpressPlayRejected,
    ExpressPlayTransportError,
    LicenceAnswer,
    LicenseToken,
    Policy,
    Rental,
    client_from_settings,
)
from ..models import (
    BindingMode,
    Device,
    Entitlement,
    EntitlementState,
    PlayLicenceRequest,
    PlaySession,
    Registration,
    TokenRequest,
    TokenRequestPurpose,
)
from ..selectors import registration_for_browser
from .identity import IdentityInvalid, Proof, play_message, proof_verify
from .issuing import entitlement_policy
from .tokens import token_request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)

CHALLENGE_SALT = "bindery.play-challenge"
CHALLENGE_MAX_AGE = 120  # seconds a rendered Play challenge may wait for the Play button
# The headers with which the page signs a licence request (static/js/device-identity.js `sign()`).
KEY_HEADER = "X-Sandbox-Device-Key"
TIME_HEADER = "X-Sandbox-Device-Time"
NONCE_HEADER = "X-Sandbox-Device-Nonce"
SIGNATURE_HEADER = "X-Sandbox-Device-Signature"
DEVICE_HEADERS = (KEY_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
LICENCE_REQUEST_SKEW = 300  # seconds between the device's clock and ours that a signed request may differ
LICENCE_REQUEST_MAX_BYTES = 64 * 1024  # a Widevine challenge or a FairPlay SPC is a few kilobytes
# In the web request, while the customer waits: shorter than the worker's EXPRESSPLAY_TIMEOUT.
PLAY_TOKEN_TIMEOUT = 5.0
LICENCE_TIMEOUT = 10.0
_NONCE = re.compile(r"[0-9a-f]{32}")
_STAMP = re.compile(r"[0-9]{1,12}")


def play_challenge(entitlement: Entitlement) -> str:
    """Return a fresh one-time Play challenge for `entitlement`: signed, stateless (nothing is written; a GET
    may render it), good for CHALLENGE_MAX_AGE seconds and spent by the session it starts."""
    return signing.dumps({"e": entitlement.pk, "n": secrets.token_hex(16)}, salt=CHALLENGE_SALT)


def _refused(reason: str, message: str, status: int = 403) -> PlayRefused:
    return PlayRefused(message, reason=reason, status=status)


def _proven_browser(*, user: User, entitlement: Entitlement, browser_cookie: str | None) -> Registration:
    """Return the registration of the browser asking, when it may play `entitlement` bound by Bindery: the
    customer's own, ready, bound by Bindery to an active device, and this browser's bound registration is
    of that very device. Raise PlayRefused saying why otherwise."""
    if entitlement.user_id != user.pk:
        raise _refused("not-yours", _("This title is not in your library."), 404)
    state = entitlement.effective_state
    if state == EntitlementState.EXPIRED:
        raise _refused("over", _("This rental has ended."), 410)
    if state != EntitlementState.READY:
        raise _refused("not-ready", _("This title cannot be played right now. Go back to My library."), 409)
    if entitlement.bound_by != BindingMode.BINDERY:
        raise _refused("not-bindery", _("This title plays with a licence of its own. Reload the page."), 409)
    device = entitlement.device
    if device is None or not device.is_active:
        raise _refused(
            "device-removed",
            _(
                "This title is bound to a device you removed. Open My library in the browser you want to watch "
                "in and choose “Move to this device”."
            ),
        )
    cookie = registration_for_browser(user, browser_cookie)
    if cookie is None:
        raise _refused(
            "not-registered",
            _(
                "This browser is not registered as one of your devices, so it cannot play this title: it plays "
                "only in the browser it is bound to."
            ),
        )
    if cookie.device_id != device.pk:
        raise _refused(
            "other-device",
            _("This title is bound to your device “%(label)s”, so it cannot play in this browser.")
            % {"label": device.label},
        )
    if not device.identity_key:
        raise _refused(
            "no-device-key",
            _("This browser registered before Bindery kept device keys. Register it again under My devices."),
        )
    return cookie


def _wrong_key() -> PlayRefused:
    return _refused(
        "wrong-key", _("This browser could not prove that it is the device this title is bound to.")
    )


def play_policy(entitlement: Entitlement, now: datetime) -> Policy:
    """Return the rights of one Play's licence: the entitlement's, with a rental's viewing time counted from
    its first play, so that each licence may play only what is left. Raise PlayRefused once none is left."""
    policy = entitlement_policy(entitlement)
    if isinstance(policy, Rental) and entitlement.play_duration and entitlement.first_played_at:
        left = entitlement.play_duration - int((now - entitlement.first_played_at).total_seconds())
        if left <= 0:
            raise _refused("viewing-time-used", _("The viewing time of this rental is used up."), 410)
        policy = Rental(period_end=policy.period_end, play_duration=left)
    return policy


def _session_end(session: PlaySession, reason: str) -> None:
    PlaySession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason[:120]
    )


def play_session_start(
    *,
    user: User,
    entitlement: Entitlement,
    browser_cookie: str | None,
    challenge: str,
    proof: Proof | None,
    client: ExpressPlayClient | None = None,
) -> PlaySession:
    """Start a playback session of a title bound by Bindery in the browser asking, and ask ExpressPlay for its
    short token; return the session (its licence URL is for the licence proxy only).

    The browser must be the entitlement's device (see _proven_browser) and sign `challenge` (play_challenge,
    unspent, not older than CHALLENGE_MAX_AGE) with that device's key; fewer than BINDING_CONCURRENT_PLAYS
    sessions of the entitlement may be live. Raises PlayRefused saying why not, PlayUnavailable when
    ExpressPlay cannot be reached (the session is ended, nothing else is spent: Play may be pressed again).
    """
    entitlement = Entitlement.objects.select_related("asset", "device").get(pk=entitlement.pk)
    cookie = _proven_browser(user=user, entitlement=entitlement, browser_cookie=browser_cookie)
    # _proven_browser refused an entitlement without an active device.
    device = cast(Device, entitlement.device)
    try:
        data = signing.loads(challenge, salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise _refused("challenge-expired", _("This page waited too long. Press Play again."), 409) from exc
    except signing.BadSignature as exc:
        raise _refused(
            "challenge-invalid", _("This Play request is not valid. Reload the page."), 400
        ) from exc
    if not isinstance(data, dict) or data.get("e") != entitlement.pk or not isinstance(data.get("n"), str):
        raise _refused("challenge-invalid", _("This Play request is not valid. Reload the page."), 400)
    try:
        if proof is None:
            raise IdentityInvalid("no device key proof")
        proof_verify(proof, play_message(challenge), expected_key=device.identity_key)
    except IdentityInvalid as exc:
        logger.info("Entitlement %s: Play refused: %s", entitlement.pk, exc)
        raise _wrong_key() from exc
    now = timezone.now()
    policy = play_policy(entitlement, now)
    limit = settings.BINDING_CONCURRENT_PLAYS
    try:
        with transaction.atomic():
            # One at a time per entitlement (PostgreSQL: the row lock; SQLite: the INSERT's write lock), so that
            # the count below sees every other session that got in.
            Entitlement.objects.select_for_update().filter(pk=entitlement.pk).values_list("pk").first()
            session = PlaySession.objects.create(
                entitlement=entitlement, cookie=cookie, nonce=data["n"], started_at=now, last_seen=now
            )
            if PlaySession.objects.live(now).filter(entitlement=entitlement).count() > limit:
                raise _refused(
                    "session-limit",
                    ngettext(
                        "This title is already playing in %(count)d window, the most at one time. Stop it, "
                        "then press Play again.",
                        "This title is already playing in %(count)d windows, the most at one time. Stop one of "
                        "them, then press Play again.",
                        limit,
                    )
                    % {"count": limit},
                    429,
                )
    except IntegrityError as exc:
        raise _refused("challenge-used", _("This Play was started already. Press Play again."), 409) from exc

    def keep(token: LicenseToken, attempt: TokenRequest) -> None:
        # In the commit that marks the request issued: the session's licence URL and its request.
        PlaySession.objects.filter(pk=session.pk).update(license_url=token.license_url, token_request=attempt)

    try:
        token_request(
            asset=entitlement.asset,
            policy=policy,
            cookie=cookie,
            expires=timedelta(seconds=settings.BINDING_PLAY_TOKEN_TTL),
            keep=keep,
            device_id=None,
            drm=device.drm,
            entitlement=entitlement,
            client=client or client_from_settings(timeout=PLAY_TOKEN_TIMEOUT),
            purpose=TokenRequestPurpose.PLAY,
        )
    except ExpressPlayTransportError as exc:
        _session_end(session, f"ExpressPlay unreachable: {exc}")
        raise PlayUnavailable() from exc
    except ExpressPlayRejected as exc:
        _session_end(session, f"ExpressPlay refused: {exc.code}")
        raise _refused(
            "token-refused",
            _("The licence service refused this Play (code %(code)s). Our support team can see why.")
            % {"code": exc.code},
            502,
        ) from exc
    except ExpressPlayError as exc:
        _session_end(session, str(exc))
        raise _refused("token-refused", _("This title cannot be played any more."), 410) from exc
    session.refresh_from_db()
    return session


def _session_for_browser(*, user: User, session_id: UUID, browser_cookie: str | None) -> PlaySession:
    """Return the live session `session_id` when the browser asking started it; raise PlayRefused."""
    session = (
        PlaySession.objects.select_related("entitlement__device", "entitlement__asset", "cookie")
        .filter(pk=session_id)
        .first()
    )
    if session is None or session.entitlement.user_id != user.pk:
        raise _refused("no-session", _("This playback session is not yours."), 404)
    cookie = _proven_browser(user=user, entitlement=session.entitlement, browser_cookie=browser_cookie)
    if cookie.pk != session.cookie_id:
        raise _refused("other-browser", _("This playback session was started in another browser."))
    if not session.is_live:
        raise _refused("session-ended", _("This playback session has ended. Press Play again."), 410)
    return session


def play_session_heartbeat(*, user: User, session_id: UUID, browser_cookie: str | None) -> PlaySession:
    """Keep the browser's live session live (the player calls it every PlaySession.HEARTBEAT seconds); raise
    PlayRefused when it is not the browser's, or has ended."""
    session = _session_for_browser(user=user, session_id=session_id, browser_cookie=browser_cookie)
    now = timezone.now()
    # One conditional UPDATE: a session that has just gone stale stays over.
    kept = PlaySession.objects.live(now).filter(pk=session.pk).update(last_seen=now)
    if not kept:
        raise _refused("session-ended", _("This playback session has ended. Press Play again."), 410)
    session.last_seen = now
    return session


def play_session_end(
    *, user: User, session_id: UUID, browser_cookie: str | None, reason: str = "page closed"
) -> bool:
    """End the browser's session (the page went away, or playback ended); return whether one was ended."""
    return bool(
        PlaySession.objects.filter(
            pk=session_id, entitlement__user=user, cookie__value=browser_cookie or "", ended_at__isnull=True
        ).update(ended_at=timezone.now(), end_reason=reason[:120])
    )


def play_licence_relay(
    *,
    user: User,
    session_id: UUID,
    browser_cookie: str | None,
    body: bytes,
    headers: Mapping[str, str],
    content_type: str = "application/octet-stream",
    client: ExpressPlayClient | None = None,
    now: float | None = None,
) -> LicenceAnswer:
    """Relay a player's licence request to the licence server of its live playback session and return the
    answer as it came (ExpressPlay's error JSON included).

    Only for the browser that started the session, while it is live, and only when the request is signed with
    the device key of the entitlement's device over body + "\\n" + time + "\\n" + nonce (the time within
    LICENCE_REQUEST_SKEW seconds, the nonce good once per session). In sandbox mode the identity headers go on
    with the request (the sandbox's licence server verifies them too); ExpressPlay's get none. Raises
    PlayRefused saying why not, PlayUnavailable when the licence server cannot be reached.
    """
    session = _session_for_browser(user=user, session_id=session_id, browser_cookie=browser_cookie)
    if len(body) > LICENCE_REQUEST_MAX_BYTES:
        raise _refused("too-large", _("This licence request is too large."), 413)
    key, stamp, nonce, signature = (headers.get(name, "") for name in DEVICE_HEADERS)
    if not (_STAMP.fullmatch(stamp or "") and _NONCE.fullmatch(nonce or "")):
        raise _wrong_key()
    if abs((time.time() if now is None else now) - int(stamp)) > LICENCE_REQUEST_SKEW:
        raise _refused(
            "clock",
            _("This device's clock is too far from the right time. Set it right and press Play again."),
        )
    try:
        proof = Proof.from_fields(key, signature)
        message = body + b"\n" + stamp.encode() + b"\n" + nonce.encode()
        # _session_for_browser proved the browser through _proven_browser: the entitlement has its device.
        device = cast(Device, session.entitlement.device)
        proof_verify(proof, message, expected_key=device.identity_key)
    except IdentityInvalid as exc:
        logger.info("Playback session %s: licence request refused: %s", session.pk, exc)
        raise _wrong_key() from exc
    try:
        with transaction.atomic():
            PlayLicenceRequest.objects.create(session=session, nonce=nonce)
    except IntegrityError as exc:
        raise _refused(
            "replayed", _("This licence request was already used. Press Play again."), 409
        ) from exc
    forward = (
        {name: headers[name] for name in DEVICE_HEADERS} if settings.EXPRESSPLAY_ENV == "sandbox" else {}
    )
    client = client or client_from_settings(timeout=LICENCE_TIMEOUT)
    try:
        answer = client.licence_request(session.license_url, body, content_type=content_type, headers=forward)
    except ExpressPlayTransportError as exc:
        logger.warning("Playback session %s: licence server unreachable: %s", session.pk, exc)
        raise PlayUnavailable() from exc
    if 300 <= answer.status < 400:  # never followed: a licence server does not redirect a licence request
        raise PlayUnavailable()
    if answer.status == 200:
        now_dt = timezone.now()
        PlaySession.objects.filter(pk=session.pk).update(
            licence_requests=F("licence_requests") + 1, last_seen=now_dt
        )
        # The viewing time of a rental runs from its first licence: on record here, not on the page's word.
        Entitlement.objects.filter(pk=session.entitlement_id, first_played_at__isnull=True).update(
            first_played_at=now_dt
        )
    return answer
