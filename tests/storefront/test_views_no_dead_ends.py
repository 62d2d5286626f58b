"""No dead ends: the register page says at once when the device limit is reached, and every "register this
browser" sentence links to the registration, which comes back to the title afterwards."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from binding.models import BindingMode, Entitlement, EntitlementState
from storefront import services
from tests.toolkit import factories
from tests.toolkit.factories import title_offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued_tasks")]


def test_the_register_page_says_at_once_that_the_device_limit_is_reached_and_names_the_devices(
    client, user, settings, title
):
    settings.BINDING_DEVICE_LIMIT = 2
    factories.device_register(user=user, device_id="a1" * 16, device_name="Kitchen laptop")
    factories.device_register(user=user, device_id="b2" * 16, device_name="Phone")
    client.force_login(user)  # a new browser: none of the two
    back = reverse("storefront:checkout", args=[title_offer(title, "rent").pk])
    page = client.get(reverse("binding:register"), {"next": back}).content.decode()
    assert 'data-testid="device-limit"' in page
    assert "You already have 2 registered devices, the most allowed" in page
    assert "Kitchen laptop" in page and "Phone" in page
    assert f'href="{reverse("binding:devices")}?next={back}"' in page  # My devices, and back after
    assert "Start the device check" not in page  # no check that can only be refused
    assert "Back to “Title 1”" in page


def test_under_the_limit_or_for_a_registered_browser_the_check_is_offered(client, user, settings, registered):
    settings.BINDING_DEVICE_LIMIT = 1
    client.force_login(user)
    # this browser is the one device: checking it again takes no new place
    factories.browser_remembers(client, registered)
    page = client.get(reverse("binding:register")).content.decode()
    assert "Start the device check" in page and 'data-testid="device-limit"' not in page


def test_removing_a_device_from_the_limit_page_keeps_the_way_back(client, user, settings, title):
    settings.BINDING_DEVICE_LIMIT = 1
    laptop = factories.device_register(user=user, device_id="a1" * 16, device_name="Laptop")
    client.force_login(user)
    back = reverse("storefront:title", args=[title.slug])
    devices = client.get(reverse("binding:devices"), {"next": back}).content.decode()
    assert f'href="{reverse("binding:register")}?next={back}"' in devices
    response = client.post(reverse("binding:remove", args=[laptop.device.pk]), {"next": back})
    assert response["Location"] == f"{reverse('binding:devices')}?next=%2Ftitles%2F{title.slug}%2F"
    page = client.get(reverse("binding:register"), {"next": back}).content.decode()
    assert "Start the device check" in page


def test_the_device_check_comes_back_to_the_title_and_refuses_a_next_off_site(client, user, title):
    client.force_login(user)
    back = reverse("storefront:checkout", args=[title_offer(title, "buy").pk])
    response = client.post(reverse("binding:register"), {"name": "Laptop", "next": back})
    check = response["Location"]
    assert parse_qs(urlsplit(check).query)["next"] == [back]
    page = client.get(check).content.decode()
    assert f'id="continue" href="{back}">Back to “Title 1”</a>' in page
    response = client.post(reverse("binding:register"), {"name": "Laptop", "next": "https://evil.example/"})
    assert "next" not in response["Location"]
    page = client.get(reverse("binding:register"), {"next": "//evil.example/x"}).content.decode()
    assert 'value="//evil.example' not in page and 'href="//evil.example' not in page


def test_a_title_refused_in_an_unregistered_browser_links_to_the_registration_and_back(client, user, title):
    laptop = factories.device_register(user=user, device_id="a1" * 16, device_name="Laptop")
    order = services.order_place(user=user, offer=title_offer(title, "buy"), browser_cookie=laptop.value)
    Entitlement.objects.filter(pk=order.entitlement_id).update(
        state=EntitlementState.READY, device=laptop.device, tokens_issued=1, bound_by=BindingMode.EXPRESSPLAY
    )
    client.force_login(user)  # another browser, not registered
    play_url = reverse("storefront:play", args=[order.entitlement_id])
    page = client.get(play_url).content.decode()
    assert "Register this browser under My devices" in page  # the sentence the player shows on -4905 ...
    assert f'href="{reverse("binding:register")}?next={play_url}"' in page  # ... with its link
    response = client.post(reverse("storefront:move-here", args=[order.entitlement_id]))
    assert response["Location"] == f"{reverse('binding:register')}?next={play_url.replace('/', '%2F')}"
    page = client.get(response["Location"]).content.decode()
    assert "Back to “Title 1”" in page


def test_the_way_back_names_only_the_customers_own_orders(client, user, title, django_user_model):
    other = django_user_model.objects.create_user("kim", password="x")
    cookie = factories.device_register(user=other, device_id="c3" * 16, device_name="Kim's")
    order = services.order_place(user=other, offer=title_offer(title, "buy"), browser_cookie=cookie.value)
    client.force_login(user)
    page = client.get(
        reverse("binding:register"), {"next": reverse("storefront:play", args=[order.entitlement_id])}
    ).content.decode()
    assert "Title 1" not in page
