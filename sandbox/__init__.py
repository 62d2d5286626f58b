"""The Bindery sandbox: an offline stand-in for ExpressPlay's token, licence and record APIs.

It imports no other Bindery app and no other app imports it: Bindery reaches it over HTTP, as it reaches
ExpressPlay. Run alone with `DJANGO_SETTINGS_MODULE=bindery.settings` and `ROOT_URLCONF=sandbox.urls`.
"""
