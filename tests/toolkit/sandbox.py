"""The sandbox as its tests call it: a valid token request, a sealed token, a licence request and its redemption."""

import json
import time

import requests
from django.conf import settings

from sandbox.tokens import TokenClaims, b64url, seal

KID = "0123456789abcdef0123456789abcdef"
KEY = "00112233445566778899aabbccddeeff"
RIGHTS = "/sandbox/playready/RightsManager.asmx"


def valid(drm: str, **changes) -> dict:
    """Return a complete, valid token request for `drm`, with `changes` applied (None removes a parameter)."""
    params = {
        "customerAuthenticator": settings.SANDBOX_CUSTOMER_AUTHENTICATOR,
        "errorFormat": "json",
        "kid": KID,
        "contentKey": KEY,
    }
    if drm == "pr":
        params.update(
            rightsType="BuyToOwn",
            analogVideoOPL="100",
            compressedDigitalAudioOPL="100",
            compressedDigitalVideoOPL="500",
            uncompressedDigitalAudioOPL="100",
            uncompressedDigitalVideoOPL="100",
        )
    elif drm == "wv":
        params.update(securityLevel="1", hdcpOutputControl="0")
    elif drm == "fp":
        params.update(iv="ffeeddccbbaa99887766554433221100")
    for name, value in changes.items():
        name = name.replace("__", ".")
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def make_token(**changes) -> str:
    now = int(time.time())
    claims = {"drm": "pr", "kid": KID, "key": KEY, "expires": now + 3600, "issued": now, "cookie": "ck1"}
    claims.update(changes)
    return seal(TokenClaims(**claims), settings.SANDBOX_TOKEN_SECRET)


def licence_request(kid_hex: str = KID) -> bytes:
    return json.dumps({"kids": [b64url(bytes.fromhex(kid_hex))], "type": "temporary"}).encode()


def redeem(client, token, device, body=None, path=RIGHTS, headers=None):
    body = licence_request() if body is None else body
    identity = device.headers(body) if device else {}
    identity.update(headers or {})
    return client.post(
        f"{path}?ExpressPlayToken={token}",
        data=body,
        content_type="application/json",
        headers=identity,
    )


def play(licence_url: str, kid: str, device) -> requests.Response:
    """Send the licence request a browser's ClearKey CDM would send, signed by `device`."""
    body = json.dumps({"kids": [b64url(bytes.fromhex(kid))], "type": "temporary"}).encode()
    headers = {"Content-Type": "application/json", **device.headers(body)}
    return requests.post(licence_url, data=body, headers=headers, timeout=10)
