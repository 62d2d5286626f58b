"""ASGI entry point: prepare the var folder, then serve Bindery."""

import os

from django.core.asgi import get_asgi_application

from bindery.local_files import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bindery.settings")
prepare()

application = get_asgi_application()
