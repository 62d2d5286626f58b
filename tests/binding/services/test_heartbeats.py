"""A dead beat is seen: every sweep leaves its heartbeat in the database, and an old one reads as stale."""

from datetime import timedelta

import pytest
from django.utils import timezone

from binding import selectors, services
from binding.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_queue(monkeypatch):
    """The sweep asks the broker how long the ExpressPlay queue is; here no broker is needed."""
    from binding.services import sweep

    monkeypatch.setattr(sweep, "queue_backlog", lambda queue: 0)


def test_every_sweep_records_when_it_finished_in_one_row():
    assert selectors.sweep_state() == selectors.SweepState(finished_at=None, stale=True)
    services.work_sweep()
    first = selectors.sweep_state()
    assert not first.stale and timezone.now() - first.finished_at < timedelta(seconds=5)
    services.work_sweep(
        now=timezone.now() - timedelta(days=1)
    )  # told another time: it finished now all the same
    assert Heartbeat.objects.count() == 1
    assert selectors.sweep_state().finished_at >= first.finished_at


def test_a_sweep_older_than_the_limit_is_stale(settings):
    settings.BINDING_SWEEP_STALE_AFTER = 60
    now = timezone.now()
    Heartbeat.objects.create(name=Heartbeat.SWEEP, finished_at=now - timedelta(seconds=59))
    assert not selectors.sweep_state(now).stale
    assert selectors.sweep_state(now + timedelta(seconds=2)).stale
