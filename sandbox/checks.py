"""System checks of the sandbox's own settings."""

from django.conf import settings
from django.core.checks import Error, register

from .faults import Faults


@register()
def check_faults_setting(app_configs, **kwargs):
    try:
        Faults.parse(settings.SANDBOX_FAULTS)
    except ValueError as exc:
        return [
            Error(
                f"SANDBOX_FAULTS cannot be read: {exc}",
                hint='Write it as "name=value,..." with names from sandbox/faults.py, e.g. "latency_ms=100,drop=0.05".',
                id="sandbox.E001",
            )
        ]
    return []


@register()
def check_device_binding_setting(app_configs, **kwargs):
    from .models import DRMS

    unknown = sorted(set(settings.SANDBOX_DEVICE_BINDING_DRMS) - {code for code, _name in DRMS})
    if unknown:
        return [
            Error(
                f"SANDBOX_DEVICE_BINDING_DRMS names no sandbox DRM: {', '.join(unknown)}",
                hint="Use the token endpoints' codes: pr, wv, fp (e.g. SANDBOX_DEVICE_BINDING_DRMS=pr,wv).",
                id="sandbox.E002",
            )
        ]
    return []
