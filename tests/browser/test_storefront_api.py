"""Another storefront uses Bindery through the API: its own page runs the drop-in device check in real
Chromium, its backend rents through the API, receives the signed entitlement.ready webhook on its own
receiver, and its page plays the title; another browser is refused."""

import json
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import testcases

from api.models import Client, ClientAPIKey, ClientTitle
from api.webhook_signing import signature_valid
from tests.toolkit.browser import wait_until

pytestmark = pytest.mark.integration

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "examples"


class Receiver(BaseHTTPRequestHandler):
    """The storefront backend's webhook endpoint: keeps what arrives."""

    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def storefront():
    """The other storefront: its page on its own origin, and its webhook receiver."""
    Receiver.received = []
    pages, pages_url = serve(partial(QuietFiles, directory=str(EXAMPLES)))
    hooks, hooks_url = serve(Receiver)
    yield {"pages": pages_url, "hooks": hooks_url}
    pages.shutdown()
    hooks.shutdown()


def test_another_storefronts_page_registers_rents_gets_the_signed_webhook_and_plays(
    bindery, media, storefront, browser_profile, live_server, monkeypatch
):
    # Media through Bindery's own media view (which allows other origins, as a CDN would), not through the
    # test server's built-in media handler, which knows nothing of other origins.
    monkeypatch.setattr(testcases._MediaFilesHandler, "_should_handle", lambda handler, path: False)
    client = Client.objects.create(name="Other storefront")
    _key, secret = ClientAPIKey.objects.create_key(name="backend", client=client)
    ClientTitle.objects.create(client=client, content_id="green-life", asset=media["life"])
    api = requests.Session()
    api.headers["Authorization"] = f"Api-Key {secret}"
    base = f"{live_server.url}/api/v1"
    hook = api.post(f"{base}/webhooks/", json={"url": f"{storefront['hooks']}/bindery"}).json()

    # The backend starts a device check; the storefront's own page runs it with the drop-in script.
    registration = api.post(f"{base}/registrations/", json={"customer": "buyer-9"}).json()
    page = browser_profile("laptop").new_page()
    page.goto(
        f"{storefront['pages']}/drop-in.html?bindery={live_server.url}&reference={registration['reference']}"
    )
    page.wait_for_selector("body[data-result=bound]", timeout=30000)
    assert "registered" in page.inner_text("#result")
    assert api.get(f"{base}/registrations/{registration['id']}/").json()["state"] == "bound"

    # The backend rents the title through the API and learns from the signed webhook that it is ready.
    rental = api.post(
        f"{base}/entitlements/",
        json={"customer": "buyer-9", "title": "green-life", "policy": {"type": "rent", "rental_hours": 48}},
        headers={"Idempotency-Key": "order-1"},
    ).json()
    deadline = time.monotonic() + 30
    ready = []
    while not ready and time.monotonic() < deadline:
        ready = [(h, b) for h, b in Receiver.received if json.loads(b)["type"] == "entitlement.ready"]
        time.sleep(0.2)
    assert ready, (
        f"no entitlement.ready webhook; received {[json.loads(b)['type'] for _, b in Receiver.received]}"
    )
    headers, body = ready[0]
    assert signature_valid(hook["secret"], headers, body, seen=set())
    event = json.loads(body)
    assert event["data"]["id"] == rental["id"] and event["data"]["state"] == "ready"
    token_url = event["data"]["token_url"]
    manifest = f"{live_server.url}{media['life'].manifest_url}"

    # The storefront's page plays it in this browser: the URLs in its form, and its Play button.
    page.fill("#manifest", manifest)
    page.fill("#token", token_url)
    page.get_by_role("button", name="Play").click()
    wait_until(page, "document.getElementById('video').currentTime > 1", timeout=30)

    # The same token in another browser: refused by the licence server, in words.
    other = browser_profile("tablet").new_page()
    other.goto(f"{storefront['pages']}/drop-in.html?bindery={live_server.url}&reference=none")
    other.wait_for_selector("body[data-result=failed]", timeout=20000)
    assert "This device check is unknown" in other.inner_text("#result")
    other.evaluate("([manifest, token]) => window.watch(manifest, token)", [manifest, token_url])
    other.wait_for_selector("#player[data-state=error]", timeout=20000)
    assert other.get_attribute("#player", "data-error-code") == "-4905"
    assert "bound to another" in other.inner_text("#player")
    assert other.evaluate("document.getElementById('video').currentTime") == 0
