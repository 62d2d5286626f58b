"""Fixtures of the shop's tests: this browser registered as the customer's device, and signed in."""

import pytest

from tests.toolkit import factories


@pytest.fixture
def registered(user):
    """The value this browser remembers after registering (the signed cookie's content)."""
    return factories.device_register(user=user, device_id="c3" * 16).value


@pytest.fixture
def browser(client, user, registered):
    """The test client, signed in as `user`, in the browser that registered as their device."""
    client.force_login(user)
    return factories.browser_remembers(client, registered)
