"""System checks that stop a misconfigured ExpressPlay setup before it reaches a customer."""

import hmac
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .expressplay import DEVICE_ID_PARAM, Environment


@register(Tags.security, deploy=False)
def check_expressplay_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
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
def check_data_keys(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
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
def check_device_lookup(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
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
def check_device_id_param(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
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


_DRM_NAMES = {"pr": "PlayReady", "wv": "Widevine", "fp": "FairPlay"}
_MODES = ("expressplay", "bindery", "refuse")


@register(Tags.compatibility)
def check_drms(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """The DRMs offered, their binding modes, and what each DRM can and cannot say of the shop's policy."""
    problems: list[CheckMessage] = []
    drms = list(settings.EXPRESSPLAY_DRMS)
    unknown = [drm for drm in drms if drm not in _DRM_NAMES]
    if not drms or unknown:
        problems.append(
            Error(
                f"EXPRESSPLAY_DRMS is {','.join(drms) or 'empty'}.",
                hint="List one or more of pr (PlayReady), wv (Widevine), fp (FairPlay), in the order browsers try them.",
                id="binding.E010",
            )
        )
    for name, allowed in (
        ("EXPRESSPLAY_BINDING", _MODES),
        ("EXPRESSPLAY_BINDING_FALLBACK", ("bindery", "refuse")),
    ):
        for drm, mode in getattr(settings, name).items():
            if drm not in _DRM_NAMES or mode not in allowed:
                problems.append(
                    Error(
                        f"{name} gives {drm!r} the mode {mode!r}.",
                        hint=f"Use drm=mode pairs with drm one of pr, wv, fp and mode one of {', '.join(allowed)}.",
                        id="binding.E011",
                    )
                )
    live = settings.EXPRESSPLAY_ENV != "sandbox"
    if live and "fp" in drms and not settings.EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL:
        problems.append(
            Error(
                "FairPlay is offered but EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL is not set: Safari cannot ask for a "
                "licence without the application's FairPlay certificate.",
                hint="Set it to the URL of the FairPlay Streaming certificate registered with ExpressPlay, or "
                "leave fp out of EXPRESSPLAY_DRMS.",
                id="binding.E012",
            )
        )
    for drm in drms:
        # The sandbox binds as its per-DRM switch says; what a live account's licences can express is the question.
        if not live or drm not in ("wv", "fp"):
            continue
        if settings.EXPRESSPLAY_BINDING.get(drm, "expressplay") != "expressplay":
            continue
        name, param = _DRM_NAMES[drm], {"wv": "licenseDuration", "fp": "rentalDuration"}[drm]
        code = {"wv": -7002, "fp": -6008}[drm]
        fallback = settings.EXPRESSPLAY_BINDING_FALLBACK.get(drm, "bindery")
        problems.append(
            Warning(
                f"{name} titles are to be bound by ExpressPlay, and {name} knows a rental only as {param}, the "
                "seconds one licence plays. With a token that may be redeemed until it expires "
                f"(ENTITLEMENT_TOKEN_LIFETIME, {settings.ENTITLEMENT_TOKEN_LIFETIME} s), a licence taken late "
                "may play up to that long past the rental's end, and a rental's viewing time starts again with "
                f"each licence. ExpressPlay's own error tables refuse device binding on {name} ({code}); when "
                f"it does, {name} moves to {fallback}.",
                hint=f"EXPRESSPLAY_BINDING={drm}=bindery issues a token at each Play with exactly what is left "
                "of the rental (decision 0013). Silence binding.W010 if ExpressPlay binds your account's "
                f"{name} devices and these limits are acceptable.",
                id="binding.W010",
            )
        )
    return problems
