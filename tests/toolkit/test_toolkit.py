"""The toolkit holds what it says: the broker fake collects what the product queues, and a device registered
through the whole device check ends as the short way registers it."""

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from binding import services
from binding.models import Registration, RegistrationState, TokenRequest

from . import factories
from .broker import DEVICE_CONFIRM, ENTITLEMENT_ISSUE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]


def test_queued_tasks_holds_each_task_with_its_id_and_queue(
    user, title, queued_tasks, django_capture_on_commit_callbacks
):
    registration = factories.device_register(user=user, device_id="a1" * 16)
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.order_place(user=user, title=title, kind="rent", registration=registration)
    assert queued_tasks == [(ENTITLEMENT_ISSUE, order.entitlement_id)]
    assert (
        queued_tasks.ids(ENTITLEMENT_ISSUE) == [order.entitlement_id]
        and queued_tasks.ids(DEVICE_CONFIRM) == []
    )
    assert queued_tasks.queues() == ["expressplay"]


def test_a_refusing_broker_leaves_the_work_to_the_sweep(
    user, queued_tasks, django_capture_on_commit_callbacks
):
    queued_tasks.refuse(OperationalError("Connection refused."))
    cookie = services.registration_create(user=user)
    cookie.check_started_at = timezone.now()  # its check started: the page may report the licence
    cookie.save(update_fields=["check_started_at"])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.registration_licence_seen(cookie=cookie)
    assert queued_tasks == [] and Registration.objects.get(pk=cookie.pk).queued_at is None


def test_a_device_registered_through_the_check_is_bound_as_the_short_way_binds_it(user, check_asset):
    checked = factories.device_register(user=user, device_id="a1" * 16, check=True)
    short = factories.device_register(user=user, device_id="b2" * 16)
    assert checked.state == short.state == RegistrationState.BOUND
    assert checked.device.device_id == "a1" * 16 and short.device.device_id == "b2" * 16
    assert TokenRequest.objects.filter(cookie=checked).count() == 1  # the check's token, on record
    assert not TokenRequest.objects.filter(cookie=short).exists()
