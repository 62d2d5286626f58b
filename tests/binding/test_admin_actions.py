# ruff: noqa: F811 - the fixtures of test_admin.py, imported, are this file's test arguments
"""Operators' actions on an entitlement's own page, confirmations that say what was done, and the admin index's
count of refused orders that wait for support."""

from datetime import timedelta

import pytest
from django.urls import reverse

from binding import services
from binding.models import Entitlement, EntitlementState, EventKind

from .test_admin import act, customer, last_event, staff, world  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings", "queued_tasks")]


def change_page(entitlement) -> str:
    return reverse("admin:binding_entitlement_change", args=[entitlement.pk])


def object_action(entitlement, name) -> str:
    return reverse("admin:binding_entitlement_object_action", args=[entitlement.pk, name])


def fail(entitlement, code=-2018):
    Entitlement.objects.filter(pk=entitlement.pk).update(state=EntitlementState.FAILED, error_code=code)
    entitlement.refresh_from_db()


def test_an_entitlements_own_page_offers_the_actions_that_apply_to_it(client, world):
    client.force_login(staff("olga", "Operations"))
    entitlement = world["entitlement"]  # ready
    page = client.get(change_page(entitlement)).content.decode()
    for name in ("reissue", "revoke", "move"):
        assert f'action="{object_action(entitlement, name)}"' in page
    assert object_action(entitlement, "retry") not in page  # only a failed one is retried
    fail(entitlement)
    page = client.get(change_page(entitlement)).content.decode()
    assert f'action="{object_action(entitlement, "retry")}"' in page


def test_retry_from_the_entitlements_page_asks_a_reason_runs_the_service_and_says_what_was_done(
    client, world
):
    client.force_login(staff("sam", "Support"))
    entitlement = world["entitlement"]
    fail(entitlement)
    form = client.post(object_action(entitlement, "retry"))
    assert form.status_code == 200 and "Reason" in form.content.decode()  # the same reason form as the list's
    assert f'href="{change_page(entitlement)}" class="button cancel-link"' in form.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).state == EntitlementState.FAILED  # nothing done yet
    done = client.post(object_action(entitlement, "retry"), {"apply": "1", "reason": "ExpressPlay fixed it"})
    assert done["Location"] == change_page(entitlement)  # back to the entitlement
    assert Entitlement.objects.get(pk=entitlement.pk).state == EntitlementState.PENDING
    event = last_event(EventKind.ENTITLEMENT_RETRIED)
    assert event.detail == "ExpressPlay fixed it" and event.actor_user.username == "sam"
    page = client.get(change_page(entitlement)).content.decode()
    assert "Retried issuing for Buy The Film (gina)." in page
    assert "1 done." not in page


def test_support_cannot_revoke_from_the_entitlements_page(client, world):
    client.force_login(staff("sam", "Support"))
    entitlement = world["entitlement"]
    assert object_action(entitlement, "revoke") not in client.get(change_page(entitlement)).content.decode()
    response = client.post(object_action(entitlement, "revoke"), {"apply": "1", "reason": "x"})
    assert response.status_code == 403
    assert Entitlement.objects.get(pk=entitlement.pk).state == EntitlementState.READY


def test_revoke_and_move_from_the_entitlements_page_say_what_was_done(client, world):
    client.force_login(staff("olga", "Operations"))
    entitlement = world["entitlement"]
    client.post(
        object_action(entitlement, "move"), {"apply": "1", "reason": "asked", "device": world["b"].pk}
    )
    page = client.get(change_page(entitlement)).content.decode()
    assert f"Moved Buy The Film (gina) to {world['b'].label}." in page
    response = client.post(
        object_action(entitlement, "revoke"), {"apply": "1", "reason": "chargeback"}, follow=True
    )
    assert "Revoked Buy The Film (gina)." in response.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).state == EntitlementState.REVOKED


def test_a_list_action_on_several_names_them_with_a_count(client, world):
    client.force_login(staff("olga", "Operations"))
    first = world["entitlement"]
    fail(first)
    second = services.entitlement_create(
        user=first.user,
        asset=first.asset,
        kind="rent",
        cookie=world["cookie"],
        rental_period=timedelta(hours=2),
    )
    fail(second)
    response = act(client, Entitlement, "retry", [first, second], reason="batch")
    page = client.get(response["Location"]).content.decode()
    assert "Retried issuing for 2 entitlements: " in page
    assert "Buy The Film (gina)" in page and "Rent The Film (gina)" in page


def test_the_admin_index_counts_refused_orders_and_links_to_them(client, world):
    client.force_login(staff("sam", "Support"))
    assert 'data-testid="needs-attention"' not in client.get(reverse("admin:index")).content.decode()
    fail(world["entitlement"])
    index = client.get(reverse("admin:index")).content.decode()
    assert "1 refused order waits for support" in index
    link = f"{reverse('admin:binding_entitlement_changelist')}?attention=support"
    assert f'href="{link}"' in index
    listed = client.get(link).content.decode()
    assert change_page(world["entitlement"]) in listed
    services.entitlement_retry(entitlement=world["entitlement"], actor_user=None, reason="x")
    assert 'data-testid="needs-attention"' not in client.get(reverse("admin:index")).content.decode()
