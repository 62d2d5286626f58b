"""The secrets filter on log records (messages, arguments, tracebacks), on every handler of every process, and
the error reports that echo a request."""

import io
import logging
import sys
from urllib.parse import quote, quote_plus

import pytest
import requests
from django.test import RequestFactory
from django.views.debug import get_exception_reporter_filter, technical_500_response
from urllib3.exceptions import HeaderParsingError

from bindery.celery import logging_setup
from binding import redaction as binding_logging
from binding.redaction import RedactSecretsFilter, SecretsReporterFilter, redact

AUTHENTICATOR = "900077,fedcba9876543210fedcba9876543210"
CONTENT_KEY = "00112233445566778899aabbccddeeff"
KID = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
DEVICE = "a1" * 16
TOKEN = "AQAAAxkXAAAAA-secret_token%2Bpart"
GETRECORD = "http://127.0.0.1:8000/sandbox/cmiapi/getrecord/"


@pytest.fixture(autouse=True)
def authenticator(settings):
    settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR = AUTHENTICATOR
    binding_logging._secrets.cache_clear()
    yield AUTHENTICATOR
    binding_logging._secrets.cache_clear()


@pytest.fixture
def log():
    """A logger whose one handler has the filter, as LOGGING's console has; return (logger, its output)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)
    logger.propagate = True


def assert_no_secret(text: str) -> None:
    secret_part = AUTHENTICATOR.split(",")[1]
    for secret in (AUTHENTICATOR, quote(AUTHENTICATOR, safe=""), secret_part, CONTENT_KEY, TOKEN):
        assert secret not in text


def test_urllib3_header_warning_keeps_the_url_and_traceback_without_the_authenticator(log):
    logger, out = log
    url = f"{GETRECORD}?customerAuthenticator={quote_plus(AUTHENTICATOR)}&errorFormat=json&cookie=abc"
    try:
        raise HeaderParsingError(defects=[], unparsed_data=f"echo {url}")
    except HeaderParsingError as hpe:
        # urllib3/connection.py's own call.
        logger.warning("Failed to parse headers (url=%s): %s", url, hpe, exc_info=True)
    text = out.getvalue()
    assert_no_secret(text)
    assert f"(url={GETRECORD}?customerAuthenticator=***&errorFormat=json&cookie=abc)" in text
    assert "Traceback (most recent call last)" in text and "HeaderParsingError" in text


def test_a_requests_exception_in_a_traceback_loses_its_secrets(log):
    logger, out = log
    url = f"/cmiapi/getrecord/?customerAuthenticator=someone-else%2Cabc&kid={KID}&contentKey={CONTENT_KEY}"
    try:
        raise requests.ConnectionError(
            f"HTTPConnectionPool(host='x', port=1): Max retries exceeded with url: {url}"
        )
    except requests.ConnectionError:
        logger.exception("ExpressPlay unreachable")
    text = out.getvalue()
    assert_no_secret(text)
    assert "someone-else" not in text  # an authenticator is redacted by its name, configured or not
    assert f"customerAuthenticator=***&kid={KID}&contentKey=***" in text


def test_content_keys_and_tokens_are_redacted_in_arguments_of_any_shape(log):
    logger, out = log
    form = f"customerAuthenticator={AUTHENTICATOR}&kid={KID}&contentKey={CONTENT_KEY}&deviceid={DEVICE}"
    logger.warning("refused: %s", f"Bad Request You sent: {form}")
    logger.warning("sent %(params)s", {"params": {"kid": KID, "contentKey": CONTENT_KEY}})
    logger.warning("JSON %s", f'{{"kid": "{KID}", "contentKey": "{CONTENT_KEY}"}}')
    logger.warning(
        "ClearKey %s", f'{{"keys": [{{"kty": "oct", "k": "ABEiM0RVZneImaq7zN3u_w", "kid": "{KID}"}}]}}'
    )
    logger.warning("page %s", f"<tr><td>contentKey</td><td>{CONTENT_KEY.upper()}</td></tr>")
    logger.warning("licence %s", f"https://pr.example/rightsmanager.asmx?ExpressPlayToken={TOKEN}&x=1")
    logger.warning("next %s", f"/login/?next=%2Fplay%3FcontentKey%3D{CONTENT_KEY}%26kid%3D{KID}")
    text = out.getvalue()
    assert_no_secret(text)
    assert CONTENT_KEY.upper() not in text and "ABEiM0RVZneImaq7zN3u_w" not in text
    assert text.count(KID) == 5 and DEVICE in text  # key ids and device ids are no secrets
    assert "ExpressPlayToken=***&x=1" in text


def test_the_configured_authenticator_is_redacted_wherever_it_shows(log):
    logger, out = log
    secret_part = AUTHENTICATOR.split(",")[1]
    for form in (AUTHENTICATOR, quote(AUTHENTICATOR, safe=""), quote_plus(AUTHENTICATOR), secret_part):
        logger.error("ExpressPlay says: unknown customer %s", form)
    assert_no_secret(out.getvalue())
    assert out.getvalue().count("unknown customer ***") == 4


def test_stack_info_is_redacted(log):
    logger, out = log
    logger.warning("where am I", stack_info=True)  # contentKey=00112233445566778899aabbccddeeff
    assert "Stack (most recent call last)" in out.getvalue() and "# contentKey=***" in out.getvalue()
    assert_no_secret(out.getvalue())


def test_a_message_without_secrets_is_left_as_logged():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "order %s for %s", (7, DEVICE), None)
    assert RedactSecretsFilter().filter(record)
    assert (record.msg, record.args) == ("order %s for %s", (7, DEVICE))
    assert redact(f"kid={KID} deviceid={DEVICE} cookie=abc") == f"kid={KID} deviceid={DEVICE} cookie=abc"


def every_handler():
    """Every handler that writes somewhere, but pytest's own."""
    loggers = [logging.root, *logging.root.manager.loggerDict.values()]
    handlers = [h for lg in loggers if isinstance(lg, logging.Logger) for h in lg.handlers]
    return [
        h
        for h in handlers
        if type(h).__module__ != "_pytest.logging" and not isinstance(h, logging.NullHandler)
    ]


