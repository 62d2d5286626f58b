"""The customer's account: sign-up, the account page (address, password, language, devices, orders), the
order history, and the language switch that remembers the choice."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts.forms import EmailForm, LanguageForm, SignUpForm
from accounts.mail import language_set, user_language
from bindery.security import client_ip
from binding.models import Device

from . import selectors

SIGN_UPS_PER_CLIENT = 10  # per hour, from one client address


def _safe_next(request: HttpRequest, default: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def _with_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


def _sign_up_admitted(request: HttpRequest) -> bool:
    """At most SIGN_UPS_PER_CLIENT accounts an hour from one client address (counted in the cache: with it
    away, sign-up still works, as sign-in does)."""
    key = "signup:" + hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    try:
        cache.add(key, 0, timeout=3600)
        return cache.incr(key) <= SIGN_UPS_PER_CLIENT
    except Exception:
        return True


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account, sign it in, and go on to register this browser (or back to where the customer was)."""
    if request.user.is_authenticated:
        return redirect("storefront:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not _sign_up_admitted(request):
            form.add_error(None, _("Too many accounts were made from this address. Try again in an hour."))
        else:
            user = form.save()
            language_set(user=user, language=form.cleaned_data["language"])
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            messages.success(request, _("Welcome to Bindery. Register this browser to buy and watch in it."))
            register = reverse("binding:register")
            after = _safe_next(request, "")
            target = f"{register}?{urlencode({'next': after})}" if after else register
            return _with_language(redirect(target), form.cleaned_data["language"])
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")})


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The account page: e-mail address, password, language; a summary of devices and orders."""
    user = request.user
    email_form = EmailForm(initial={"email": user.email}, user=user)
    language_form = LanguageForm(initial={"language": user_language(user)})
    if request.method == "POST" and request.POST.get("form") == "email":
        email_form = EmailForm(request.POST, user=user)
        if email_form.is_valid():
            user.email = email_form.cleaned_data["email"]
            user.save(update_fields=["email"])
            messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": user.email})
            return redirect("account")
    elif request.method == "POST" and request.POST.get("form") == "language":
        language_form = LanguageForm(request.POST)
        if language_form.is_valid():
            language = language_form.cleaned_data["language"]
            language_set(user=user, language=language)
            return _with_language(redirect("account"), language)
    devices = Device.objects.active().filter(user=user).order_by("label")
    return render(
        request,
        "accounts/account.html",
        {
            "email_form": email_form,
            "language_form": language_form,
            "devices": devices,
            "device_limit": settings.BINDING_DEVICE_LIMIT,
            "recent_orders": selectors.orders_for_user(user, 1).object_list[:3],
        },
    )


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    """Every order the customer placed, newest first, a page at a time (constant queries)."""
    return render(
        request,
        "accounts/orders.html",
        {"orders": selectors.orders_for_user(request.user, request.GET.get("page"))},
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; for a signed-in customer it is also their language for mail."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        language_set(user=request.user, language=language)
    return response
