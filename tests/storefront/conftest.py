"""Fixtures of the shop's tests: a customer, this browser registered as their device, and the issues queued."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import get_cookie_signer

from binding import services as binding_services
from binding import tasks as binding_tasks


@pytest.fixture
def queued(monkeypatch):
    """Collect the entitlements queued for issuing instead of sending them to a broker."""
    sent = []
    monkeypatch.setattr(
        binding_tasks.entitlement_issue, "apply_async", lambda args, **options: sent.append(args[0])
    )
    return sent


@pytest.fixture
def user():
    return get_user_model().objects.create_user("jo", password="x", first_name="Jo")


@pytest.fixture
def registered(user):
    """The value this browser remembers after registering (the signed cookie's content)."""
    cookie = binding_services.cookie_create(user=user, user_agent="Chrome/156 (X11; Linux x86_64)")
    binding_services.device_bind(cookie=cookie, device_id="c3" * 16)
    return cookie.value


@pytest.fixture
def browser(client, user, registered):
    """The test client, signed in as `user`, in the browser that registered as their device."""
    client.force_login(user)
    client.cookies[settings.BINDING_BROWSER_COOKIE] = get_cookie_signer(
        salt=settings.BINDING_BROWSER_COOKIE
    ).sign(registered)
    return client
