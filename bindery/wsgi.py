"""WSGI entry point (`gunicorn bindery.wsgi`): prepare the var folder, then serve Bindery."""

import os

from django.core.wsgi import get_wsgi_application

from bindery.local_files import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bindery.settings")
prepare()

application = get_wsgi_application()
