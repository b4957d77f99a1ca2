"""URL patterns of the security screens: factors, passkeys, recovery codes, QR login and
sessions (included by urls.py under the ``identity`` namespace)."""

from django.urls import path

from yiwang.support.identity.views import account, mfa, qr

urlpatterns = [
    path("security/", mfa.security, name="security"),
    path("security/confirm/", mfa.reauth, name="reauth"),
    path("security/totp/add/", mfa.totp_add, name="totp_add"),
    path("security/totp/<int:pk>/rename/", mfa.totp_rename, name="totp_rename"),
    path("security/totp/<int:pk>/remove/", mfa.totp_remove, name="totp_remove"),
    path("security/passkeys/add/", mfa.passkey_add, name="passkey_add"),
    path("security/passkeys/register/options/", mfa.passkey_register_options,
         name="passkey_register_options"),
    path("security/passkeys/register/", mfa.passkey_register, name="passkey_register"),
    path("security/passkeys/<int:pk>/rename/", mfa.passkey_rename, name="passkey_rename"),
    path("security/passkeys/<int:pk>/remove/", mfa.passkey_remove, name="passkey_remove"),
    path("security/recovery-codes/", mfa.recovery_codes, name="recovery_codes"),
    path("security/recovery-codes/new/", mfa.recovery_codes_new, name="recovery_codes_new"),
    path("security/recovery-codes/download/", mfa.recovery_codes_download,
         name="recovery_codes_download"),
    path("passkey/options/", mfa.passkey_options, name="passkey_options"),
    path("passkey/verify/", mfa.passkey_verify, name="passkey_verify"),
    path("qr/", qr.qr_login, name="qr_login"),
    path("qr/status/", qr.qr_status, name="qr_status"),
    path("qr/a/<str:token>/", qr.qr_approve, name="qr_approve"),
    path("sessions/", account.sessions_page, name="sessions"),
    path("sessions/<int:pk>/end/", account.session_end, name="session_end"),
    path("sessions/end-others/", account.sessions_end_others, name="sessions_end_others"),
]
