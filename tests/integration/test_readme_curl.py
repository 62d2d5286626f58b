"""README's curl block, run as written by bash against a live server with the worker and the sandbox: every
id it uses comes from the answers before it. The drop-in page's part (step 2) is played by the test: the
customer's device plays the check, as the browser would, while the block waits for it."""

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from api.models import Client, ClientAPIKey, ClientRegistration, ClientTitle
from binding import services as binding_services
from binding.models import Entitlement, EntitlementState
from sandbox.device import SimulatedDevice
from sandbox.models import Record

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_curl_block() -> str:
    text = README.read_text()
    start = text.index("paste this into a shell in the checkout")
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def play_the_device_check(stop: threading.Event) -> None:
    """What the drop-in page does once the block prints its address: the device plays the check token and
    ExpressPlay logs its id next to the registration's cookie."""
    while not stop.is_set():
        registration = ClientRegistration.objects.select_related("cookie").first()
        if registration is not None:
            device = SimulatedDevice()
            Record.objects.create(cookie=registration.cookie.value, device_id=device.device_id, drm="pr")
            binding_services.device_bind(cookie=registration.cookie, device_id=device.device_id)
            return
        time.sleep(0.2)


def test_the_readme_curl_block_runs_as_written(bindery, media):
    client = Client.objects.create(name="Demo storefront")
    ClientTitle.objects.create(client=client, content_id="life", asset=media["life"])
    _key, secret = ClientAPIKey.objects.create_key(name="readme", client=client)
    stop = threading.Event()
    browser = threading.Thread(target=play_the_device_check, args=(stop,))
    browser.start()
    try:
        run = subprocess.run(
            ["bash", "-e", "-c", readme_curl_block()],
            env={**os.environ, "BINDERY": bindery.url, "KEY": secret},
            cwd=README.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop.set()
        browser.join()
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "life"
    assert lines[1].startswith(f"Open http://127.0.0.1:8500/drop-in.html?bindery={bindery.url}&reference=")
    assert lines[2] == "bound"
    assert "/rights/" in lines[3] or "ExpressPlayToken=" in lines[3], lines[3]
    assert lines[4] == "revoked"
    entitlement = Entitlement.objects.get()
    assert (
        entitlement.state == EntitlementState.REVOKED
        and entitlement.user.api_customer.external_id == "cust-42"
    )
