"""Operators in Django admin: lists, search, filters, links, actions with reasons, diagnostics, permissions."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone

from adminkit import HostileInputMixin
from bindery.admin import BinderyAdminSite
from binding import services
from binding.diagnostics import entitlement_diagnosis
from binding.models import (
    BindingEvent,
    Device,
    Entitlement,
    EntitlementState,
    EventKind,
    Heartbeat,
    MediaAsset,
    Registration,
)
from storefront.models import Offer, Order, Title
from tests.toolkit.broker import ENTITLEMENT_ISSUE
from tests.toolkit.expressplay import RECORDS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings", "queued_tasks")]

DEVICE_A = "a" * 32
DEVICE_B = "b" * 32


def staff(username, group):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operations(client):
    client.force_login(staff("olga", "Operations"))
    return client


@pytest.fixture
def support(client):
    client.force_login(staff("sam", "Support"))
    return client


@pytest.fixture
def customer():
    return get_user_model().objects.create_user(
        "gina", email="gina@example.com", password="x", first_name="Gina"
    )


@pytest.fixture
def world(customer):
    """A customer with two devices and a bought title whose token is bound to device A."""
    asset = MediaAsset.objects.create(
        slug="film", kid="12" * 16, key="34" * 16, manifest="f/m.mpd", duration=6
    )
    title = Title.objects.create(
        slug="film", name="The Film", synopsis="…", year=2020, poster="p.jpg", asset=asset
    )
    offer = Offer.objects.create(title=title, kind="buy", price=Decimal("5.00"))
    cookie = services.registration_create(user=customer, user_agent="Chrome/156 (X11; Linux x86_64)")
    cookie.check_license_url = "http://x/la?ExpressPlayToken=SECRETCHECKTOKEN"
    cookie.save()
    device_a = services.device_bind(cookie=cookie, device_id=DEVICE_A)
    other = services.registration_create(user=customer, user_agent="Firefox/128 (Windows NT 10.0)")
    device_b = services.device_bind(cookie=other, device_id=DEVICE_B)
    entitlement = services.entitlement_create(user=customer, asset=asset, kind="buy", cookie=cookie)
    Entitlement.objects.filter(pk=entitlement.pk).update(
        state="ready", device=device_a, token_device_id=DEVICE_A, tokens_issued=1, token_short="AQAAAx…abcdef",
        license_url="http://x/pr?ExpressPlayToken=SECRETFULLTOKEN", token_expires_at=timezone.now() + timedelta(hours=5),
    )  # fmt: skip  # a row as the worker leaves it, read as one record
    order = Order.objects.create(
        user=customer, title=title, offer=offer, kind="buy", price=offer.price, currency="EUR",
        payment_reference="DEMO-1", entitlement=entitlement, number="BND-TEST0001",
    )  # fmt: skip  # an order as checkout writes it, read as one record
    entitlement.refresh_from_db()
    return {
        "cookie": cookie,
        "a": device_a,
        "b": device_b,
        "entitlement": entitlement,
        "order": order,
        "title": title,
    }


def act(client, model, action, objects, **data):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(
        url, {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "apply": "1", **data}
    )


def last_event(kind):
    return BindingEvent.objects.filter(kind=kind).latest("id")


# --- lists, search, filters, links ------------------------------------------------------------------------------


LISTS = [
    ("binding", "entitlement"), ("binding", "device"), ("binding", "registration"), ("binding", "bindingevent"),
    ("binding", "mediaasset"), ("storefront", "order"), ("storefront", "title"), ("storefront", "offer"),
    ("api", "client"), ("api", "customer"), ("api", "clienttitle"), ("api", "clientregistration"),
    ("api", "webhookendpoint"), ("api", "webhookdelivery"),
]  # fmt: skip  # every admin list, four to a row, read as a table


@pytest.mark.parametrize(("app", "model"), LISTS)
def test_every_list_opens_for_operations_and_support(client, world, app, model):
    for who in (staff("ops", "Operations"), staff("sup", "Support")):
        client.force_login(who)
        response = client.get(reverse(f"admin:{app}_{model}_changelist"))
        assert response.status_code == 200, (who, model)


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("binding_entitlement", "gina@example.com"), ("binding_entitlement", "BND-TEST0001"),
        ("binding_entitlement", "The Film"), ("binding_entitlement", DEVICE_A), ("binding_device", "gina@example.com"),
        ("binding_device", DEVICE_B), ("binding_registration", "gina@example.com"), ("binding_bindingevent", "gina@example.com"),
        ("storefront_order", "BND-TEST0001"), ("storefront_order", "gina@example.com"), ("storefront_order", "The Film"),
        ("storefront_order", DEVICE_A),
    ],
)  # fmt: skip  # (list, search term) pairs, read as a table
def test_search_finds_the_customers_rows(operations, world, model, query):
    response = operations.get(reverse(f"admin:{model}_changelist"), {"q": query})
    assert response.context["cl"].result_count >= 1, (model, query)


def test_search_by_cookie_value(operations, world):
    for model in ("binding_registration", "binding_entitlement", "storefront_order", "binding_bindingevent"):
        response = operations.get(reverse(f"admin:{model}_changelist"), {"q": world["cookie"].value})
        assert response.context["cl"].result_count >= 1, model


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("binding_entitlement", {"state__exact": "ready"}), ("binding_entitlement", {"kind__exact": "buy"}),
        ("binding_registration", {"state__exact": "bound"}), ("binding_bindingevent", {"kind__exact": "device_bound"}),
        ("storefront_order", {"entitlement__state__exact": "ready"}), ("storefront_order", {"kind__exact": "buy"}),
        ("binding_device", {"removed_at__isnull": "True"}),
    ],
)  # fmt: skip  # (list, filter) pairs, read as a table
def test_filters(operations, world, model, params):
    response = operations.get(reverse(f"admin:{model}_changelist"), params)
    assert response.status_code == 200 and response.context["cl"].result_count >= 1


def test_date_filter(operations, world):
    today = timezone.now()
    params = {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    assert (
        operations.get(reverse("admin:storefront_order_changelist"), params).context["cl"].result_count == 1
    )


def test_order_page_links_to_its_entitlement_device_cookie_and_events(operations, world):
    page = operations.get(reverse("admin:storefront_order_change", args=[world["order"].pk])).content.decode()
    assert reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk]) in page
    assert reverse("admin:binding_device_change", args=[world["a"].pk]) in page
    assert reverse("admin:binding_registration_change", args=[world["cookie"].pk]) in page
    assert "Entitlement created" in page
    assert reverse("admin:binding_customer", args=[world["order"].user_id]) in page


def test_secrets_never_show_in_admin(operations, world, settings):
    urls = [
        reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk]) + "?records=1",
        reverse("admin:binding_registration_change", args=[world["cookie"].pk]),
        reverse("admin:storefront_order_change", args=[world["order"].pk]),
        reverse("admin:binding_mediaasset_changelist"),
        reverse("admin:binding_mediaasset_change", args=[world["title"].asset.pk]),
        reverse("admin:binding_customer", args=[world["order"].user_id]),
        reverse("admin:binding_entitlement_changelist"),
    ]
    with responses.RequestsMock() as stub:
        stub.get(RECORDS_URL, json=[])
        for url in urls:
            page = operations.get(url).content.decode()
            assert "34" * 16 not in page, url  # content key
            assert "SECRETFULLTOKEN" not in page and "SECRETCHECKTOKEN" not in page, url
            assert settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR not in page, url
    assert "AQAAAx…abcdef" in operations.get(urls[6]).content.decode()  # tokens only shortened


# --- actions -----------------------------------------------------------------------------------------------------


def test_revoke_asks_for_a_reason_explains_expressplay_and_writes_an_event(operations, world):
    form = operations.post(
        reverse("admin:binding_entitlement_changelist"),
        {"action": "revoke", ACTION_CHECKBOX_NAME: [world["entitlement"].pk]},
    )
    assert "ExpressPlay has no revocation call" in form.content.decode()
    act(operations, Entitlement, "revoke", [world["entitlement"]], reason="chargeback")
    entitlement = Entitlement.objects.get(pk=world["entitlement"].pk)
    assert entitlement.state == EntitlementState.REVOKED and entitlement.license_url == ""
    event = last_event(EventKind.ENTITLEMENT_REVOKED)
    assert (event.actor, event.actor_user.username, event.detail) == ("operator", "olga", "chargeback")
    assert not services.entitlement_renew(entitlement=entitlement)


def test_an_action_without_a_reason_does_nothing(operations, world):
    act(operations, Entitlement, "revoke", [world["entitlement"]], reason="")
    assert Entitlement.objects.get(pk=world["entitlement"].pk).state == EntitlementState.READY


def test_reissue_and_retry(operations, world, queued_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        act(operations, Entitlement, "reissue", [world["entitlement"]], reason="customer says it stopped")
    assert queued_tasks.ids(ENTITLEMENT_ISSUE) == [world["entitlement"].pk]
    assert Entitlement.objects.get(pk=world["entitlement"].pk).state == EntitlementState.PENDING
    assert last_event(EventKind.TOKEN_REISSUE).detail == "customer says it stopped"
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(state="failed", error_code=-2019)
    with django_capture_on_commit_callbacks(execute=True):
        act(operations, Order, "retry", [world["order"]], reason="credits topped up")
    assert queued_tasks.ids(ENTITLEMENT_ISSUE) == [world["entitlement"].pk] * 2
    assert last_event(EventKind.ENTITLEMENT_RETRIED).detail == "credits topped up"


def test_move_to_another_of_the_customers_devices(operations, world):
    act(operations, Entitlement, "move", [world["entitlement"]], reason="new laptop", device=world["b"].pk)
    entitlement = Entitlement.objects.get(pk=world["entitlement"].pk)
    assert entitlement.device == world["b"] and entitlement.state == EntitlementState.PENDING
    assert entitlement.cookie.device == world["b"]  # its token will carry the new device's registration
    event = last_event(EventKind.ENTITLEMENT_MOVED)
    assert event.actor == "operator" and "new laptop" in event.detail


def test_remove_device_stops_renewal_until_moved(operations, world):
    act(operations, Device, "remove", [world["a"]], reason="lost phone")
    assert not Device.objects.get(pk=world["a"].pk).is_active
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert not services.entitlement_renew(entitlement=world["entitlement"])
    assert services.device_swap_allowance(world["a"].user).used == 0  # operators do not use the allowance


@responses.activate
def test_refresh_device_reports_what_the_records_say(operations, world):
    responses.get(
        RECORDS_URL,
        json=[{"event_id": 3, "device_id": DEVICE_A, "result": 0, "time": "2026-11-22T10:00:00Z"}],
    )
    response = act(operations, Device, "refresh", [world["a"]], reason="customer call")
    assert response.status_code == 302
    event = last_event(EventKind.DEVICE_REFRESHED)
    assert "confirm this device id" in event.detail and event.actor_user.username == "olga"


def test_reset_swaps_gives_the_allowance_back(operations, world, customer):
    services.device_remove(device=world["b"], actor_user=customer)
    assert services.device_swap_allowance(customer).used == 1
    act(operations, Device, "reset_swaps", [world["a"]], reason="goodwill")
    assert services.device_swap_allowance(customer).used == 0


def test_export_the_audit_trail_as_csv(operations, world, customer):
    response = act(operations, BindingEvent, "export", BindingEvent.objects.filter(user=customer))
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert body.splitlines()[0].startswith("time,event,customer,actor")
    assert "device_bound" in body and "gina@example.com" in body
    per_customer = operations.get(reverse("admin:binding_customer_export", args=[customer.pk]))
    assert per_customer.content.decode().count("\n") == BindingEvent.objects.filter(user=customer).count() + 1


def test_customer_overview_shows_cookies_devices_entitlements_and_events(operations, world, customer):
    page = operations.get(reverse("admin:binding_customer", args=[customer.pk])).content.decode()
    for expected in (
        world["cookie"].value,
        DEVICE_A,
        DEVICE_B,
        "BND-TEST0001",
        "The Film",
        "Device bound",
        "Firefox on Windows",
    ):
        assert expected in page, expected
    users = operations.get(reverse("admin:auth_user_changelist")).content.decode()
    assert reverse("admin:binding_customer", args=[customer.pk]) in users


# --- permissions -----------------------------------------------------------------------------------------------


def test_plain_users_get_no_admin(client, customer):
    client.force_login(customer)
    response = client.get(reverse("admin:binding_entitlement_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert client.get(reverse("admin:binding_customer", args=[customer.pk])).status_code == 302


def test_support_can_read_and_retry_but_not_change(support, world):
    changelist = support.get(reverse("admin:binding_entitlement_changelist"))
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "retry" in actions
    assert not {"revoke", "reissue", "move"} & set(actions)
    device_form = support.get(reverse("admin:binding_device_changelist")).context["action_form"]
    device_actions = [n for n, _ in device_form.fields["action"].choices] if device_form else []
    assert not {"remove", "refresh", "reset_swaps"} & set(device_actions)
    act(support, Entitlement, "revoke", [world["entitlement"]], reason="should not work")
    assert Entitlement.objects.get(pk=world["entitlement"].pk).state == EntitlementState.READY
    # Read-only: the device's change page has no save button, and a POST changes nothing.
    change_url = reverse("admin:binding_device_change", args=[world["a"].pk])
    assert 'name="_save"' not in support.get(change_url).content.decode()
    support.post(change_url, {"label": "hacked"})
    assert Device.objects.get(pk=world["a"].pk).label != "hacked"
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(state="failed")
    act(support, Entitlement, "retry", [world["entitlement"]], reason="try again")
    assert Entitlement.objects.get(pk=world["entitlement"].pk).state == EntitlementState.PENDING


def test_operations_can_rename_a_device(operations, world):
    url = reverse("admin:binding_device_change", args=[world["a"].pk])
    operations.post(url, {"label": "Gina's laptop"})
    assert Device.objects.get(pk=world["a"].pk).label == "Gina's laptop"


def test_the_audit_trail_is_read_only_for_everyone(admin_client, world):
    event = BindingEvent.objects.first()
    assert (
        admin_client.post(
            reverse("admin:binding_bindingevent_change", args=[event.pk]), {"detail": "x"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:binding_bindingevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:binding_bindingevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


# --- diagnostics --------------------------------------------------------------------------------------------------


def record(event_id, device_id, result, kid="12" * 16):
    return {
        "event_id": event_id,
        "device_id": device_id,
        "result": result,
        "kid": kid,
        "time": f"2026-11-22T10:00:{event_id:02d}Z",
    }


@pytest.mark.parametrize(
    ("records", "changes", "verdict"),
    [
        ([record(1, DEVICE_A, 0, kid="ff" * 16), record(2, DEVICE_A, 0)], {}, "OK"),
        ([record(1, DEVICE_A, 0, kid="ff" * 16)], {}, "never played"),
        (
            [record(1, DEVICE_A, 0, kid="ff" * 16)],
            {"first_played_at": timezone.now() - timedelta(hours=1)},  # a move or re-issue since
            "not played since the new token",
        ),
        ([record(2, DEVICE_A, 0), record(3, DEVICE_B, -4905)], {}, "bound to another device"),
        (
            [record(2, DEVICE_A, 0)],
            {"token_expires_at": timezone.now() - timedelta(minutes=1)},
            "token expired",
        ),
        ([], {"kind": "rent", "rental_ends_at": timezone.now() - timedelta(minutes=1)}, "rental ended"),
        ([], {"state": "failed", "error_code": -2018}, "token not issued"),
        ([], {"state": "revoked"}, "revoked"),
        ([record(2, DEVICE_A, -4001)], {}, "licence refused"),
    ],
)
@responses.activate
def test_diagnosis_verdicts(world, records, changes, verdict):
    responses.get(RECORDS_URL, json=records)
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(**changes)
    diagnosis = entitlement_diagnosis(
        Entitlement.objects.select_related("asset", "device", "cookie").get(pk=world["entitlement"].pk)
    )
    assert diagnosis.verdict == verdict
    assert diagnosis.token_device_id == DEVICE_A and diagnosis.registered_device_id == DEVICE_A
    if verdict == "bound to another device":
        # Devices by the customer's names for them, not by 32 hex digits.
        bound = Device.objects.get(device_id=DEVICE_A)
        assert f"the customer's device “{bound.label}” ({DEVICE_A[:8]}…)" in diagnosis.explanation
        other = Device.objects.filter(device_id=DEVICE_B).first()
        assert (f"“{other.label}”" if other else "never registered") in diagnosis.explanation
        assert DEVICE_B not in diagnosis.explanation
        assert diagnosis.records[0].meaning == "The token is bound to another device."
        assert diagnosis.record_device_id == DEVICE_B  # what the newest record says, refused or not


@responses.activate
def test_entitlement_page_shows_the_diagnosis_side_by_side(operations, world):
    responses.get(RECORDS_URL, json=[record(2, DEVICE_A, 0), record(3, DEVICE_B, -4905)])
    page = operations.get(
        reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk]) + "?records=1"
    ).content.decode()
    assert 'data-testid="verdict">bound to another device<' in page
    assert "Device id in the token" in page and DEVICE_B in page
    assert "The token is bound to another device." in page


@responses.activate
def test_diagnosis_survives_expressplay_being_down(operations, world):
    responses.get(RECORDS_URL, status=503)
    page = operations.get(
        reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk]) + "?records=1"
    ).content.decode()
    assert "records could not be read" in page


def test_entitlement_page_asks_expressplay_only_when_the_operator_asks(operations, world):
    url = reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk])
    with responses.RequestsMock() as stub:  # any call to ExpressPlay would fail: none is registered
        page = operations.get(url).content.decode()
        assert len(stub.calls) == 0
    assert 'data-testid="verdict">token ready<' in page
    assert 'href="?records=1"' in page


def test_entitlement_page_shows_a_refusal_the_player_reported_in_red_before_any_lookup(operations, world):
    tablet = Registration.objects.get(device=world["b"])
    services.entitlement_refusal_report(
        entitlement=world["entitlement"], code=-4905, browser_cookie=tablet.value, actor_user=world["b"].user
    )
    url = reverse("admin:binding_entitlement_change", args=[world["entitlement"].pk])
    with responses.RequestsMock() as stub:  # nothing is asked of ExpressPlay
        page = operations.get(url).content.decode()
        assert len(stub.calls) == 0
    assert 'class="verdict bad" data-testid="verdict">bound to another device<' in page
    assert f"registered as “{world['b'].label}” ({DEVICE_B[:8]}…)" in page
    assert 'data-testid="refusal"' in page and DEVICE_B in page


def test_changelist_flags_entitlements_pending_longer_than_expected(operations, world, settings):
    url = reverse("admin:binding_entitlement_changelist")
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(state="pending")
    assert 'data-testid="waiting-too-long"' not in operations.get(url).content.decode()
    Entitlement.objects.filter(pk=world["entitlement"].pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.BINDING_PENDING_ALERT_AFTER + 1)
    )
    page = operations.get(url).content.decode()
    assert "1 entitlement has been pending for more than 5 minutes." in page
    listed = operations.get(url + "?waiting=long").context["cl"].result_list
    assert [e.pk for e in listed] == [world["entitlement"].pk]


def test_changelist_warns_when_the_sweep_has_stopped(operations, world, settings):
    settings.BINDING_SWEEP_STALE_AFTER = 60
    url = reverse("admin:binding_entitlement_changelist")
    services.heartbeat_record(name=Heartbeat.SWEEP)
    assert 'data-testid="sweep-stale"' not in operations.get(url).content.decode()
    Heartbeat.objects.update(finished_at=timezone.now() - timedelta(seconds=125))
    page = operations.get(url).content.decode()
    assert 'data-testid="sweep-stale"' in page
    assert "The sweep last ran 2\xa0minutes ago." in page and "Is Celery beat running?" in page
    Heartbeat.objects.all().delete()
    assert "The sweep has never run." in operations.get(url).content.decode()


def test_cookie_admin_has_no_add_or_delete(operations, world):
    assert operations.get(reverse("admin:binding_registration_add")).status_code == 403
    assert Registration.objects.count() == 2
    assert settings.BINDING_SWAPS_PER_PERIOD == 2


def test_csv_cells_that_would_run_as_spreadsheet_formulas_are_escaped(operations, world, customer):
    for payload in ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"):
        BindingEvent.objects.create(kind="device_renamed", user=customer, detail=payload)
    body = operations.get(reverse("admin:binding_customer_export", args=[customer.pk])).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    details = [row[-1] for row in rows[1:]]
    for payload in ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"):
        assert "'" + payload in details and payload not in details


@pytest.mark.parametrize("selected", ["x", "²", "99999999999999999999999"])
def test_an_action_on_rows_that_cannot_exist_is_refused_with_a_message(operations, world, selected):
    response = operations.post(
        reverse("admin:binding_entitlement_changelist"),
        {"action": "retry", "_selected_action": [selected]},
    )
    assert response.status_code == 302
    assert "Those rows cannot be selected." in operations.get(response["Location"]).content.decode()


@pytest.mark.parametrize("query", ["first_seen__year=99999", "first_seen__year=-5"])
def test_an_impossible_date_filter_is_a_refusal_not_an_error(operations, world, query):
    response = operations.get(reverse("admin:binding_device_changelist") + "?" + query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


# Every admin on the site, Bindery's and the libraries', answers hostile input as binding's do (the toolkit).

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
BINDERY_APPS = {"accounts", "binding", "api", "storefront", "sandbox"}


def test_every_admin_on_the_site_is_hardened_against_hostile_input():
    assert len(REGISTERED) > 20
    assert [
        m._meta.label for m in REGISTERED if not isinstance(admin.site._registry[m], HostileInputMixin)
    ] == []


def test_bindery_s_own_admins_build_on_the_toolkit_themselves():
    """Only the libraries' admins get HostileInputMixin from the site; ours declare it (or RecordAdmin)."""
    assert isinstance(admin.site._wrapped, BinderyAdminSite)
    mixed_in_by_the_site = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if type(model_admin).__module__ == BinderyAdminSite.__module__
    )
    assert "auth.Group" in mixed_in_by_the_site
    assert [label for label in mixed_in_by_the_site if label.split(".")[0] in BINDERY_APPS] == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_a_hostile_id_in_any_admin_url_gets_a_clear_answer(admin_client, model):
    """/admin/api/client/abc'%3B/change/ is answered as /admin/binding/entitlement/abc'%3B/change/ is."""
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(f"{changelist}abc'%3B/change/", follow=True)
    assert response.redirect_chain == [(reverse("admin:index"), 302)]
    page = response.content.decode()
    assert "with ID “abc&#x27;;”" in page and "Perhaps it was deleted?" in page


