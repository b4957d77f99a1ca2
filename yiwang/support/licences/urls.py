"""Machine-readable licence endpoints outside the language prefix: /credentials/…

``/credentials/status/<list id>``: a W3C BitstringStatusListCredential, signed by the
issuing department's ``licence.vc`` key (public, cacheable for a minute).
``/credentials/contexts/v1``: yiwang's JSON-LD context of the licence terms.
"""

from django.urls import path

from yiwang.support.licences import views_public

app_name = "licences"
urlpatterns = [
    path("status/<slug:list_id>", views_public.status_list, name="status_list"),
    path("contexts/v1", views_public.context, name="context_v1"),
]
