"""The record-lookup task: retries with backoff until the record appears, then gives up."""

import pytest
import responses

from binding import services, tasks
from binding.models import EventKind, Registration, RegistrationState
from tests.toolkit.expressplay import RECORDS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]


@responses.activate
def test_task_retries_with_backoff_until_the_record_appears(user, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cookie = services.registration_create(user=user)
    responses.get(RECORDS_URL, json=[])
    responses.get(RECORDS_URL, status=502)
    responses.get(RECORDS_URL, json={"cookie": cookie.value, "device_id": "d" * 32})
    result = tasks.device_confirm.apply(args=[cookie.pk])
    assert result.get() == "bound"
    assert len(responses.calls) == 3
    assert Registration.objects.get(pk=cookie.pk).device.device_id == "d" * 32


@responses.activate
def test_task_gives_up_after_the_configured_retries(user, settings):
    settings.BINDING_RECORD_LOOKUP_RETRIES = 2
    cookie = services.registration_create(user=user)
    responses.get(RECORDS_URL, json=[])
    assert tasks.device_confirm.apply(args=[cookie.pk]).get() == "gave-up"
    assert len(responses.calls) == 3
    cookie.refresh_from_db()
    assert cookie.state == RegistrationState.FAILED
    assert cookie.events.filter(kind=EventKind.RECORD_LOOKUP_FAILED).exists()


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for retries in range(10):
        delays = [tasks.backoff(retries) for _ in range(50)]
        assert all(0 <= d <= min(30, 0.5 * 2**retries) for d in delays)
    assert max(tasks.backoff(3) for _ in range(200)) > 2
