"""The shop's pages: catalogue, title, checkout, order, library and player."""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve

from accounts.forms import OutboxPasswordResetForm
from bindery.security import client_ip
from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.exceptions import (
    AlreadyEntitled,
    BindingError,
    DeviceNotRegistered,
    PlayRefused,
    PlayUnavailable,
)
from binding.expressplay.errors import DEVICE_MISMATCH
from binding.models import BindingMode, PlaySession
from binding.player import browser_cookie_value, player_config, player_messages
from binding.services.identity import IdentityInvalid, Proof
from binding.services.playback import LICENCE_REQUEST_MAX_BYTES

from . import selectors, services
from .catalogue_cache import catalogue_html
from .exceptions import EarlierOrderFailed
from .forms import DEMO_CARD, DemoPaymentForm
from .models import Offer, Order, Title

logger = logging.getLogger(__name__)

# What MEDIA_ROOT holds: DASH manifests and segments (binding/packaging.py) and posters (validators.py).
MEDIA_TYPES = {
    ".mpd": "application/dash+xml",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Say what Bindery is and show the catalogue, or what of it matches the search."""
    query = request.GET.get("q", "")[:100].strip()
    return render(
        request,
        "storefront/home.html",
        {"catalogue": catalogue_html(request.GET.get("page"), query), "query": query},
    )


@require_GET
def title_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        title = selectors.title_detail(slug)
    except Title.DoesNotExist as exc:
        raise Http404 from exc
    failed = selectors.failed_orders_for_title(request.user, title)
    for offer in title.active_offers:
        # An order of this offer's kind that failed and is still to be retried: its page, not a second payment.
        offer.failed_order = failed.get(offer.kind)
        if offer.failed_order:
            offer.failed_status = binding_selectors.entitlement_status(offer.failed_order.entitlement)
    device = (
        binding_selectors.device_for_browser(request.user, browser_cookie_value(request))
        if request.user.is_authenticated
        else None
    )
    orders = selectors.orders_for_title(request.user, title)
    revoked = selectors.revoked_orders_for_title(request.user, title)
    for order in (*orders, *revoked):
        order.truth = binding_selectors.entitlement_status(order.entitlement, timing=False)
    return render(
        request,
        "storefront/title_detail.html",
        {
            "title": title,
            # What the customer can watch now, and what they cannot (bound to a removed device) with why.
            "orders": [order for order in orders if order.truth["ok"] or not order.truth["done"]],
            "stranded": [order for order in orders if order.truth["removed_device"]],
            # A revoked order, unless the customer has since bought or rented the title that way again.
            "revoked": [order for order in revoked if order.kind not in {o.kind for o in orders}],
            "drm_refused": device is not None and binding_services.drm_refused(device.drm),
            "device": device,
        },
    )


def _register_first(request: HttpRequest, offer: Offer) -> HttpResponse:
    messages.info(
        request, _("First, register this browser as one of your devices. You will come straight back.")
    )
    back = reverse("storefront:checkout", args=[offer.pk])
    return redirect(f"{reverse('binding:register')}?{urlencode({'next': back})}")


def _to_earlier_order(request: HttpRequest, refusal: EarlierOrderFailed) -> HttpResponse:
    messages.info(request, refusal.message)
    return redirect("storefront:order", number=refusal.order.number)


@login_required
def checkout(request: HttpRequest, offer_id: int) -> HttpResponse:
    """GET: the order summary and a demo payment form. POST: place the order."""
    offer = get_object_or_404(Offer.objects.active().select_related("title__asset"), pk=offer_id)
    earlier = selectors.failed_order_for_offer(request.user, offer)
    if earlier is not None:
        return _to_earlier_order(request, EarlierOrderFailed(earlier))
    form = DemoPaymentForm(request.POST or None, initial={"cardholder": request.user.get_full_name()})
    if request.method == "POST" and form.is_valid():
        # order_place reads and locks this browser's registration; the page below reads it only to show it.
        try:
            order = services.order_place(
                user=request.user, offer=offer, browser_cookie=browser_cookie_value(request)
            )
        except DeviceNotRegistered:
            return _register_first(request, offer)
        except AlreadyEntitled as exc:
            messages.info(request, exc.message)
            return redirect("storefront:library")
        except EarlierOrderFailed as exc:
            return _to_earlier_order(request, exc)
        except BindingError as exc:  # off sale, not sold to this browser's DRM, or another refusal: its words
            messages.error(request, exc.message)
            return redirect("storefront:title", slug=offer.title.slug)
        return redirect("storefront:order", number=order.number)
    device = binding_selectors.device_for_browser(request.user, browser_cookie_value(request))
    if device is None:
        return _register_first(request, offer)
    return render(
        request,
        "storefront/checkout.html",
        {
            "offer": offer,
            "form": form,
            "device": device,
            "demo_card": DEMO_CARD,
            "drm_refused": binding_services.drm_refused(device.drm),
        },
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = selectors.order_for_user(request.user, number)
    except Order.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "storefront/order_detail.html",
        {
            "order": order,
            "status": binding_selectors.entitlement_status(order.entitlement),
            "history": binding_selectors.entitlement_history(order.entitlement),
        },
    )


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    """My library: every entitlement, its state, its device and, for rentals, the time left."""
    this_device = binding_selectors.device_for_browser(request.user, browser_cookie_value(request))
    swaps = binding_services.device_swap_allowance(request.user)
    orders = selectors.library_for_user(request.user, request.GET.get("page"))
    orders.object_list = list(orders.object_list)
    for order in orders:
        order.move = binding_selectors.move_offer(order.entitlement, this_device, swaps.left)
        order.truth = binding_selectors.entitlement_status(order.entitlement, timing=False)
    return render(
        request,
        "storefront/library.html",
        {"orders": orders, "swaps": swaps},
    )


@login_required
@require_POST
def move_here(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    """Move a bought title to the device this browser is (a device swap, within the user's allowance)."""
    order = _own_order(request, entitlement_id)
    device = binding_selectors.device_for_browser(request.user, browser_cookie_value(request))
    if device is None:
        messages.info(request, _("Register this browser first; then you can move titles to it."))
        back = reverse("storefront:play", args=[order.entitlement_id])
        return redirect(f"{reverse('binding:register')}?{urlencode({'next': back})}")
    try:
        queued = binding_services.entitlement_move(
            entitlement=order.entitlement, device=device, actor_user=request.user
        )
    except BindingError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:library")
    if queued:
        messages.success(request, _("“%(title)s” now plays on this device.") % {"title": order.title.name})
    return redirect("storefront:play", entitlement_id=order.entitlement_id)


def _move_offer(request: HttpRequest, order: Order) -> dict:
    """Say what the customer can do when the licence server refuses this browser (the title is bound to
    another device): {"message", "allowed"}. "allowed" offers "Move to this device" right there."""
    entitlement = order.entitlement
    this_device = binding_selectors.device_for_browser(request.user, browser_cookie_value(request))
    offer = binding_selectors.move_offer(
        entitlement, this_device, binding_services.device_swap_allowance(request.user).left
    )
    label = entitlement.device.label if entitlement.device else ""
    bound = _("This title is bound to your device “%(label)s”, so it cannot play in this browser.") % {
        "label": label
    }
    Verdict = binding_selectors.MoveVerdict
    then = {
        Verdict.RENTAL: _("A rental stays on the device it was rented on: watch it there."),
        Verdict.OVER: _("It can no longer be watched."),
        Verdict.NOT_REGISTERED: _(
            "Register this browser under My devices, then you can move the title here."
        ),
        Verdict.NO_CHANGES_LEFT: _(
            "You have used this period's device changes: watch it there, or ask support to move it."
        ),
        Verdict.ALLOWED: _(
            "You can move it to this browser; it then stops playing on “%(label)s”. Device changes left: %(left)s."
        )
        % {"label": label, "left": offer.swaps_left},
    }
    if offer.verdict is Verdict.SAME_DEVICE:  # this very device refused: its DRM identity changed
        message = _(
            "The licence server did not recognise this browser as the device this title is bound to. "
            "Register this browser again under My devices."
        )
    else:
        message = f"{bound} {then[offer.verdict]}"
    # Where the words say "register this browser", the page links to the registration, and back here after.
    register = offer.verdict in (Verdict.NOT_REGISTERED, Verdict.SAME_DEVICE)
    return {"allowed": offer.allowed, "message": message, "register": register}


def _own_order(request: HttpRequest, entitlement_id: int) -> Order:
    try:
        return selectors.entitlement_order_for_user(request.user, entitlement_id)
    except Order.DoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_GET
def play(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    """The player for one entitlement. Reads only: when the token needs renewing, the page asks for it (POST)."""
    order = _own_order(request, entitlement_id)
    entitlement = order.entitlement
    messages_for_player = player_messages()
    move = _move_offer(request, order)
    if entitlement.device is not None:
        messages_for_player[str(DEVICE_MISMATCH)] = move["message"]
    session_urls = {}
    if entitlement.bound_by == BindingMode.BINDERY:
        # Bound by Bindery: no licence URL on the page; Play starts a playback session with a signed challenge.
        session_urls = {
            "sessionUrl": reverse("storefront:play-session-start", args=[entitlement.pk]),
            "challengeUrl": reverse("storefront:play-challenge", args=[entitlement.pk]),
            "challenge": binding_services.play_challenge(entitlement),
            "heartbeatSeconds": PlaySession.HEARTBEAT,
        }
    return render(
        request,
        "storefront/play.html",
        {
            "order": order,
            "entitlement": entitlement,
            "status": binding_selectors.entitlement_status(entitlement),
            "player_messages": messages_for_player,
            "move": move,
            "player_config": player_config(
                asset=entitlement.asset,
                drm=entitlement.device.drm if entitlement.device else None,
                request=request,
                **session_urls,
                statusUrl=reverse("storefront:entitlement-status", args=[entitlement.pk]),
                renewUrl=reverse("storefront:renew", args=[entitlement.pk]),
                playedUrl=reverse("storefront:played", args=[entitlement.pk]),
                refusedUrl=reverse("storefront:refused", args=[entitlement.pk]),
            ),
        },
    )


@login_required
@require_GET
def entitlement_status(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    """Issuing progress for the order and player pages; the licence URL once ready (this user's only)."""
    entitlement = _own_order(request, entitlement_id).entitlement
    payload = binding_selectors.entitlement_status(entitlement)
    if payload["ok"] and not payload["session"]:  # bound by Bindery: a playback session, never a token URL
        payload["licenseUrl"] = entitlement.license_url
    return JsonResponse(payload)


@login_required
@require_POST
def renew(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    """Ask for a new token for the same device when the current one has (nearly) expired; answer the status."""
    entitlement = _own_order(request, entitlement_id).entitlement
    binding_services.entitlement_renew(entitlement=entitlement, actor_user=request.user)
    entitlement.refresh_from_db()
    return JsonResponse(binding_selectors.entitlement_status(entitlement))


@login_required
@require_POST
def played(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    binding_services.entitlement_mark_played(entitlement=_own_order(request, entitlement_id).entitlement)
    return JsonResponse({"ok": True})


# --- playback sessions of titles bound by Bindery (decision 0013) ---------------------------------------------


def _play_answer(payload: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _play_refusal(exc: PlayRefused) -> JsonResponse:
    """A refusal the player shows in words: {ok: false, reason, message}, with its HTTP status."""
    response = _play_answer({"ok": False, "reason": exc.reason, "message": str(exc.message)}, exc.status)
    if isinstance(exc, PlayUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _signed_in_json(view):
    """Like login_required, but a signed-out browser (a copied URL, say) gets words, not a login page."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _play_refusal(
                PlayRefused(_("Sign in to play this title."), reason="signed-out", status=401)
            )
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _own_entitlement_or_refusal(request: HttpRequest, entitlement_id: int):
    return binding_selectors.entitlement_for_user(request.user, entitlement_id)


@_signed_in_json
@require_GET
def play_challenge(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    """A fresh Play challenge (signed, stateless: nothing is written) for a page whose challenge was spent."""
    entitlement = _own_entitlement_or_refusal(request, entitlement_id)
    if entitlement is None:
        return _play_refusal(
            PlayRefused(_("This title is not in your library."), reason="not-yours", status=404)
        )
    return _play_answer({"challenge": binding_services.play_challenge(entitlement)})


@_signed_in_json
@require_POST
def play_session_start(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    """Start a playback session (POST challenge, key, signature): the licence proxy URL for this browser."""
    entitlement = _own_entitlement_or_refusal(request, entitlement_id)
    if entitlement is None:
        return _play_refusal(
            PlayRefused(_("This title is not in your library."), reason="not-yours", status=404)
        )
    try:
        proof = Proof.from_fields(request.POST.get("key"), request.POST.get("signature"))
    except IdentityInvalid:
        proof = None
    try:
        session = binding_services.play_session_start(
            user=request.user,
            entitlement=entitlement,
            browser_cookie=browser_cookie_value(request),
            challenge=request.POST.get("challenge", "")[:400],
            proof=proof,
        )
    except PlayRefused as exc:
        return _play_refusal(exc)
    return _play_answer(
        {
            "ok": True,
            "session": str(session.pk),
            "licenseUrl": reverse("storefront:play-licence", args=[session.pk]),
            "heartbeatUrl": reverse("storefront:play-heartbeat", args=[session.pk]),
            "endUrl": reverse("storefront:play-end", args=[session.pk]),
            "heartbeatSeconds": PlaySession.HEARTBEAT,
        },
        201,
    )


@_signed_in_json
@require_POST
def play_heartbeat(request: HttpRequest, session_id) -> JsonResponse:
    try:
        binding_services.play_session_heartbeat(
            user=request.user, session_id=session_id, browser_cookie=browser_cookie_value(request)
        )
    except PlayRefused as exc:
        return _play_refusal(exc)
    return _play_answer({"ok": True})


@_signed_in_json
@require_POST
def play_end(request: HttpRequest, session_id) -> JsonResponse:
    """End a playback session (the page's pagehide beacon, or the end of the title)."""
    ended = binding_services.play_session_end(
        user=request.user, session_id=session_id, browser_cookie=browser_cookie_value(request)
    )
    return _play_answer({"ok": True, "ended": ended})


# No CSRF token: the player's licence request cannot carry one, and needs none. Each is signed with this browser's
# non-extractable device key over its body, a time and a one-time nonce, which no other site can make.
@csrf_exempt
@_signed_in_json
@require_POST
def play_licence(request: HttpRequest, session_id) -> HttpResponse:
    """Bindery's licence proxy: relay the player's signed licence request for its live session, answer what
    the licence server answered (ExpressPlay's error JSON included), or refuse in words."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > LICENCE_REQUEST_MAX_BYTES:
        return _play_refusal(
            PlayRefused(_("This licence request is too large."), reason="too-large", status=413)
        )
    try:
        answer = binding_services.play_licence_relay(
            user=request.user,
            session_id=session_id,
            browser_cookie=browser_cookie_value(request),
            body=request.body,
            headers=request.headers,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
        )
    except PlayRefused as exc:
        return _play_refusal(exc)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response["Cache-Control"] = "no-store"
    return response


LICENCE_CODE = re.compile(r"-[0-9]{1,6}")


@login_required
@require_POST
def refused(request: HttpRequest, entitlement_id: int) -> JsonResponse:
    """The player reports that the licence server refused this title here (POST code=<ExpressPlay code>).

    On record for operators; when the token trusted this very browser's registration and its device was
    refused, a new token is issued from ExpressPlay's records and the answer says so ("reissuing").
    """
    code = request.POST.get("code", "")
    reissuing = binding_services.entitlement_refusal_report(
        entitlement=_own_order(request, entitlement_id).entitlement,
        code=int(code) if LICENCE_CODE.fullmatch(code) else None,
        browser_cookie=browser_cookie_value(request),
        actor_user=request.user,
    )
    return JsonResponse({"reissuing": reissuing})


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve packaged (encrypted) media and posters in the demo; production serves MEDIA_URL from a CDN.

    Only the kinds of file Bindery puts there, each with its own Content-Type and nosniff: whatever else is
    in the folder (an HTML or script file uploaded before posters were checked, say) is never served from
    the shop's origin.
    """
    content_type = MEDIA_TYPES.get(PurePosixPath(path).suffix.lower())
    if content_type is None:
        raise Http404
    try:
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError as exc:  # a name the file system refuses (too long, say): there is no such file
        raise Http404 from exc
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    # Encrypted media is public (the licence is what is guarded): players on other storefronts' pages load it.
    response["Access-Control-Allow-Origin"] = "*"
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset in the shop's look, its mail from the outbox (accounts.forms), and only within
    the throttle (services.password_reset_admit). A
    throttled request gets the very answer an admitted one does, so the answer tells nothing of the throttle
    (nor, as Django's does not, of whether the address has an account)."""

    form_class = OutboxPasswordResetForm

    def form_valid(self, form):
        if services.password_reset_admit(email=form.cleaned_data["email"], client_ip=client_ip(self.request)):
            return super().form_valid(form)
        logger.info("Password reset throttled: no mail sent")
        return HttpResponseRedirect(self.get_success_url())
