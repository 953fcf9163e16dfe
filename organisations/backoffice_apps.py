"""Wagtail's users app with our user forms (in INSTALLED_APPS in place of "wagtail.users").

Its own module: Django picks an app's config automatically only when the module holds one.
"""

from wagtail.users.apps import WagtailUsersAppConfig


class BackOfficeUsersConfig(WagtailUsersAppConfig):
    """Wagtail's users app, with forms that fill our single `full_name` field."""

    user_viewset = "organisations.backoffice_users.UserViewSet"
