"""Users in the Wagtail back office: Wagtail's forms ask for first and last names; we keep one full name."""

from __future__ import annotations

from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet


class FullNameMixin:
    """Show `full_name` as Wagtail's first and last name fields, and save them back into it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("first_name", self.instance.first_name)
            self.initial.setdefault("last_name", self.instance.last_name)

    def save(self, commit: bool = True):
        parts = (self.cleaned_data.get("first_name", ""), self.cleaned_data.get("last_name", ""))
        self.instance.full_name = " ".join(part.strip() for part in parts if part and part.strip())
        return super().save(commit=commit)


class BackOfficeUserCreationForm(FullNameMixin, UserCreationForm):
    pass


class BackOfficeUserEditForm(FullNameMixin, UserEditForm):
    pass


class UserViewSet(WagtailUserViewSet):
    def get_form_class(self, for_update: bool = False):
        return BackOfficeUserEditForm if for_update else BackOfficeUserCreationForm
