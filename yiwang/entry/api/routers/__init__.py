"""Routers of the public JSON API, one module per app; mounted in ``public.py``."""
