"""What the ExpressPlay client raises.

    ExpressPlayError
    ├── ExpressPlayRequestInvalid   refused before sending: a parameter ExpressPlay would reject
    ├── ExpressPlayTransportError   no usable answer: connection refused, DNS, TLS, HTTP 5xx (retryable)
    │   └── ExpressPlayTimeout      no answer within the timeout (retryable)
    ├── ExpressPlayRejected         ExpressPlay answered 4xx with an error code (final for this request)
    └── ExpressPlayMalformedResponse  a 2xx answer the client cannot read

No message or attribute ever holds the customerAuthenticator or a content key.
"""

from .errors import ErrorCode, explain


class ExpressPlayError(Exception):
    """Base of every ExpressPlay client failure."""

    retryable = False


class ExpressPlayRequestInvalid(ExpressPlayError, ValueError):
    """A request parameter is invalid; nothing was sent."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class ExpressPlayTransportError(ExpressPlayError):
    """ExpressPlay could not be reached or answered with a server error; the same request may succeed later."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, sent: bool = True):
        self.status = status
        # False when the request never left (no connection could be made): ExpressPlay did nothing.
        self.sent = sent
        super().__init__(message)


class ExpressPlayTimeout(ExpressPlayTransportError):
    """ExpressPlay did not answer within the configured timeout."""


class ExpressPlayRejected(ExpressPlayError):
    """ExpressPlay refused the request with an error code (HTTP 4xx)."""

    def __init__(self, *, code: int | None, status: int, server_message: str = ""):
        self.code = code
        self.status = status
        self.server_message = server_message
        self.error: ErrorCode = explain(code)
        super().__init__(f"ExpressPlay error {code} (HTTP {status}): {self.error.meaning}")

    @property
    def meaning(self) -> str:
        return str(self.error.meaning)

    @property
    def advice(self) -> str:
        return str(self.error.advice)


class ExpressPlayMalformedResponse(ExpressPlayError):
    """ExpressPlay answered success with a body the client cannot parse."""
