"""WSGI entry point for gunicorn (see ``yiwang serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
application = get_wsgi_application()
