"""A customer's devices: renamed and removed, each with its audit event and actor."""

import pytest

from binding import services
from binding.models import BindingEvent, EventKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_settings")]

DEVICE_A = "a" * 32


def test_rename_and_remove_write_events_with_the_actor(user):
    device = services.device_bind(cookie=services.registration_create(user=user), device_id=DEVICE_A)
    services.device_rename(device=device, label="  Living   room  ", actor_user=user)
    assert device.label == "Living room"
    with pytest.raises(services.BindingError):
        services.device_rename(device=device, label="   ", actor_user=user)
    services.device_remove(device=device, actor_user=user)
    events = BindingEvent.objects.filter(device=device).order_by("id")
    assert [(e.kind, e.actor, e.actor_user) for e in events][-2:] == [
        (EventKind.DEVICE_RENAMED, "user", user),
        (EventKind.DEVICE_REMOVED, "user", user),
    ]
