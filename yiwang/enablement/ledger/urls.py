"""URLs of the ledger outside the language prefix (/ledger/ on both listeners): the
tlog-tiles endpoints external auditors fetch."""

from django.urls import path, re_path

from yiwang.enablement.ledger import views

app_name = "ledger"
urlpatterns = [
    path("<slug:log>/checkpoint", views.checkpoint, name="checkpoint"),
    re_path(r"^(?P<log>[-a-zA-Z0-9_]+)/tile/(?P<rest>.*)$", views.tile, name="tile"),
]
