from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from common.forms import NHSFormMixin

# One message for every failed sign-in: never say whether the email or the password was wrong.
SIGN_IN_FAILED = "Enter a correct email address and password."


class SignInForm(NHSFormMixin, AuthenticationForm):
    """Email and password. A wrong sign-in never says which part was wrong."""

    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, "spellcheck": "false"}),
    )
    error_messages = {"invalid_login": SIGN_IN_FAILED, "inactive": SIGN_IN_FAILED}

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your email address"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class NHSPasswordResetForm(NHSFormMixin, PasswordResetForm):
    pass


class NHSSetPasswordForm(NHSFormMixin, SetPasswordForm):
    pass
