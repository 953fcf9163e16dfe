from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from common.forms import NHSFormMixin
from organisations.validators import normalise_companies_house_number, normalise_uk_vat_number

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


class SupplierRegistrationForm(NHSFormMixin, forms.Form):
    """A supplier registers itself. Numbers are checked here for the page and again by the service."""

    legal_name = forms.CharField(
        label="Company's legal name",
        max_length=200,
        help_text="As registered at Companies House, e.g. Pennine Medical Supplies Ltd",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": "Enter the company's legal name"},
    )
    companies_house_number = forms.CharField(
        label="Companies House number",
        max_length=12,
        help_text="8 characters, like 01234567 or SC123456",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}),
        error_messages={"required": "Enter the Companies House number"},
    )
    vat_number = forms.CharField(
        label="UK VAT number",
        max_length=20,
        help_text="Like GB 123 4567 89",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}),
        error_messages={"required": "Enter the UK VAT number"},
    )
    contact_name = forms.CharField(
        label="Contact's full name",
        max_length=150,
        help_text="The person who will be the supplier's admin here",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter the contact's full name"},
    )
    contact_email = forms.EmailField(
        label="Contact's email address",
        help_text="We send the invitation to set up the account here once the registration is approved",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"required": "Enter the contact's email address"},
    )
    categories = forms.CharField(
        label="What you sell",
        help_text="One category a line, e.g. Wound care",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter at least one category of products you sell"},
    )

    def clean_companies_house_number(self) -> str:
        return normalise_companies_house_number(self.cleaned_data["companies_house_number"])

    def clean_vat_number(self) -> str:
        return normalise_uk_vat_number(self.cleaned_data["vat_number"])

    def clean_categories(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["categories"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError("Enter at least one category of products you sell")
        return lines


class InvitationForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter the email address of the person to invite"},
    )
    role = forms.ChoiceField(label="Role", error_messages={"required": "Choose a role"})

    def __init__(self, *args, roles: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles


class AcceptInvitationForm(NHSFormMixin, forms.Form):
    """A new user's name and password; the email address is the invitation's."""

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your full name"},
    )
    password = forms.CharField(
        label="Password",
        help_text="At least 10 characters, not a common password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter a password"},
    )
