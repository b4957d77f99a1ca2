"""Views of the OpenID Connect provider: protocol endpoints and the pages people see."""
