"""The Bindery Django project package and its storefront app."""

from .celery import app as celery_app

__all__ = ("celery_app",)
