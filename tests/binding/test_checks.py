"""Settings guard rails and secret redaction in logs."""

import logging

from django.core.checks import WARNING, Warning, run_checks

from binding import redaction as binding_logging
from binding.expressplay import client_from_settings


def test_client_from_settings_points_at_the_sandbox_by_default(settings):
    client = client_from_settings()
    assert client.endpoints.getrecord == f"{settings.EXPRESSPLAY_SANDBOX_URL}/cmiapi/getrecord/"
    assert client.device_id_param == "deviceid"
    assert client.timeout == settings.EXPRESSPLAY_TIMEOUT


def test_client_from_settings_uses_expressplay_hosts_in_production(settings):
    settings.EXPRESSPLAY_ENV = "production"
    assert (
        client_from_settings().endpoints.playready_token
        == "https://pr-gen.service.expressplay.com/hms/pr/token"
    )


def test_production_with_the_development_authenticator_fails_the_system_check(settings):
    settings.EXPRESSPLAY_ENV = "production"
    ids = [error.id for error in run_checks()]
    assert "binding.E002" in ids


def test_unknown_environment_fails_the_system_check(settings):
    settings.EXPRESSPLAY_ENV = "staging"
    assert "binding.E001" in [error.id for error in run_checks()]


def test_default_settings_pass_the_system_checks():
    assert [error.id for error in run_checks() if error.id.startswith("binding.")] == []


def test_a_device_id_param_other_than_deviceid_is_a_warning_that_says_why(settings):
    settings.EXPRESSPLAY_DEVICE_ID_PARAM = "deviceId"
    [warning] = [message for message in run_checks() if message.id == "binding.W002"]
    assert isinstance(warning, Warning) and warning.level == WARNING
    assert "'deviceId'" in warning.msg and "case-sensitive" in warning.msg
    assert "plays on any device" in warning.msg
    assert "research/expressplay-api.md" in warning.hint


def test_the_device_id_param_warning_does_not_stop_the_server(settings):
    settings.EXPRESSPLAY_DEVICE_ID_PARAM = "deviceId"
    binding_messages = [message for message in run_checks() if message.id.startswith("binding.")]
    assert [message.id for message in binding_messages] == ["binding.W002"]
    assert not binding_messages[0].is_serious()


def test_log_filter_redacts_the_authenticator_plain_and_url_encoded(settings):
    secret = settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR
    binding_logging._secrets.cache_clear()
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "GET /?customerAuthenticator=%s and %s",
        (secret.replace(",", "%2C"), secret),
        None,
    )
    assert binding_logging.RedactSecretsFilter().filter(record)
    assert record.getMessage() == "GET /?customerAuthenticator=*** and ***"


def test_an_unknown_drm_or_binding_mode_fails_the_system_check(settings):
    settings.EXPRESSPLAY_DRMS = ["pr", "marlin"]
    settings.EXPRESSPLAY_BINDING = {"wv": "sometimes"}
    settings.EXPRESSPLAY_BINDING_FALLBACK = {
        "fp": "expressplay"
    }  # a fallback from ExpressPlay cannot be ExpressPlay
    ids = [message.id for message in run_checks() if message.id.startswith("binding.")]
    assert ids.count("binding.E010") == 1 and ids.count("binding.E011") == 2


def test_live_fairplay_without_its_certificate_fails_the_system_check(settings):
    settings.EXPRESSPLAY_ENV = "test"
    settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR = "123456,abcdefabcdefabcdefabcdefabcdefab"
    settings.EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL = ""
    assert "binding.E012" in [message.id for message in run_checks()]
    settings.EXPRESSPLAY_DRMS = ["pr", "wv"]
    assert "binding.E012" not in [message.id for message in run_checks()]


def test_a_rental_widevine_cannot_express_exactly_is_a_warning_until_bindery_binds_it(settings):
    settings.EXPRESSPLAY_ENV = "test"
    settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR = "123456,abcdefabcdefabcdefabcdefabcdefab"
    settings.EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL = "https://shop.example.com/fp.cer"
    settings.EXPRESSPLAY_BINDING = {"pr": "expressplay", "wv": "expressplay", "fp": "bindery"}
    warnings = [message for message in run_checks() if message.id == "binding.W010"]
    assert len(warnings) == 1
    assert "Widevine" in warnings[0].msg and "licenseDuration" in warnings[0].msg
    assert "past the rental's end" in warnings[0].msg and "-7002" in warnings[0].msg
    settings.EXPRESSPLAY_BINDING = {"wv": "bindery", "fp": "bindery"}
    assert "binding.W010" not in [message.id for message in run_checks()]
