"""The Bindery project: what ties the apps into one site (settings, the root URLconf, the entry points, the
staff groups) and runs its processes.

Its top (urls.py, wsgi.py, asgi.py, celery.py, apps.py) imports the apps. The apps import only its plumbing
(security.py, local_files.py, processes/), which imports no app but binding's redaction; settings reach the
apps through `django.conf.settings`. Importing this package does nothing: the entry points prepare the var
folder (local_files.prepare) themselves.
"""
