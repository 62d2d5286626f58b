"""Binding tells the apps above it through its named signal, sent by its one writer of events: no app listens
to post_save on binding's models."""

import pytest
from django.db.models.signals import post_save

from binding.models import BindingEvent, EventKind
from binding.services._common import _event
from binding.signals import binding_event_recorded

pytestmark = pytest.mark.django_db


def test_no_receiver_listens_to_post_save_of_binding_events():
    assert not post_save.has_listeners(BindingEvent)


def test_every_event_written_is_sent_once_to_the_named_signal(user):
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append(event)

    binding_event_recorded.connect(receiver)
    try:
        event = _event(EventKind.ENTITLEMENT_CREATED, user=user, detail="x")
    finally:
        binding_event_recorded.disconnect(receiver)
    assert seen == [event] and BindingEvent.objects.get() == event
