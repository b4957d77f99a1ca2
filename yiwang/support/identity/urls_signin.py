"""URL patterns of the sign-in screens (included by urls.py under the ``identity`` namespace
at /account/ and /en/account/)."""

from django.urls import path

from yiwang.support.identity.views import profile, signin

urlpatterns = [
    path("", profile.home, name="home"),
    path("login/", signin.login, name="login"),
    path("login/sms/", signin.login_sms, name="login_sms"),
    path("login/sms/code/", signin.login_sms_verify, name="login_sms_verify"),
    path("login/second-factor/", signin.second_factor, name="second_factor"),
    path("step-up/", signin.step_up, name="step_up"),
    path("logout/", signin.logout, name="logout"),
    path("register/", profile.register, name="register"),
    path("register/verify/", profile.register_verify, name="register_verify"),
    path("realname/", profile.realname_view, name="realname"),
    path("password/", profile.password, name="password"),
]
