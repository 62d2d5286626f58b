"""The shared fixtures, registered for the whole suite by tests/conftest.py (`pytest_plugins`)."""

import pytest

from binding.models import MediaAsset

from . import factories
from .broker import QueuedTasks


@pytest.fixture
def queued_tasks(monkeypatch):
    """Collect every Bindery task queued for a worker (entitlement issues, record lookups, webhook
    deliveries) instead of sending it to a broker: a `QueuedTasks`, a list of (task name, id) pairs."""
    from api import tasks as api_tasks
    from binding import tasks as binding_tasks

    queued = QueuedTasks()
    for task in (binding_tasks.entitlement_issue, binding_tasks.device_confirm, api_tasks.webhook_deliver):
        monkeypatch.setattr(
            task, "apply_async", lambda args, name=task.name, **options: queued._send(name, args, **options)
        )
    return queued


@pytest.fixture
def user(db):
    """A customer: jo (first name Jo), password "pw", no e-mail address."""
    return factories.customer_create("jo")


@pytest.fixture
def check_asset(db):
    """The device-check clip, whose key the device-check token carries."""
    return MediaAsset.objects.create(
        slug="device-check", kid="11" * 16, key="22" * 16, manifest="dc/manifest.mpd"
    )


@pytest.fixture
def title(db):
    """The demo world's one title, on sale to buy and to rent (`factories.title_create`)."""
    return factories.title_create(1)
