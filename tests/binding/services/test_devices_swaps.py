"""Device swaps: removals and moves per period, shown to the user, overridable by operators."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from binding import services
from binding.models import Entitlement, EntitlementState, MediaAsset
from storefront import services as shop_services
from storefront.models import Offer, Title
from tests.toolkit import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]


def as_browser(client, user, cookie):
    client.force_login(user)
    return factories.browser_remembers(client, cookie.value)


def test_user_removals_are_limited_per_period_and_my_devices_says_so(client, user, settings):
    settings.BINDING_SWAPS_PER_PERIOD = 2
    cookies = [factories.device_register(user=user, device_id=f"{n:032x}") for n in range(3)]
    as_browser(client, user, cookies[0])
    assert "You can remove 2 more devices" in client.get(reverse("binding:devices")).content.decode()
    devices = list(user.devices.order_by("first_seen"))
    client.post(reverse("binding:remove", args=[devices[1].pk]))
    client.post(reverse("binding:remove", args=[devices[2].pk]))
    page = client.get(reverse("binding:devices")).content.decode()
    assert "No device changes left this period" in page
    refused = client.post(reverse("binding:remove", args=[devices[0].pk]), follow=True)
    assert "You have used your 2 device changes for the last 30 days" in refused.content.decode()
    assert devices[0].__class__.objects.get(pk=devices[0].pk).is_active


def test_operator_removals_do_not_count_and_a_reset_restores_the_allowance(user):
    operator = get_user_model().objects.create_user("op", is_staff=True)
    a, b = (
        factories.device_register(user=user, device_id="a" * 32),
        factories.device_register(user=user, device_id="b" * 32),
    )
    services.device_remove(device=a.device, actor_user=operator, reason="support call")
    assert services.device_swap_allowance(user).used == 0
    services.device_remove(device=b.device, actor_user=user)
    assert services.device_swap_allowance(user).used == 1
    services.device_swaps_reset(user=user, actor_user=operator, reason="goodwill")
    assert services.device_swap_allowance(user).left == 2


def make_offer(kind):
    asset = MediaAsset.objects.create(
        slug=f"clip-{kind}", kid=("ab" if kind == "buy" else "cd") * 16, key="ef" * 16, manifest="m.mpd"
    )
    title = Title.objects.create(
        slug=f"t-{kind}", name=f"T {kind}", synopsis=".", year=2020, poster="p.jpg", asset=asset
    )
    return Offer.objects.create(
        title=title, kind=kind, price=Decimal(1), rental_hours=48 if kind == "rent" else None
    )


def test_move_a_bought_title_to_this_browser_counts_as_a_swap(client, user):
    laptop, tablet = (
        factories.device_register(user=user, device_id="a" * 32),
        factories.device_register(user=user, device_id="b" * 32),
    )
    order = shop_services.order_place(user=user, offer=make_offer("buy"), browser_cookie=laptop.value)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="ready", device=laptop.device, tokens_issued=1
    )
    as_browser(client, user, tablet)
    library = client.get(reverse("storefront:library")).content.decode()
    assert 'data-testid="move-here"' in library
    response = client.post(reverse("storefront:move-here", args=[order.entitlement_id]))
    assert response["Location"] == reverse("storefront:play", args=[order.entitlement_id])
    entitlement = Entitlement.objects.get(pk=order.entitlement_id)
    assert (entitlement.device, entitlement.cookie, entitlement.state) == (
        tablet.device,
        tablet,
        EntitlementState.PENDING,
    )
    assert services.device_swap_allowance(user).used == 1


def test_rentals_cannot_be_moved_by_the_user(user):
    laptop, tablet = (
        factories.device_register(user=user, device_id="a" * 32),
        factories.device_register(user=user, device_id="b" * 32),
    )
    order = shop_services.order_place(user=user, offer=make_offer("rent"), browser_cookie=laptop.value)
    Entitlement.objects.filter(pk=order.entitlement_id).update(state="ready", device=laptop.device)
    with pytest.raises(services.BindingError, match="Only titles you bought"):
        services.entitlement_move(entitlement=order.entitlement, device=tablet.device, actor_user=user)


def test_a_title_bound_to_a_removed_device_says_how_to_get_it_back(client, user):
    laptop, tablet = (
        factories.device_register(user=user, device_id="a" * 32),
        factories.device_register(user=user, device_id="b" * 32),
    )
    order = shop_services.order_place(user=user, offer=make_offer("buy"), browser_cookie=laptop.value)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state="ready", device=laptop.device, tokens_issued=1
    )
    services.device_remove(device=laptop.device, actor_user=user)
    as_browser(client, user, tablet)
    status = client.get(reverse("storefront:entitlement-status", args=[order.entitlement_id])).json()
    assert status["ok"] is False and "which you removed from your devices" in status["message"]
    assert "Move to this device" in status["next"]


@pytest.mark.parametrize(
    ("kind", "state", "where", "left", "verdict"),
    [
        ("buy", EntitlementState.READY, "other", 1, "allowed"),
        ("buy", EntitlementState.READY, "other", 0, "no_changes_left"),
        ("buy", EntitlementState.READY, "same", 1, "same_device"),
        ("buy", EntitlementState.READY, None, 1, "not_registered"),
        ("buy", EntitlementState.REVOKED, "other", 1, "over"),
        ("rent", EntitlementState.READY, "other", 1, "rental"),
    ],
)
def test_one_rule_says_whether_a_title_may_move_to_this_browser(user, kind, state, where, left, verdict):
    """My library's button and the player's refusal both read binding.selectors.move_offer."""
    from binding.selectors import MoveVerdict, move_offer

    bought_on, other = (
        factories.device_register(user=user, device_id="a" * 32),
        factories.device_register(user=user, device_id="b" * 32),
    )
    asset = MediaAsset.objects.create(slug="m", kid="1" * 32, key="2" * 32, manifest="m/manifest.mpd")
    ends = {"rental_ends_at": timezone.now() + timedelta(days=2)} if kind == "rent" else {}
    entitlement = Entitlement.objects.create(
        user=user, asset=asset, kind=kind, state=state, cookie=bought_on, device=bought_on.device, **ends
    )
    this_device = {"other": other.device, "same": bought_on.device, None: None}[where]
    offer = move_offer(entitlement, this_device, left)
    assert offer.verdict is MoveVerdict(verdict)
    assert offer.allowed is (verdict == "allowed")
    assert offer.shown is (verdict in ("allowed", "no_changes_left"))
