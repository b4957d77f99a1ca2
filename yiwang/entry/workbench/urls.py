from django.urls import path

from yiwang.entry.workbench import (
    urls_applications,
    urls_articles,
    urls_assistant,
    urls_calendar,
    urls_city,
    urls_credit,
    urls_evaluations,
    urls_ledger,
    urls_licences,
    urls_payments,
    urls_seals,
    urls_search,
    urls_services,
    urls_trust,
    views,
    views_audit,
    views_identity,
    views_registry,
    views_signin,
)

app_name = "workbench"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views_signin.login, name="login"),
    path("oidc/callback/", views_signin.oidc_callback, name="oidc_callback"),
    path("logout/", views_signin.logout, name="logout"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region, name="region"),
    path("grids/<str:code>/", views.grid, name="grid"),
    path("departments/", views.departments, name="departments"),
    path("departments/<slug:code>/", views.department, name="department"),
    path("unavailable/<slug:slug>/", views.unavailable, name="unavailable"),
    path("audit/", views_audit.search, name="audit"),
    path("audit/export.csv", views_audit.export, name="audit_export"),
    path("registry/persons/", views_registry.persons, name="persons"),
    path("registry/persons/<int:pk>/", views_registry.person, name="person"),
    path("registry/persons/<int:pk>/guardianships/", views_registry.record_guardianship,
         name="person_guardianship_record"),
    path("registry/persons/<int:pk>/guardianships/<int:record>/end/",
         views_registry.end_guardianship, name="person_guardianship_end"),
    path("registry/enterprises/", views_registry.enterprises, name="enterprises"),
    path("registry/enterprises/<str:credit_code>/", views_registry.enterprise,
         name="enterprise"),
    # 账户管理 and 接入应用管理 (identity administration)
    path("accounts/", views_identity.accounts, name="accounts"),
    path("accounts/<int:pk>/", views_identity.account, name="account"),
    path("accounts/<int:pk>/<slug:action>/", views_identity.account_action,
         name="account_action"),
    path("relying-parties/", views_identity.relying_parties, name="relying_parties"),
    path("relying-parties/new/", views_identity.relying_party_new, name="relying_party_new"),
    path("relying-parties/<str:client_id>/", views_identity.relying_party,
         name="relying_party"),
    path("relying-parties/<str:client_id>/rotate-secret/", views_identity.relying_party_rotate,
         name="relying_party_rotate"),
    path("relying-parties/<str:client_id>/secret/", views_identity.relying_party_secret,
         name="relying_party_secret"),
    path("relying-parties/<str:client_id>/active/", views_identity.relying_party_active,
         name="relying_party_active"),
    # the trust core: 账本, 密钥与证书, 电子证照, 电子印章
    *urls_ledger.urlpatterns,
    *urls_trust.urlpatterns,
    *urls_licences.urlpatterns,
    *urls_seals.urlpatterns,
    # 一网通办: the service builder and the officials' inbox
    *urls_services.urlpatterns,
    *urls_applications.urlpatterns,
    # 好差评: the departments' evaluations and the follow-up of 差评
    *urls_evaluations.urlpatterns,
    *urls_city.urlpatterns,
    *urls_payments.urlpatterns,
    # 社会信用: 双公示, red and black lists, disputes, risk classes, the credit check
    *urls_credit.urlpatterns,
    # 统一搜索: synonyms, queries that found nothing, rebuilding the index
    *urls_search.urlpatterns,
    # 智能客服: the human agents' queue of handed-over conversations
    *urls_assistant.urlpatterns,
    # 工作日历 of the statutory clock
    *urls_calendar.urlpatterns,
    # 政务公开: the departments' policy documents and notices
    *urls_articles.urlpatterns,
]
