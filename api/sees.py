"""SEES compatibility: Adobe's Sample ExpressPlay Entitlement Server's JSON entitlement request, answered as
SEES answers it, so that an integration written for SEES can move to Bindery by changing its address and
sending Bindery's API key. What is honoured, and how, is in docs/sees.md.

    request  {messageID, version, contentID (required), requestType: 1 time-based (default) | 2 device
              registration | 3 device-bound, customerCookie (any string up to 32 characters),
              rentalDuration (seconds, default 0: not a rental), drm (Bindery's own: pr | wv | fp)}
    answer   {messageID (echoed exactly), version, isAllowed, epTokenURL, error, errorText,
              expirationTime (RFC 3339, UTC "Z")}

SEES requests are served, their wait for the worker (the record lookup, the token) included, by at most
SEES_MAX_CONCURRENT threads per web process: a request that finds them all taken is answered "send again"
(error 5) before any work, so a burst of SEES calls never holds every thread of the web server.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from binding import services as binding_services
from binding.exceptions import AlreadyEntitled, BindingError
from binding.expressplay import ExpressPlayError, ExpressPlayTransportError
from binding.expressplay.errors import explain
from binding.models import (
    BindingMode,
    Device,
    DrmChoices,
    Entitlement,
    EntitlementKind,
    EntitlementState,
    MediaAsset,
    Registration,
    RegistrationState,
)
from binding.selectors import entitlement_needs_renewal
from binding.services._common import _describe
from binding.services.drm import binding_mode, offered_drms

from . import services
from .authentication import request_client
from .models import Client, ClientTitle, Customer

if TYPE_CHECKING:  # django-stubs-ext comes with the type stubs (dev only)
    from django_stubs_ext import StrOrPromise

_T = TypeVar("_T")

TIME_BASED, REGISTRATION, DEVICE_BOUND = 1, 2, 3
# Bindery's error numbers in the answer's `error` (SEES documents the field, not its values): docs/sees.md.
OK, BAD_REQUEST, UNKNOWN_CONTENT, NOT_REGISTERED, REFUSED, PENDING = 0, 1, 2, 3, 4, 5
MAX_MESSAGE_ID = 256
# The cookies SEES integrations sent before any string was accepted keep naming the same customer.
_PLAIN_COOKIE = re.compile(r"[A-Za-z0-9._-]{1,32}")


class SeesRequest(serializers.Serializer[dict[str, Any]]):
    """SEES's request as its public API documents it: messageID, version and contentID are required."""

    messageID = serializers.CharField(max_length=MAX_MESSAGE_ID, trim_whitespace=False)
    version = serializers.IntegerField(min_value=1, max_value=1)
    contentID = serializers.CharField(max_length=100)
    requestType = serializers.ChoiceField(
        choices=[TIME_BASED, REGISTRATION, DEVICE_BOUND], default=TIME_BASED, required=False
    )
    customerCookie = serializers.CharField(
        max_length=32, required=False, allow_blank=True, trim_whitespace=False
    )
    rentalDuration = serializers.IntegerField(min_value=0, max_value=366 * 86400, default=0, required=False)
    # Bindery's own (SEES has no such field): the device's DRM, for the registration's token and all after it.
    drm = serializers.ChoiceField(choices=DrmChoices.choices, required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("requestType", TIME_BASED) != TIME_BASED and not data.get("customerCookie"):
            raise serializers.ValidationError({"customerCookie": _("Needed for requestTypes 2 and 3.")})
        return data


def customer_id(cookie: str) -> str:
    """The API customer id a SEES cookie names: `sees.<cookie>` for a plain one (as before any string was
    accepted), else `sees:` and a hash of it, so that spaces, braces or base64 can never reach an id, a log
    line or an admin search unescaped, and the two forms never meet."""
    if _PLAIN_COOKIE.fullmatch(cookie):
        return f"sees.{cookie}"
    return "sees:" + hashlib.sha256(cookie.encode()).hexdigest()[:40]


class SeesAnswer(serializers.Serializer[dict[str, Any]]):
    messageID = serializers.CharField()
    version = serializers.IntegerField()
    isAllowed = serializers.BooleanField()
    epTokenURL = serializers.CharField(allow_blank=True)
    error = serializers.IntegerField()
    errorText = serializers.CharField(allow_blank=True)
    expirationTime = serializers.DateTimeField(allow_null=True)


def rfc3339(moment: datetime | None) -> str | None:
    """ExpressPlay's form of a time: RFC 3339 in UTC with a "Z", to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _answer(
    message_id: str,
    *,
    allowed: bool = False,
    url: str = "",
    error: int = OK,
    text: StrOrPromise = "",
    expires: datetime | None = None,
) -> Response:
    return Response(
        {
            "messageID": message_id,
            "version": 1,
            "isAllowed": allowed,
            "epTokenURL": url,
            "error": error,
            "errorText": str(text),
            "expirationTime": rfc3339(expires),
        }
    )


_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


def _slots_of_this_process() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, settings.SEES_MAX_CONCURRENT))
        return _slots


@contextmanager
def _sees_slot() -> Iterator[bool]:
    """One of the SEES_MAX_CONCURRENT threads of this process that may serve SEES, its wait included (True),
    or none free (False: the request is answered "send again" before any work)."""
    slots = _slots_of_this_process()
    taken = slots.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            slots.release()


def _wait(check: Callable[[], _T | None], seconds: float) -> _T | None:
    """Poll the database until `check()` gives something, for at most `seconds` (the worker does the work):
    every 50 ms at first, backing off to every 500 ms."""
    deadline, pause = time.monotonic() + seconds, 0.05
    while True:
        found = check()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)


def _latest_cookie(customer: Customer) -> Registration | None:
    return (
        Registration.objects.filter(user=customer.user)
        .select_related("device")
        .order_by("-created_at", "-pk")
        .first()
    )


def _usable(cookie: Registration) -> bool:
    """Whether a registration attempt still leads somewhere: its check started and not over, or bound to a
    device the customer still has."""
    state = cookie.effective_state
    if state == RegistrationState.BOUND:
        return cookie.device is not None and cookie.device.is_active
    return state in (RegistrationState.DUMMY_TOKEN_ISSUED, RegistrationState.LICENCE_SEEN)


def _bound_cookie(customer: Customer) -> Registration | None:
    """The customer's newest registration bound to a device they still have."""
    return (
        Registration.objects.filter(
            user=customer.user, state=RegistrationState.BOUND, device__removed_at__isnull=True
        )
        .select_related("device")
        .order_by("-created_at", "-pk")
        .first()
    )


class SeesEntitlementView(APIView):
    """POST /api/sees/entitlement: one SEES entitlement request, answered as SEES does."""

    @extend_schema(
        summary="SEES-compatible entitlement request (Adobe's Sample ExpressPlay Entitlement Server)",
        request=SeesRequest,
        responses={200: SeesAnswer},
        tags=["sees"],
    )
    def post(self, request: Request) -> Response:
        with _sees_slot() as served:
            if not served:
                message_id = request.data.get("messageID", "") if isinstance(request.data, dict) else ""
                return _answer(
                    message_id if isinstance(message_id, str) else "",
                    error=PENDING,
                    text=_("Bindery is busy: send the request again in a second."),
                )
            return self._answer_request(request)

    def _answer_request(self, request: Request) -> Response:
        given = SeesRequest(data=request.data)
        if not given.is_valid():
            # The messageID is echoed exactly, as SEES requires, even when it is what is wrong (too long).
            message_id = request.data.get("messageID", "") if isinstance(request.data, dict) else ""
            fields = ", ".join(sorted(given.errors))
            return _answer(
                message_id if isinstance(message_id, str) else "",
                error=BAD_REQUEST,
                text=_("Bad fields: %s") % fields,
            )
        data = given.validated_data
        client = request_client(request)
        if data["requestType"] == TIME_BASED:
            return self._time_based(data, client)
        customer = services.customer_for(client, customer_id(data["customerCookie"]))
        if data["requestType"] == REGISTRATION:
            return self._register(data, customer)
        return self._entitle(data, client, customer)

    def _time_based(self, data: dict[str, Any], client: Client) -> Response:
        """Requesttype 1: a token bound in time only, as SEES issues it: no device restriction, a rental of
        `rentalDuration` seconds when given (decision 0008: the client decided this entitlement itself)."""
        message_id = data["messageID"]
        if not settings.SEES_TIME_BASED_TOKENS:
            return _answer(
                message_id,
                error=REFUSED,
                text=_(
                    "Time-based tokens are switched off here: register the device (requestType 2, then 3)."
                ),
            )
        title = ClientTitle.objects.filter(client=client, content_id=data["contentID"]).first()
        if title is None:
            return _answer(message_id, error=UNKNOWN_CONTENT, text=_("Unknown contentID."))
        drm = data.get("drm") or offered_drms()[0]
        if drm not in offered_drms():
            return _answer(message_id, error=BAD_REQUEST, text=_("Bad fields: %s") % "drm")
        rental = timedelta(seconds=data["rentalDuration"]) if data["rentalDuration"] else None
        try:
            token, lifetime = binding_services.time_based_token_issue(
                asset=title.asset, drm=drm, rental=rental
            )
        except ExpressPlayTransportError:
            return _answer(
                message_id, error=PENDING, text=_("ExpressPlay is not answering: send the request again.")
            )
        except ExpressPlayError as exc:
            return _answer(message_id, error=REFUSED, text=_code_text(_describe(exc)[0]))
        return _answer(message_id, allowed=True, url=token.license_url, expires=timezone.now() + lifetime)

    def _register(self, data: dict[str, Any], customer: Customer) -> Response:
        """Requesttype 2: the dummy token for the customer's device (played by it to log its device id).

        The customer is this client's `sees.<customerCookie>`, so one client's cookies never meet another's;
        Bindery makes its own correlation value for ExpressPlay. Every request is a new attempt with a token of
        its own, handed out in this answer only: a device check proves one device, once (decision 0009)."""
        message_id = data["messageID"]
        try:
            cookie = binding_services.registration_create(user=customer.user)
            token = binding_services.registration_check_start(cookie=cookie, drm=data.get("drm"))
        except BindingError as exc:
            if exc.transient:
                return _answer(
                    message_id, error=PENDING, text=_("ExpressPlay is not answering: send the request again.")
                )
            return _answer(message_id, error=REFUSED, text=_refusal(exc))
        cookie.refresh_from_db()
        return _answer(message_id, allowed=True, url=token.license_url, expires=cookie.expires_at)

    def _entitle(self, data: dict[str, Any], client: Client, customer: Customer) -> Response:
        """Requesttype 3: a token bound to the customer's registered device (a rental when rentalDuration > 0)."""
        message_id = data["messageID"]
        title = ClientTitle.objects.filter(client=client, content_id=data["contentID"]).first()
        if title is None:
            return _answer(message_id, error=UNKNOWN_CONTENT, text=_("Unknown contentID."))
        cookie = _latest_cookie(customer)
        if cookie is None or not _usable(cookie):
            cookie = _bound_cookie(
                customer
            )  # the newest attempt is over: the device registered before goes on
        if cookie is None:
            return _answer(
                message_id, error=NOT_REGISTERED, text=_("Register the device first (requestType 2).")
            )
        if cookie.state != RegistrationState.BOUND:
            # The device played the dummy token: look its id up in ExpressPlay's records now.
            binding_services.registration_licence_seen(cookie=cookie)
            attempt = cookie.pk
            cookie = _wait(
                lambda: Registration.objects.filter(
                    pk=attempt,
                    state__in=[RegistrationState.BOUND, RegistrationState.FAILED, RegistrationState.EXPIRED],
                ).first(),
                settings.SEES_WAIT,
            ) or Registration.objects.get(pk=attempt)
            if cookie.state != RegistrationState.BOUND and (earlier := _bound_cookie(customer)) is not None:
                cookie = earlier  # a newer attempt not played (yet): the device registered before goes on
            if cookie.state != RegistrationState.BOUND:
                pending = cookie.state in (
                    RegistrationState.DUMMY_TOKEN_ISSUED,
                    RegistrationState.LICENCE_SEEN,
                )
                text = (
                    _("The device is not registered yet: send the request again.")
                    if pending
                    else _(
                        "The device could not be registered: play the registration token again (requestType 2)."
                    )
                )
                return _answer(message_id, error=PENDING if pending else NOT_REGISTERED, text=text)
        # A bound registration has its device (the lines above made sure the cookie is bound).
        bound_device = cast(Device, cookie.device)
        if binding_mode(bound_device.drm) != BindingMode.EXPRESSPLAY:
            return _answer(message_id, error=REFUSED, text=_not_by_expressplay(bound_device.drm))
        seconds = data["rentalDuration"]
        policy: services.Policy = {"type": EntitlementKind.RENT if seconds else EntitlementKind.BUY}
        if seconds:
            policy["rental_hours"] = seconds / 3600
        try:
            entitlement = _grant(customer, title.asset, policy, cookie)
        except BindingError as exc:
            return _answer(message_id, error=REFUSED, text=_refusal(exc))
        # A title already held answers its token, renewed first when it has expired or nearly: never a dead one.
        if entitlement.state == EntitlementState.READY and entitlement_needs_renewal(entitlement):
            with transaction.atomic():
                binding_services.entitlement_renew(entitlement=entitlement)
        entitlement = _wait(
            lambda: (
                Entitlement.objects.filter(pk=entitlement.pk).exclude(state=EntitlementState.PENDING).first()
            ),
            settings.SEES_WAIT,
        ) or Entitlement.objects.get(pk=entitlement.pk)
        live = entitlement.token_expires_at is not None and entitlement.token_expires_at > timezone.now()
        if entitlement.state == EntitlementState.READY and entitlement.bound_by == BindingMode.BINDERY:
            return _answer(message_id, error=REFUSED, text=_not_by_expressplay(bound_device.drm))
        if entitlement.state == EntitlementState.READY and entitlement.device_id == cookie.device_id and live:
            expires = min(filter(None, [entitlement.rental_ends_at, entitlement.token_expires_at]))
            return _answer(message_id, allowed=True, url=entitlement.license_url, expires=expires)
        if entitlement.state in Entitlement.WATCHABLE_STATES and (
            entitlement.state == EntitlementState.PENDING or not live
        ):
            return _answer(
                message_id, error=PENDING, text=_("The token is being issued: send the request again.")
            )
        if entitlement.state == EntitlementState.READY:
            return _answer(
                message_id,
                error=REFUSED,
                text=_(
                    "The customer has this title on another device: move it there first (the API's move)."
                ),
            )
        return _answer(message_id, error=REFUSED, text=_code_text(entitlement.error_code))


def _not_by_expressplay(drm: str) -> str:
    return _(
        "ExpressPlay does not bind %(drm)s devices here, and a SEES client cannot take part in Bindery's own "
        "binding at Play: register the device with a DRM ExpressPlay binds."
    ) % {"drm": DrmChoices(drm).label}


def _grant(
    customer: Customer, asset: MediaAsset, policy: services.Policy, cookie: Registration
) -> Entitlement:
    """The customer's entitlement to the asset on the cookie's device: a new one, or the one they have."""
    try:
        return services.entitlement_grant(
            customer=customer, asset=asset, policy=policy, device_id=cookie.device_id
        )
    except AlreadyEntitled:
        held = (
            Entitlement.objects.filter(
                user=customer.user, asset=asset, state__in=Entitlement.WATCHABLE_STATES
            )
            .order_by("-created_at")
            .first()
        )
        if held is None:  # it ended between the check and this read: a new one is allowed now
            return services.entitlement_grant(
                customer=customer, asset=asset, policy=policy, device_id=cookie.device_id
            )
        return held


def _code_text(code: int | None) -> str:
    """ExpressPlay's code and its meaning, for errorText; words when there is no code."""
    return f"{code}: {explain(code).meaning}" if code is not None else _("The title cannot be watched.")


def _refusal(exc: BindingError) -> str:
    return _code_text(exc.code) if exc.code is not None else str(exc.message)
