"""SEES compatibility: Adobe's Sample ExpressPlay Entitlement Server's JSON entitlement request, answered as
SEES answers it, so that an integration written for SEES can move to Bindery by changing its address and
sending Bindery's API key. What is honoured, and how, is in docs/sees.md.

    request  {messageID, version, requestType: 1 time-based | 2 device registration | 3 device-bound,
              contentID, customerCookie (≤ 32 characters), rentalDuration (seconds, optional)}
    answer   {messageID, version, isAllowed, epTokenURL, error, errorText, expirationTime}
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from binding import services as binding_services
from binding.exceptions import AlreadyEntitled, BindingError
from binding.expressplay.errors import explain
from binding.models import Cookie, CookieState, Entitlement, EntitlementKind, EntitlementState

from . import services
from .models import ClientTitle

TIME_BASED, REGISTRATION, DEVICE_BOUND = 1, 2, 3
# Bindery's error numbers in the answer's `error` (SEES documents the field, not its values): docs/sees.md.
OK, BAD_REQUEST, UNKNOWN_CONTENT, NOT_REGISTERED, REFUSED, PENDING = 0, 1, 2, 3, 4, 5
DEFAULT_RENTAL = timedelta(hours=48)


class SeesRequest(serializers.Serializer):
    messageID = serializers.CharField(max_length=100)
    version = serializers.IntegerField(min_value=1, max_value=1)
    requestType = serializers.ChoiceField(choices=[TIME_BASED, REGISTRATION, DEVICE_BOUND])
    contentID = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customerCookie = serializers.RegexField(r"^[A-Za-z0-9._-]{1,32}$", max_length=32)
    rentalDuration = serializers.IntegerField(min_value=60, max_value=366 * 86400, required=False)


class SeesAnswer(serializers.Serializer):
    messageID = serializers.CharField()
    version = serializers.IntegerField()
    isAllowed = serializers.BooleanField()
    epTokenURL = serializers.CharField(allow_blank=True)
    error = serializers.IntegerField()
    errorText = serializers.CharField(allow_blank=True)
    expirationTime = serializers.DateTimeField(allow_null=True)


def _answer(message_id: str, *, allowed=False, url="", error=OK, text="", expires=None) -> Response:
    return Response(
        {
            "messageID": message_id,
            "version": 1,
            "isAllowed": allowed,
            "epTokenURL": url,
            "error": error,
            "errorText": str(text),
            "expirationTime": expires.isoformat() if expires else None,
        }
    )


def _wait(check, seconds: float):
    """Poll the database until `check()` gives something, for at most `seconds` (the worker does the work):
    every 50 ms at first, backing off to every 500 ms."""
    deadline, pause = time.monotonic() + seconds, 0.05
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)


def _latest_cookie(customer) -> Cookie | None:
    return (
        Cookie.objects.filter(user=customer.user)
        .select_related("device")
        .order_by("-created_at", "-pk")
        .first()
    )


def _usable(cookie: Cookie) -> bool:
    """Whether a registration attempt still leads somewhere: its check started and not over, or bound to a
    device the customer still has."""
    state = cookie.effective_state
    if state == CookieState.BOUND:
        return cookie.device is not None and cookie.device.is_active
    return state in (CookieState.DUMMY_TOKEN_ISSUED, CookieState.LICENCE_SEEN)


def _bound_cookie(customer) -> Cookie | None:
    """The customer's newest registration bound to a device they still have."""
    return (
        Cookie.objects.filter(user=customer.user, state=CookieState.BOUND, device__removed_at__isnull=True)
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
    def post(self, request):
        given = SeesRequest(data=request.data)
        if not given.is_valid():
            message_id = request.data.get("messageID", "") if isinstance(request.data, dict) else ""
            fields = ", ".join(sorted(given.errors))
            return _answer(str(message_id)[:100], error=BAD_REQUEST, text=_("Bad fields: %s") % fields)
        data = given.validated_data
        client = request.auth.client
        customer = services.customer_for(client, f"sees.{data['customerCookie']}")
        if data["requestType"] == REGISTRATION:
            return self._register(data, customer)
        return self._entitle(data, client, customer)

    def _register(self, data, customer) -> Response:
        """Requesttype 2: the dummy token for the customer's device (played by it to log its device id).

        The customer is this client's `sees.<customerCookie>`, so one client's cookies never meet another's;
        Bindery makes its own correlation value for ExpressPlay. Every request is a new attempt with a token of
        its own, handed out in this answer only: a device check proves one device, once (decision 0009)."""
        message_id = data["messageID"]
        try:
            cookie = binding_services.cookie_create(user=customer.user)
            token = binding_services.cookie_check_start(cookie=cookie)
        except BindingError as exc:
            return _answer(message_id, error=REFUSED, text=_refusal(exc))
        cookie.refresh_from_db()
        return _answer(message_id, allowed=True, url=token.license_url, expires=cookie.expires_at)

    def _entitle(self, data, client, customer) -> Response:
        """Requesttypes 1 and 3: a device-bound token for the content (a rental when time-based)."""
        message_id = data["messageID"]
        title = ClientTitle.objects.filter(client=client, content_id=data.get("contentID", "")).first()
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
        if cookie.state != CookieState.BOUND:
            # The device played the dummy token: look its id up in ExpressPlay's records now.
            binding_services.cookie_licence_seen(cookie=cookie)
            cookie = _wait(
                lambda: Cookie.objects.filter(
                    pk=cookie.pk, state__in=[CookieState.BOUND, CookieState.FAILED, CookieState.EXPIRED]
                ).first(),
                settings.SEES_WAIT,
            ) or Cookie.objects.get(pk=cookie.pk)
            if cookie.state != CookieState.BOUND and (earlier := _bound_cookie(customer)) is not None:
                cookie = earlier  # a newer attempt not played (yet): the device registered before goes on
            if cookie.state != CookieState.BOUND:
                pending = cookie.state in (CookieState.DUMMY_TOKEN_ISSUED, CookieState.LICENCE_SEEN)
                text = (
                    _("The device is not registered yet: send the request again.")
                    if pending
                    else _(
                        "The device could not be registered: play the registration token again (requestType 2)."
                    )
                )
                return _answer(message_id, error=PENDING if pending else NOT_REGISTERED, text=text)
        rent = data["requestType"] == TIME_BASED or "rentalDuration" in data
        seconds = data.get("rentalDuration") or DEFAULT_RENTAL.total_seconds()
        policy = {"type": EntitlementKind.RENT if rent else EntitlementKind.BUY}
        if rent:
            policy["rental_hours"] = seconds / 3600
        try:
            entitlement = _grant(customer, title.asset, policy, cookie)
        except BindingError as exc:
            return _answer(message_id, error=REFUSED, text=_refusal(exc))
        entitlement = _wait(
            lambda: (
                Entitlement.objects.filter(pk=entitlement.pk).exclude(state=EntitlementState.PENDING).first()
            ),
            settings.SEES_WAIT,
        ) or Entitlement.objects.get(pk=entitlement.pk)
        if entitlement.state == EntitlementState.READY and entitlement.device_id == cookie.device_id:
            expires = entitlement.rental_ends_at or entitlement.token_expires_at
            return _answer(message_id, allowed=True, url=entitlement.license_url, expires=expires)
        if entitlement.state == EntitlementState.PENDING:
            return _answer(
                message_id, error=PENDING, text=_("The token is being issued: send the request again.")
            )
        code = entitlement.error_code
        text = f"{code}: {explain(code).meaning}" if code is not None else _("The title cannot be watched.")
        return _answer(message_id, error=REFUSED, text=text)


def _grant(customer, asset, policy, cookie) -> Entitlement:
    """The customer's entitlement to the asset on the cookie's device: a new one, or the one they have."""
    try:
        return services.entitlement_grant(
            customer=customer, asset=asset, policy=policy, device_id=cookie.device_id
        )
    except AlreadyEntitled:
        held = (
            Entitlement.objects.filter(
                user=customer.user, asset=asset, state__in=[EntitlementState.PENDING, EntitlementState.READY]
            )
            .order_by("-created_at")
            .first()
        )
        if held is None:  # it ended between the check and this read: a new one is allowed now
            return services.entitlement_grant(
                customer=customer, asset=asset, policy=policy, device_id=cookie.device_id
            )
        return held


def _refusal(exc: BindingError) -> str:
    return f"{exc.code}: {explain(exc.code).meaning}" if exc.code is not None else str(exc.message)
