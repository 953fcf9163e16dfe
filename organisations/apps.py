from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations and people"

    def ready(self) -> None:
        # Sign-in, failed sign-in, lockout and sign-out go to the audit log.
        from organisations import signals  # noqa: F401
