"""Fixtures shared by the whole suite."""

import pytest
from django.conf import settings

from binding.expressplay import ContentKey, Endpoints, ExpressPlayClient
from sandbox.device import SimulatedDevice
from storefront.redis_server import embedded_redis_from_settings


def pytest_report_header(config):
    from tests.browser.conftest import find_chromium

    chromium = find_chromium()
    return (
        f"chromium: {chromium}" if chromium else "chromium: not found, so the browser tests will be SKIPPED"
    )


@pytest.fixture(scope="session")
def redis_url():
    """Return the URL of a real Redis: REDIS_URL's, or the embedded server started for this session."""
    embedded = embedded_redis_from_settings()
    if embedded is None:
        yield settings.REDIS_URL
        return
    embedded.start()
    yield embedded.url
    embedded.stop()


@pytest.fixture
def content_key():
    return ContentKey(kid="0123456789abcdef0123456789abcdef", key="00112233445566778899aabbccddeeff")


@pytest.fixture
def device():
    return SimulatedDevice()


@pytest.fixture
def other_device():
    return SimulatedDevice()


@pytest.fixture
def sandbox_client(live_server):
    """An ExpressPlay client pointed at the sandbox served over real HTTP by live_server."""
    endpoints = Endpoints.for_environment("sandbox", sandbox_url=f"{live_server.url}/sandbox")
    return ExpressPlayClient(
        endpoints=endpoints, customer_authenticator=settings.SANDBOX_CUSTOMER_AUTHENTICATOR
    )
