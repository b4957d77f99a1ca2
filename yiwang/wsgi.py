"""WSGI entry point for gunicorn (see ``yiwang serve``)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
django.setup(set_prefix=False)

from yiwang.core.health.service import Application  # noqa: E402  (needs settings loaded)

application = Application()