def test_an_action_on_rows_that_cannot_exist_is_refused_by_every_admin_with_actions(
    admin_client, admin_user, rf
):
    request = rf.get("/")
    request.user = admin_user
    answers = {}
    for model in REGISTERED:
        actions = list(admin.site._registry[model].get_actions(request))
        if actions:
            changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            # No primary key of any kind can hold it: not digits, not a UUID, a NUL in text.
            response = admin_client.post(changelist, {"action": actions[0], ACTION_CHECKBOX_NAME: ["x\x00"]})
            page = (
                admin_client.get(response["Location"]).content.decode() if response.status_code == 302 else ""
            )
            answers[model._meta.label] = "Those rows cannot be selected." in page
    assert {"api.WebhookDelivery", "api.ClientAPIKey", "binding.Entitlement", "auth.Group"} <= answers.keys()
    assert [label for label, refused in answers.items() if not refused] == []


def test_an_impossible_date_filter_is_a_refusal_in_every_admin(admin_client):
    answers = {}
    for model in REGISTERED:
        dates = [f.name for f in model._meta.fields if isinstance(f, models.DateField)]  # DateTimeField too
        if dates:
            changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            response = admin_client.get(f"{changelist}?{dates[0]}__year=99999")
            answers[model._meta.label] = response.status_code == 302 and response["Location"].endswith("?e=1")
    assert {
        "api.WebhookDelivery",
        "accounts.OutgoingMail",
        "binding.Device",
        "axes.AccessAttempt",
    } <= answers.keys()
    assert [label for label, refused in answers.items() if not refused] == []
