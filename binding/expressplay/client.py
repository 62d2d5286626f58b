"""HTTP client for ExpressPlay's token and record-retrieval APIs. HTTP only: no ORM, no settings.

Token requests are form POSTs, so the customerAuthenticator travels in the body and never in a URL that a
proxy or an exception could echo. getrecord is documented as a GET; its failures are reported with the
authenticator redacted.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import requests
from urllib3.exceptions import NewConnectionError

from .exceptions import (
    ExpressPlayMalformedResponse,
    ExpressPlayRejected,
    ExpressPlayRequestInvalid,
    ExpressPlayTimeout,
    ExpressPlayTransportError,
)
from .types import (
    BuyToOwn,
    ContentKey,
    Drm,
    Endpoints,
    LicenceAnswer,
    LicenseToken,
    PlayReadyOutputProtection,
    Policy,
    Record,
    Rental,
)

logger = logging.getLogger(__name__)

MAX_TOKEN_LIFETIME = timedelta(days=30)
# A licence (Widevine, FairPlay CKC, PlayReady, ClearKey JSON) is a few kilobytes; more is not a licence.
LICENCE_ANSWER_MAX_BYTES = 256 * 1024
MAX_COOKIE_LENGTH = 32
# The device-binding document names "the `deviceid` token restriction parameter" and ExpressPlay's names are
# case-sensitive: a misspelt name may be ignored, and the token then plays on any device.
DEVICE_ID_PARAM = "deviceid"
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_ERROR_CODE_IN_TEXT = re.compile(r"(-[2-7]\d{3})\b")

Expiry = datetime | timedelta


def _check_hex32(field: str, value: str) -> str:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise ExpressPlayRequestInvalid(field, "must be 32 hexadecimal characters")
    return value.lower()


def _check_kid(value: str) -> str:
    # A kid is 32 hex, or ^name (at most 64 characters) for a key kept in ExpressPlay Key Storage.
    if isinstance(value, str) and value.startswith("^") and 1 < len(value) <= 65:
        return value
    return _check_hex32("kid", value)


def _check_cookie(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_COOKIE_LENGTH:
        raise ExpressPlayRequestInvalid("cookie", f"must be 1 to {MAX_COOKIE_LENGTH} characters")
    if not value.isprintable() or value != value.strip():
        raise ExpressPlayRequestInvalid("cookie", "must be printable, without surrounding spaces")
    return value


def format_time(value: Expiry, *, now: datetime | None = None, field: str) -> str:
    """Return ExpressPlay's form of a time: RFC 3339 UTC ending in Z, or +seconds for a timedelta."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if seconds <= 0:
            raise ExpressPlayRequestInvalid(field, "must be in the future")
        return f"+{seconds}"
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ExpressPlayRequestInvalid(field, "must be a timezone-aware datetime or a timedelta")
    if value <= (now or datetime.now(UTC)):
        raise ExpressPlayRequestInvalid(field, "must be in the future")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def licence_seconds(policy: Policy, *, now: datetime | None = None) -> int | None:
    """Return how many seconds one licence under `policy` may play, for DRMs that know only a duration
    (Widevine's licenseDuration, FairPlay's rentalDuration); None for no limit (BuyToOwn)."""
    if not isinstance(policy, Rental):
        return None
    left = int((policy.period_end - (now or datetime.now(UTC))).total_seconds())
    if left <= 0:
        raise ExpressPlayRequestInvalid("rental", "the rental period is over")
    if policy.play_duration is not None:
        if int(policy.play_duration) <= 0:
            raise ExpressPlayRequestInvalid("play duration", "must be a positive number of seconds")
        return min(int(policy.play_duration), left)
    return left


