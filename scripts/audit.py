"""`make lint`'s dependency audit: pip-audit against PyPI's advisories, or a plain word that it could not run.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) for each package's known
vulnerabilities. Where that API is not reachable (a mirror that serves only the simple index answers 404), every
package would come back "not found" and pip-audit would still print "No known vulnerabilities found": an audit
that cannot fail. So the API is asked first; when it does not answer, the audit is skipped and says so. When it
does, pip-audit runs with --strict: a package it cannot audit fails the lint.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

# A release PyPI knows advisories for (CVE-2024-35195, CVE-2024-47081): where its page lists none, or there
# is no page, PyPI's advisories are not what this machine sees.
PROBE = "https://pypi.org/pypi/requests/2.31.0/json"


def advisories_reachable() -> str | None:
    """Return None when PyPI's JSON API answers with advisories, else why not."""
    try:
        with urllib.request.urlopen(PROBE, timeout=15) as answer:
            known = json.load(answer).get("vulnerabilities") or []
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))
    return None if known else "with no advisories for a release that has them"


def main() -> int:
    why = advisories_reachable()
    if why is not None:
        print(
            f"pip-audit SKIPPED: PyPI's advisory API ({PROBE}) answers {why} from this machine, so no package "
            "can be audited here. Run `make lint` where pypi.org is reachable."
        )
        return 0
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--vulnerability-service", "pypi", "--strict", "--skip-editable"]
    return subprocess.run([*command, "--progress-spinner", "off"], check=False).returncode  # noqa: S603 - our own tool


if __name__ == "__main__":
    sys.exit(main())
