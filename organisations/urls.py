from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from organisations import views
from organisations.forms import NHSPasswordResetForm, NHSSetPasswordForm, SignInForm

app_name = "organisations"

urlpatterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="organisations/sign_in.html", authentication_form=SignInForm
        ),
        name="sign-in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="organisations/password_reset.html",
            form_class=NHSPasswordResetForm,
            email_template_name="organisations/email/password_reset.txt",
            subject_template_name="organisations/email/password_reset_subject.txt",
            success_url=reverse_lazy("organisations:password-reset-sent"),
        ),
        name="password-reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="organisations/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.AuditedPasswordResetConfirmView.as_view(
            template_name="organisations/password_reset_confirm.html",
            form_class=NHSSetPasswordForm,
            success_url=reverse_lazy("organisations:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="organisations/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
    path("organisations/acting/", views.acting_switch, name="acting-switch"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation-detail"),
    path("organisations/<int:pk>/members/", views.membership_list, name="membership-list"),
    path("organisations/<int:pk>/invitations/", views.invitation_list, name="invitation-list"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("suppliers/register/", views.supplier_register, name="supplier-register"),
    path("suppliers/register/sent/", views.supplier_register_sent, name="supplier-register-sent"),
]
