"""Portal pages of the licences app (in the language prefix): /licences/…"""

from django.urls import path

from yiwang.support.licences import views

app_name = "licences_portal"
urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("verify/", views.verify, name="verify"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/licence.pdf", views.download_pdf, name="pdf"),
    path("<int:pk>/credential.json", views.download_vc, name="vc"),
    path("<int:pk>/qr.svg", views.download_qr, name="qr"),
    path("<int:pk>/share/", views.share, name="share"),
    path("<int:pk>/share/<int:share_pk>/revoke/", views.share_revoke, name="share_revoke"),
]
