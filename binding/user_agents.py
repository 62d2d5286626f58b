"""A readable device name from a User-Agent header ("Chrome on Linux")."""

import re

from django.utils.translation import gettext as _

_BROWSERS = [
    (r"Edg/", "Edge"),
    (r"OPR/", "Opera"),
    (r"Firefox/", "Firefox"),
    (r"(Headless)?Chrom(e|ium)/", "Chrome"),
    (r"Version/[\d.]+.*Safari/", "Safari"),
]
_SYSTEMS = [
    (r"Android", "Android"),
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux|X11", "Linux"),
]


def device_label(user_agent: str) -> str:
    """Return e.g. "Chrome on Linux", or a generic name when the header says nothing useful."""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, user_agent or "")), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, user_agent or "")), None)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")
