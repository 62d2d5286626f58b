"""The sandbox's switches as a piece of page, for other pages that show them (the presenter's): the sandbox
renders its own state, so no app has to read or import it."""

from django import template

register = template.Library()


@register.inclusion_tag("sandbox/device_binding_switch.html", takes_context=True)
def sandbox_device_binding(context, next_url: str = ""):
    """The switch "ExpressPlay binds devices on: PlayReady / Widevine / FairPlay", posting to the sandbox's
    faults page and coming back to `next_url`."""
    from ..views import device_binding_context

    return {
        **device_binding_context(context["request"]),
        "next": next_url,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("sandbox/present_as_switch.html", takes_context=True)
def sandbox_present_as(context, next_url: str = ""):
    """The switch "this browser registers as: its own DRM / PlayReady (Edge) / Widevine (Chrome) / FairPlay
    (Safari)", posting to the sandbox and coming back to `next_url`."""
    from ..views import present_as_context

    return {
        **present_as_context(context["request"]),
        "next": next_url,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("sandbox/faults_now.html")
def sandbox_faults_now():
    """The line "Faults on: 300 ms per call, …" (or "No faults"), on every render, with the address a page
    polls to keep it true (`sandbox:faults-now`)."""
    from ..views import faults_now_context

    return faults_now_context()
