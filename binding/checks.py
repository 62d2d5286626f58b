"""System checks that stop a misconfigured ExpressPlay setup before it reaches a customer."""

import hmac

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .expressplay import DEVICE_ID_PARAM, Environment


@register(Tags.security, deploy=False)
def check_expressplay_settings(app_configs, **kwargs):
    errors = []
    try:
        environment = Environment(settings.EXPRESSPLAY_ENV)
    except ValueError:
        return [
            Error(
                f"EXPRESSPLAY_ENV is {settings.EXPRESSPLAY_ENV!r}.",
                hint="Use sandbox, test or production.",
                id="binding.E001",
            )
        ]
    if environment is not Environment.SANDBOX and (
        not settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR
        or hmac.compare_digest(
            settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR.encode(),
            settings.EXPRESSPLAY_DEV_AUTHENTICATOR.encode(),
        )
    ):
        errors.append(
            Error(
                f"EXPRESSPLAY_ENV is {environment.value} but EXPRESSPLAY_CUSTOMER_AUTHENTICATOR is not set.",
                hint="Copy the customer authenticator of that environment from the ExpressPlay dashboard.",
                id="binding.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_data_keys(app_configs, **kwargs):
    """In deployment, secrets at rest need keys of their own, not ones derived from SECRET_KEY."""
    if settings.BINDERY_DATA_KEYS:
        return []
    return [
        Warning(
            "BINDERY_DATA_KEYS is not set: content keys and tokens are encrypted at rest with a key derived "
            "from SECRET_KEY, so rotating SECRET_KEY would make them unreadable.",
            hint='Set BINDERY_DATA_KEYS to a Fernet key: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"',
            id="binding.W001",
        )
    ]


@register(Tags.compatibility)
def check_device_lookup(app_configs, **kwargs):
    if settings.BINDING_DEVICE_LOOKUP in ("every_purchase", "registration"):
        return []
    return [
        Error(
            f"BINDING_DEVICE_LOOKUP is {settings.BINDING_DEVICE_LOOKUP!r}.",
            hint="Use every_purchase (ask ExpressPlay's records at every purchase) or registration.",
            id="binding.E003",
        )
    ]


@register(Tags.compatibility)
def check_device_id_param(app_configs, **kwargs):
    """Warn when the device restriction is sent under another name than the device-binding document's."""
    if settings.EXPRESSPLAY_DEVICE_ID_PARAM == DEVICE_ID_PARAM:
        return []
    return [
        Warning(
            f"EXPRESSPLAY_DEVICE_ID_PARAM is {settings.EXPRESSPLAY_DEVICE_ID_PARAM!r}, not {DEVICE_ID_PARAM!r}: "
            "ExpressPlay's parameter names are case-sensitive, and if it ignores a name it does not know, "
            "every token is issued without a device restriction and plays on any device.",
            hint=f"The device-binding document names it {DEVICE_ID_PARAM!r} (research/expressplay-api.md, "
            '"Corrections and additions"). Unset EXPRESSPLAY_DEVICE_ID_PARAM, or, once ExpressPlay has '
            "confirmed the other spelling, silence binding.W002 with SILENCED_SYSTEM_CHECKS.",
            id="binding.W002",
        )
    ]
