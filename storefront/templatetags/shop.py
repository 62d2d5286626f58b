"""Template filters for the shop: prices, running times and time left, in the user's language."""

from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def money(amount, currency="EUR"):
    """Return e.g. "3.99 €" formatted for the active language."""
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency)
    return f"{formats.number_format(amount, 2, use_l10n=True)} {symbol}"


@register.filter
def duration(value):
    """Return a short running time: "6 s", "1 min 30 s", "2 h 5 min"."""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds}
    return _("%(s)d s") % {"s": seconds}


@register.filter
def time_left(moment: datetime | None):
    """Return how long until `moment`: "2 days 3 h", "5 h 10 min", "8 min", or "" once it has passed."""
    if moment is None:
        return ""
    seconds = int((moment - timezone.now()).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return ngettext("%(d)d day %(h)d h", "%(d)d days %(h)d h", days) % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return ngettext("%(m)d minute", "%(m)d minutes", max(minutes, 1)) % {"m": max(minutes, 1)}
