"""The drop-in device check's two calls, from a customer's browser on another site's page.

No API key here: the registration's one-time reference (made by the client's backend through the API, and
good only for that one device check) is the credential, so any origin may call (CORS), without cookies.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.exceptions import BindingError, DeviceCheckUnavailable, DeviceKeyInvalid
from binding.player import player_config, player_messages
from binding.services.identity import IdentityInvalid, Proof

from .models import ClientRegistration


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    response["Cache-Control"] = "no-store"
    return response


def _registration(reference: str) -> ClientRegistration | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", reference):  # made by secrets.token_urlsafe
        return None
    return ClientRegistration.objects.select_related("cookie__device").filter(reference=reference).first()


def _unknown() -> HttpResponse:
    """An unknown or made-up reference: said in the customer's words, for the page to show."""
    message = _("This device check is unknown. Go back to the shop and start it again.")
    return _cors(
        JsonResponse({"state": "unknown", "done": True, "ok": False, "message": message}, status=404)
    )


@require_http_methods(["GET", "OPTIONS"])
def check(request: HttpRequest, reference: str) -> HttpResponse:
    """What the script needs to play the device check, and where the check is (polled until done)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse())
    registration = _registration(reference)
    if registration is None:
        return _unknown()
    cookie = registration.cookie
    asset = binding_selectors.device_check_asset()
    status = binding_selectors.registration_status(cookie)
    config = player_config(
        asset=asset,
        absolute=request.build_absolute_uri,
        startUrl=request.build_absolute_uri(reverse("api:check-start", args=[reference])),
        licensedUrl=request.build_absolute_uri(reverse("api:check-licensed", args=[reference])),
        statusUrl=request.build_absolute_uri(reverse("api:check", args=[reference])),
    )
    return _cors(
        JsonResponse(
            {
                "state": status["state"],
                "done": status["done"],
                "ok": status["ok"],
                "message": str(status["message"]),
                "device": status["device"],
                "limit_reached": status["limit_reached"],
                "config": config,
                "messages": player_messages(),
            }
        )
    )


@csrf_exempt  # no cookie is read: the reference in the address is the credential
@require_http_methods(["POST", "OPTIONS"])
def start(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer's browser starts the device check: the device-check token's licence URL, once. The form
    may name the browser's DRM (`drm`, detected by the script) and prove its device key (`key`, `signature`).

    A check proves one device, once (decision 0009): a second start, or one after the check is over, is a 409
    in the customer's words, and the token is never handed out again.
    """
    if request.method == "OPTIONS":
        return _cors(HttpResponse())
    registration = _registration(reference)
    if registration is None:
        return _unknown()
    try:
        proof = None
        if request.POST.get("key") or request.POST.get("signature"):
            proof = Proof.from_fields(request.POST.get("key"), request.POST.get("signature"))
        token = binding_services.registration_check_start(
            cookie=registration.cookie, drm=request.POST.get("drm") or None, proof=proof
        )
    except IdentityInvalid:
        return _cors(
            JsonResponse({"ok": False, "message": str(DeviceKeyInvalid.default_message)}, status=400)
        )
    except DeviceCheckUnavailable as exc:
        # ExpressPlay away for a moment: 503 with Retry-After (start a new check then); a refusal is final: 422.
        answer = JsonResponse(
            {"ok": False, "message": str(exc.message), "retry": exc.transient},
            status=503 if exc.transient else 422,
        )
        if exc.transient:
            answer["Retry-After"] = "30"
        return _cors(answer)
    except BindingError as exc:
        return _cors(JsonResponse({"ok": False, "message": str(exc.message)}, status=409))
    return _cors(JsonResponse({"ok": True, "licenseUrl": token.license_url}))


@csrf_exempt  # no cookie is read: the reference in the address is the credential
@require_http_methods(["POST", "OPTIONS"])
def licensed(request: HttpRequest, reference: str) -> HttpResponse:
    """The device check got its licence: queue the record lookup (the device id comes from ExpressPlay)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse())
    registration = _registration(reference)
    if registration is None:
        return _unknown()
    queued = binding_services.registration_licence_seen(cookie=registration.cookie)
    return _cors(JsonResponse({"queued": queued}))


@require_http_methods(["GET", "OPTIONS"])
def player(request: HttpRequest) -> HttpResponse:
    """What BinderyCheck.play() needs besides the title: the key system, whether licence requests carry the
    device identity, and every message the player may show in the browser's language (Accept-Language)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse())
    config = player_config()
    return _cors(
        JsonResponse(
            {
                "keySystem": config["keySystem"],
                "signRequests": config["signRequests"],
                "detect": config["detect"],
                "playback": config["playback"],
                "messages": player_messages(),
            }
        )
    )
