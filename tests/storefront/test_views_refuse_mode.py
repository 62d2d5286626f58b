"""A browser whose DRM is in `refuse` mode (decision 0013) is told before payment that titles are not sold to it,
and neither the shop nor the services take the order; an order issuing refused says so in words."""

from decimal import Decimal

import pytest
from django.urls import reverse

from binding import selectors as binding_selectors
from binding import services as binding_services
from binding.exceptions import DrmNotSold
from binding.models import Device, Entitlement, EntitlementFailure, EntitlementState, MediaAsset, Registration
from storefront.forms import DEMO_CARD
from storefront.models import Offer, Order, Title

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    asset = MediaAsset.objects.create(slug="film", kid="33" * 16, key="44" * 16, manifest="film/manifest.mpd")
    title = Title.objects.create(slug="film", name="Film", synopsis="-", year=2026, asset=asset)
    return Offer.objects.create(title=title, kind="buy", price=Decimal("4.99"))


@pytest.fixture
def fairplay_refused(settings, registered):
    settings.EXPRESSPLAY_BINDING = {"pr": "expressplay", "wv": "expressplay", "fp": "refuse"}
    Registration.objects.filter(value=registered).update(drm="fp")
    Device.objects.filter(cookies__value=registered).update(drm="fp")


def test_the_title_and_checkout_pages_say_so_before_payment(browser, offer, fairplay_refused):
    title = browser.get(reverse("storefront:title", args=[offer.title.slug])).content.decode()
    assert "titles cannot be bound to FairPlay devices here" in title
    assert reverse("storefront:checkout", args=[offer.pk]) not in title
    checkout = browser.get(reverse("storefront:checkout", args=[offer.pk])).content.decode()
    assert "Nothing has been charged" in checkout and 'data-testid="pay"' not in checkout


def test_a_posted_payment_is_refused_in_words_and_nothing_is_kept(
    browser, offer, fairplay_refused, queued_tasks
):
    answer = browser.post(
        reverse("storefront:checkout", args=[offer.pk]),
        {"cardholder": "Jo", "card_number": DEMO_CARD},
        follow=True,
    )
    assert "does not sell them to it" in answer.content.decode()
    assert not Order.objects.exists() and not Entitlement.objects.exists() and queued_tasks == []


def test_the_service_every_caller_uses_refuses_the_order(user, registered, offer, fairplay_refused):
    cookie = Registration.objects.get(value=registered)
    with pytest.raises(DrmNotSold):
        binding_services.entitlement_create(user=user, asset=offer.title.asset, kind="buy", cookie=cookie)


def test_an_order_that_issuing_refused_says_why_in_words(user, registered, offer, queued_tasks):
    cookie = Registration.objects.get(value=registered)
    entitlement = binding_services.entitlement_create(
        user=user, asset=offer.title.asset, kind="buy", cookie=cookie
    )
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state=EntitlementState.FAILED, failure=EntitlementFailure.DRM_NOT_BOUND, device=cookie.device
    )
    entitlement.refresh_from_db()
    status = binding_selectors.entitlement_status(entitlement)
    assert status["drm_refused"] and "cannot be bound to this device's DRM (PlayReady)" in status["message"]
    assert "refund" in status["next"]
