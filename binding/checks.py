"""System checks that stop a misconfigured ExpressPlay setup before it reaches a customer."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .expressplay import Environment


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
        or settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR == settings.EXPRESSPLAY_DEV_AUTHENTICATOR
    ):
        errors.append(
            Error(
                f"EXPRESSPLAY_ENV is {environment.value} but EXPRESSPLAY_CUSTOMER_AUTHENTICATOR is not set.",
                hint="Copy the customer authenticator of that environment from the ExpressPlay dashboard.",
                id="binding.E002",
            )
        )
    return errors