def redacts(handler) -> bool:
    return any(isinstance(f, RedactSecretsFilter) for f in handler.filters)


def test_django_setup_put_the_filter_on_every_handler_of_the_web_django_s_own_included():
    # pytest-django ran django.setup(), as gunicorn's Django does: LOGGING_CONFIG's function.
    handlers = every_handler()
    assert {h.name for h in handlers} >= {"console", "django.server", "mail_admins"}
    assert all(redacts(h) for h in handlers)


def test_celery_configures_workers_and_beat_from_logging_at_log_level(settings):
    """bindery/celery.py's setup_logging receiver: what a worker and beat run instead of Celery's setup."""
    stray = logging.StreamHandler(io.StringIO())  # a handler some library attached on its own
    logging.getLogger("kombu.tests-stray").addHandler(stray)
    celery_logger = logging.getLogger("celery")
    try:
        logging_setup(loglevel=logging.ERROR)
        assert logging.root.level == logging.getLevelName(settings.LOG_LEVEL)
        assert celery_logger.level == logging.ERROR  # --loglevel: Celery's own messages
        assert [h.name for h in logging.root.handlers] == ["console"]
        assert all(redacts(h) for h in every_handler())
        assert redacts(stray)
    finally:
        logging.getLogger("kombu.tests-stray").removeHandler(stray)
        celery_logger.setLevel(logging.NOTSET)


# --- error reports ---------------------------------------------------------------------------------------------


def failing_view(request):
    params = {"customerAuthenticator": AUTHENTICATOR, "contentKey": CONTENT_KEY, "kid": KID}
    key = CONTENT_KEY
    url = f"{GETRECORD}?customerAuthenticator={quote_plus(AUTHENTICATOR)}"
    raise RuntimeError(f"cannot reach {url} with {params} ({key})")


@pytest.mark.parametrize("debug", [True, False])
def test_an_error_report_echoes_the_request_without_its_secrets(settings, debug):
    settings.DEBUG = debug
    request = RequestFactory().post(
        f"/sandbox/hms/pr/token?customerAuthenticator={quote_plus(AUTHENTICATOR)}&ExpressPlayToken={TOKEN}",
        data={
            "customerAuthenticator": AUTHENTICATOR,
            "contentKey": CONTENT_KEY,
            "kid": KID,
            "note": CONTENT_KEY,
        },
        HTTP_REFERER=f"http://127.0.0.1:8000/x?contentKey={CONTENT_KEY}",
    )
    assert isinstance(get_exception_reporter_filter(request), SecretsReporterFilter)
    try:
        failing_view(request)
    except RuntimeError:
        exc_info = sys.exc_info()
    html = technical_500_response(request, *exc_info).content.decode()
    request.META["HTTP_ACCEPT"] = "text/plain"
    text = technical_500_response(request, *exc_info).content.decode()
    for report in (html, text):
        assert "RuntimeError" in report and "failing_view" in report and KID in report
        assert_no_secret(report)
        assert quote_plus(AUTHENTICATOR) not in report and "fedcba9876543210" not in report