def https_licence_url(url: str) -> str:
    """Return `url` with an http: scheme as https:, dropping an explicit :80 (`http://host:80/x` is
    `https://host/x`); an https: URL is returned as it is."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return url
    netloc = parts.netloc[: -len(":80")] if parts.netloc.endswith(":80") else parts.netloc
    return urlunsplit(("https", netloc, parts.path, parts.query, parts.fragment))


class ExpressPlayClient:
    """Talk to one ExpressPlay environment (or the sandbox, which speaks the same API).

    `device_id_param` is the name under which a device restriction is sent: DEVICE_ID_PARAM, as the
    device-binding document spells it, unless ExpressPlay is known to read another.
    """

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        customer_authenticator: str,
        timeout: float = 10.0,
        device_id_param: str = DEVICE_ID_PARAM,
        cookie_header: str = "",
        https_licence_urls: bool = False,
        widevine_security_level: int = 1,
        widevine_hdcp: int = 0,
        session: requests.Session | None = None,
    ):
        if not customer_authenticator:
            raise ExpressPlayRequestInvalid("customerAuthenticator", "is not configured")
        self.endpoints = endpoints
        self._authenticator = customer_authenticator
        self.timeout = timeout
        self.device_id_param = device_id_param
        # ExpressPlay says the cookie may travel "as headers" without naming one: empty sends it as a parameter.
        self.cookie_header = cookie_header
        # ExpressPlay's documented answers include `http://fp.service.expressplay.com:80/…` licence URLs, which an
        # HTTPS page may not call (mixed content, and our CSP). Live clients use them as https:, as the HbbTV
        # reference client does; the sandbox (plain http on a developer's machine) keeps what it answers.
        self.https_licence_urls = https_licence_urls
        self.widevine_security_level = widevine_security_level
        self.widevine_hdcp = widevine_hdcp
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "Bindery ExpressPlay client")

    def __repr__(self) -> str:
        return f"ExpressPlayClient(getrecord={self.endpoints.getrecord!r}, timeout={self.timeout})"

    # --- token requests ----------------------------------------------------------------------------------

    def token(
        self,
        drm: Drm | str,
        *,
        key: ContentKey,
        policy: Policy,
        iv: str = "",
        cookie: str | None = None,
        device_id: str | None = None,
        expires: Expiry | None = None,
        now: datetime | None = None,
    ) -> LicenseToken:
        """Return a token for `key` from `drm`'s token API, with `policy` in that DRM's own terms.

        PlayReady: rightsType and rental.* (rental.periodEndTime, rental.playDuration). Widevine: licenseDuration,
        FairPlay: rentalDuration (with the title's `iv`), each the seconds a licence may play: the play window
        when it ends before the rental does, else the time left until the rental's end, so that no licence
        plays past either. A rental that has nothing left is refused here, before anything is sent.
        """
        drm = Drm(drm)
        if drm is Drm.PLAYREADY:
            return self.playready_token(
                key=key, policy=policy, cookie=cookie, device_id=device_id, expires=expires
            )
        duration = licence_seconds(policy, now=now)
        if drm is Drm.WIDEVINE:
            return self.widevine_token(
                key=key,
                security_level=self.widevine_security_level,
                hdcp_output_control=self.widevine_hdcp,
                license_duration=duration,
                cookie=cookie,
                device_id=device_id,
                expires=expires,
            )
        return self.fairplay_token(
            key=key, iv=iv, rental_duration=duration, cookie=cookie, device_id=device_id, expires=expires
        )

    def playready_token(
        self,
        *,
        key: ContentKey,
        policy: Policy,
        cookie: str | None = None,
        device_id: str | None = None,
        expires: Expiry | None = None,
        output_protection: PlayReadyOutputProtection | None = None,
    ) -> LicenseToken:
        """Return a PlayReady token for `key` under `policy`, optionally bound to `device_id`.

        Raises ExpressPlayRequestInvalid before sending when a parameter is malformed, ExpressPlayRejected
        with the ExpressPlay code when ExpressPlay refuses, ExpressPlayTransportError (retryable) when it
        cannot be reached.
        """
        params = self._key_params(key)
        params.update(self._policy_params(policy))
        params.update((output_protection or PlayReadyOutputProtection()).as_params())
        params.update(self._restriction_params(cookie=cookie, expires=expires))
        if device_id is not None:
            params[self.device_id_param] = _check_hex32(self.device_id_param, device_id)
        body = self._post(self.endpoints.playready_token, params)
        try:
            data = json.loads(body)
            la_url, token = data["licenseAcquisitionUrl"], data["token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ExpressPlayMalformedResponse(
                "PlayReady token response is not JSON with licenseAcquisitionUrl and token"
            ) from exc
        if not isinstance(la_url, str) or not la_url.startswith(("http://", "https://")):
            raise ExpressPlayMalformedResponse("PlayReady token response has no licence URL")
        separator = "&" if "?" in la_url else "?"
        url = self._licence_url(f"{la_url}{separator}ExpressPlayToken={quote(token)}")
        return LicenseToken(Drm.PLAYREADY, url, token)

    def widevine_token(
        self,
        *,
        key: ContentKey,
        security_level: int = 1,
        hdcp_output_control: int = 0,
        license_duration: int | None = None,
        cookie: str | None = None,
        device_id: str | None = None,
        expires: Expiry | None = None,
    ) -> LicenseToken:
        """Return a Widevine token. ExpressPlay documents -7002 for a device restriction on Widevine."""
        params = self._key_params(key)
        params["securityLevel"] = security_level
        params["hdcpOutputControl"] = hdcp_output_control
        if license_duration is not None:
            params["licenseDuration"] = int(license_duration)
        params.update(self._restriction_params(cookie=cookie, expires=expires))
        if device_id is not None:
            params[self.device_id_param] = _check_hex32(self.device_id_param, device_id)
        return self._uri_list_token(Drm.WIDEVINE, self._post(self.endpoints.widevine_token, params))

    def fairplay_token(
        self,
        *,
        key: ContentKey,
        iv: str,
        rental_duration: int | None = None,
        cookie: str | None = None,
        device_id: str | None = None,
        expires: Expiry | None = None,
    ) -> LicenseToken:
        """Return a FairPlay token. ExpressPlay documents -6008 for a device restriction on FairPlay."""
        params = self._key_params(key)
        params["iv"] = _check_hex32("iv", iv)
        if rental_duration is not None:
            params["rentalDuration"] = int(rental_duration)
        params.update(self._restriction_params(cookie=cookie, expires=expires))
        if device_id is not None:
            params[self.device_id_param] = _check_hex32(self.device_id_param, device_id)
        return self._uri_list_token(Drm.FAIRPLAY, self._post(self.endpoints.fairplay_token, params))

    # --- record retrieval ------------------------------------------------------------------------------

    def get_records(
        self,
        *,
        cookie: str | None = None,
        event_id: int | None = None,
        start: int | None = None,
        length: int | None = None,
    ) -> list[Record]:
        """Return transaction-log records, newest first, by at most one selector.

        No selector: the most recent events. `cookie`: the events for that correlation value (one or many,
        depending on the ExpressPlay revision). `event_id`: one event. `start` and `length`: a window over
        all records (page with (0, 200), (200, 200), ...).
        """
        selectors = [cookie is not None, event_id is not None, start is not None or length is not None]
        if sum(selectors) > 1:
            raise ExpressPlayRequestInvalid("selector", "use one of cookie, event_id, or start and length")
        params: dict[str, Any] = {}
        if cookie is not None:
            params["cookie"] = _check_cookie(cookie)
        elif event_id is not None:
            params["id"] = int(event_id)
        elif start is not None or length is not None:
            if start is None or length is None or start < 0 or length <= 0:
                raise ExpressPlayRequestInvalid("start/length", "give both, start >= 0 and length > 0")
            params.update(start=int(start), length=int(length))
        body = self._get(self.endpoints.getrecord, params)
        return parse_records(body)

    def device_id_for_cookie(self, cookie: str) -> str | None:
        """Return the device_id ExpressPlay logged for `cookie`, or None while there is none.

        The newest record with a device id wins, among granted redemptions (or records that carry no result):
        a refused one is another device trying a token bound to this cookie, not this browser's device.
        """
        for record in self.get_records(cookie=cookie):
            if not record.device_id or (record.cookie and record.cookie != cookie):
                continue
            if record.result_code in (None, 0):
                return record.device_id
        return None

    # --- plumbing ----------------------------------------------------------------------------------------

    def _key_params(self, key: ContentKey) -> dict[str, Any]:
        if not isinstance(key, ContentKey):
            raise ExpressPlayRequestInvalid("key", "must be a ContentKey")
        return {"kid": _check_kid(key.kid), "contentKey": _check_hex32("contentKey", key.key)}

    def _policy_params(self, policy: Policy) -> dict[str, Any]:
        if isinstance(policy, BuyToOwn):
            return {"rightsType": "BuyToOwn"}
        if isinstance(policy, Rental):
            params: dict[str, Any] = {
                "rightsType": "Rental",
                "rental.periodEndTime": format_time(policy.period_end, field="rental.periodEndTime"),
                # ExpressPlay: rental licences must be persistent.
                "generalFlags": "00000001",
            }
            if policy.play_duration is not None:
                if int(policy.play_duration) <= 0:
                    raise ExpressPlayRequestInvalid(
                        "rental.playDuration", "must be a positive number of seconds"
                    )
                params["rental.playDuration"] = int(policy.play_duration)
            return params
        raise ExpressPlayRequestInvalid("policy", "must be BuyToOwn or Rental")

    def _restriction_params(self, *, cookie: str | None, expires: Expiry | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if cookie is not None:
            params["cookie"] = _check_cookie(cookie)
        if expires is not None:
            params["expirationTime"] = format_time(expires, field="expirationTime")
            lifetime = expires if isinstance(expires, timedelta) else expires - datetime.now(UTC)
            if lifetime > MAX_TOKEN_LIFETIME:
                raise ExpressPlayRequestInvalid("expirationTime", "at most 30 days")
        return params

    def _uri_list_token(self, drm: Drm, body: str) -> LicenseToken:
        url = next((ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("#")), "")
        tokens = parse_qs(urlsplit(url).query).get("ExpressPlayToken")
        if not url.startswith(("http://", "https://")) or not tokens:
            raise ExpressPlayMalformedResponse(
                f"{drm.value} token response is not a licence URL with a token"
            )
        return LicenseToken(drm, self._licence_url(url), tokens[0])

    def _licence_url(self, url: str) -> str:
        if self.https_licence_urls:
            return https_licence_url(url)
        return url

    def _post(self, url: str, params: Mapping[str, Any]) -> str:
        data = {"customerAuthenticator": self._authenticator, "errorFormat": "json", **params}
        headers = {}
        if self.cookie_header and "cookie" in data:
            headers[self.cookie_header] = data.pop("cookie")
        return self._send("POST", url, data=data, headers=headers)

    def _get(self, url: str, params: Mapping[str, Any]) -> str:
        query = {"customerAuthenticator": self._authenticator, "errorFormat": "json", **params}
        return self._send("GET", url, params=query)

    def _send(self, method: str, url: str, **kwargs: Any) -> str:
        path = urlsplit(url).path
        with self._reaching(method, path, say=lambda exc: f": {self._redact(str(exc))}"):
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        logger.info("ExpressPlay %s %s -> HTTP %s", method, path, response.status_code)
        if response.status_code >= 500:
            raise ExpressPlayTransportError(
                f"{method} {path}: HTTP {response.status_code}", status=response.status_code
            )
        if response.status_code >= 400:
            code, message = parse_error(response.text)
            if code is None:
                # A 4xx without an ExpressPlay code is not ExpressPlay refusing (a proxy's page, a 429, a
                # load balancer in front of it): it is retried like an outage.
                raise ExpressPlayTransportError(
                    f"{method} {path}: HTTP {response.status_code} without an ExpressPlay code",
                    status=response.status_code,
                )
            logger.warning(
                "ExpressPlay %s %s refused: code %s, %s", method, path, code, self._redact(message)
            )
            raise ExpressPlayRejected(
                code=code, status=response.status_code, server_message=self._redact(message)
            )
        if _is_error_object(response.text):
            code, message = parse_error(response.text)
            raise ExpressPlayRejected(
                code=code, status=response.status_code, server_message=self._redact(message)
            )
        return response.text

    # --- licence requests (Bindery's licence proxy, decision 0013) ------------------------------------------

    def licence_request(
        self,
        url: str,
        body: bytes,
        *,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        max_bytes: int = LICENCE_ANSWER_MAX_BYTES,
    ) -> LicenceAnswer:
        """Send a player's licence request (Widevine challenge, FairPlay SPC, PlayReady or ClearKey request) to
        the licence server at `url` (a token's licence URL) and return its answer as it is, errors included:
        the player reads ExpressPlay's error JSON itself.

        No redirect is followed (a 3xx is answered as it is); an answer over `max_bytes` is not read to the
        end. Raises ExpressPlayTransportError (ExpressPlayTimeout) when the server cannot be reached in time.
        """
        path = urlsplit(url).path  # the query holds the token: never in a message or a log line
        send = {"Content-Type": content_type, **(headers or {})}
        # The exception's own text is left out: it may repeat the URL, whose query is the token.
        with (
            self._reaching("POST", path, say=lambda exc: ""),
            self.session.post(
                url, data=body, headers=send, timeout=self.timeout, allow_redirects=False, stream=True
            ) as response,
        ):
            content = response.raw.read(max_bytes + 1, decode_content=True)
            status, answer_type = response.status_code, response.headers.get("Content-Type", "")
        logger.info("Licence request POST %s -> HTTP %s", path, status)
        if len(content) > max_bytes:
            raise ExpressPlayTransportError(
                f"POST {path}: answer longer than {max_bytes} bytes", status=status
            )
        if status >= 500:
            raise ExpressPlayTransportError(f"POST {path}: HTTP {status}", status=status)
        return LicenceAnswer(
            status=status, body=content, content_type=answer_type or "application/octet-stream"
        )

    @contextmanager
    def _reaching(self, method: str, path: str, *, say: Callable[[Exception], str]) -> Iterator[None]:
        """Turn requests' failures to reach a server into ExpressPlayTimeout / ExpressPlayTransportError naming
        `method` and `path` only, plus what `say` adds of the exception (redacted by the caller)."""
        try:
            yield
        except requests.ConnectTimeout:
            raise ExpressPlayTimeout(
                f"{method} {path}: no connection within {self.timeout:g} s", sent=False
            ) from None
        except requests.Timeout:
            # `from None`: requests' own message repeats the URL, query string (and authenticator) included.
            raise ExpressPlayTimeout(f"{method} {path}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise ExpressPlayTransportError(
                f"{method} {path}: {type(exc).__name__}{say(exc)}", sent=_was_sent(exc)
            ) from None

    def _redact(self, text: str) -> str:
        for secret in {self._authenticator, quote(self._authenticator, safe=""), quote(self._authenticator)}:
            text = text.replace(secret, "***")
        return text


def _was_sent(exc: requests.RequestException) -> bool:
    """Return False when no connection was ever made (the request cannot have been processed)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, NewConnectionError)


# --- lenient parsers (module level: no client state, easy to test) --------------------------------------------


_ERROR_KEYS = {"errorcode", "errormessage", "errortext", "error", "code", "message"}


def _is_error_object(body: str) -> bool:
    """Return True for a success-status body that is nothing but an error object."""
    if not body.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    keys = {_normalise(key) for key in data} if isinstance(data, dict) else set()
    return bool(keys) and keys <= _ERROR_KEYS and bool(keys & {"errorcode", "code"})


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def parse_error(body: str) -> tuple[int | None, str]:
    """Return (error code, message) from an ExpressPlay error body in JSON, HTML or plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = message = None
        for key, value in data.items():
            norm = _normalise(key)
            if code is None and "code" in norm:
                code = _parse_int(value)
            elif message is None and ("message" in norm or "text" in norm or norm == "error"):
                message = str(value)
        return code, message or ""
    text = re.sub(r"<[^>]+>", " ", body)
    match = _ERROR_CODE_IN_TEXT.search(text)
    return (int(match.group(1)) if match else None), " ".join(text.split())[:300]


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _parse_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _record_from(item: Mapping[str, Any]) -> Record:
    fields: dict[str, Any] = {}
    for key, value in item.items():
        norm = _normalise(key)
        if "device" in norm and "id" in norm:
            fields.setdefault("device_id", value)
        elif norm in ("eventid", "id"):
            fields.setdefault("event_id", value)
        elif "time" in norm or "date" in norm:
            fields.setdefault("time", value)
        elif "cookie" in norm:
            fields.setdefault("cookie", value)
        elif norm in ("drm", "drmtype", "type"):
            fields.setdefault("drm", value)
        elif norm in ("kid", "keyid", "contentid"):
            fields.setdefault("kid", value)
        elif norm in ("result", "resultcode", "errorcode", "code", "status"):
            fields.setdefault("result_code", value)
    return Record(
        event_id=_parse_int(fields.get("event_id")),
        time=_parse_time(fields.get("time")),
        cookie=str(fields.get("cookie") or ""),
        device_id=str(fields.get("device_id") or "").strip(),
        drm=str(fields.get("drm") or ""),
        kid=str(fields.get("kid") or ""),
        result_code=_parse_int(fields.get("result_code")),
        raw=dict(item),
    )


def _record_items(data: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(data, list):
        return [item for item in data if isinstance(item, Mapping)]
    if isinstance(data, Mapping):
        # A wrapper such as {"records": [...]} or {"events": [...]}, or a single record.
        lists = [value for value in data.values() if isinstance(value, list)]
        if lists:
            return _record_items(lists[0])
        return [data] if data else []
    return []


def parse_records(body: str) -> list[Record]:
    """Return the records in a getrecord body, newest first, whatever its shape.

    Handles an empty body, one record, a list, or a wrapper object around a list; unknown fields are kept
    in `Record.raw`. Newest means the latest time, then the highest event id, then the latest in the body.
    """
    if not body.strip():
        return []
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ExpressPlayMalformedResponse("getrecord response is not JSON") from exc
    records = [_record_from(item) for item in _record_items(data)]
    epoch = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(
        enumerate(records),
        key=lambda pair: (pair[1].time or epoch, pair[1].event_id or -1, pair[0]),
        reverse=True,
    )
    return [record for _position, record in ordered]
