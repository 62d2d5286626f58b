"""ExpressPlay's endpoints as unit tests stub them with `responses`, and the stubs the tests share.

The sandbox's are where `sandbox_settings` points Bindery; the test environment's are ExpressPlay's own
(EXPRESSPLAY_ENV=test), which the client's tests call directly.
"""

from urllib.parse import parse_qs

import responses

SANDBOX_URL = "http://127.0.0.1:8000/sandbox"
TOKEN_URL = f"{SANDBOX_URL}/hms/pr/token"
RECORDS_URL = f"{SANDBOX_URL}/cmiapi/getrecord/"

PR_URL = "https://pr-gen.test.expressplay.com/hms/pr/token"
WV_URL = "https://wv-gen.test.expressplay.com/hms/wv/token"
FP_URL = "https://fp-gen.test.expressplay.com/hms/fp/token"
TEST_RECORDS_URL = "https://api.test.expressplay.com/cmiapi/getrecord/"

DEVICE = "a1" * 16  # the customer's device, bound by binding's `cookie` fixture
OTHER_DEVICE = "b2" * 16


def stub_expressplay(device_id=DEVICE, token="TOKEN123456789012345678"):
    """Stub the sandbox's records (one licence, for `device_id`) and its PlayReady token API."""
    responses.get(RECORDS_URL, json={"event_id": 1, "device_id": device_id, "result": 0})
    responses.post(TOKEN_URL, json={"licenseAcquisitionUrl": f"{SANDBOX_URL}/pr", "token": token})


def token_form(url=TOKEN_URL):
    """Return the form of the first token request made to `url`, one value per field."""
    call = next(c for c in responses.calls if c.request.url == url)
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}
