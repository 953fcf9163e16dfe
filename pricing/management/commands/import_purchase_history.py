"""Import a trust's purchase-history file (CSV or XLSX) from the command line, as a user acting for
one trust: `--trust ODS` names it (required when the user acts for several; their only trust
otherwise). Every row must name that trust, as on the page and the API."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from common.imports import UploadedFile, import_job_problems
from common.models import ImportJob
from organisations.models import Organisation, User
from organisations.permissions import trusts_for
from pricing import services


class Command(BaseCommand):
    help = "Import purchase history as the given user; every problem is listed by row and column."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX file in the purchase-history format")
        parser.add_argument("--user", required=True, help="email of the user the import is made as")
        parser.add_argument(
            "--trust",
            default="",
            help="ODS code of the trust the file is for; needed if the user acts for several",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        user = User.objects.filter(email__iexact=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the email {options['user']}.")
        trust = self._trust(user, options["trust"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        with path.open("rb") as fileobj:
            try:
                job = services.purchase_history_import_start(
                    trust=trust, actor=user, upload=UploadedFile(name=path.name, content=fileobj), inline=True
                )
            except DomainError as error:
                raise CommandError(f"{path.name}: {error.message}") from None
        if job.status != ImportJob.Status.SUCCEEDED:
            for problem in import_job_problems(job):
                self.stderr.write(problem)
            raise CommandError(f"{path.name}: {job.problem_count} problem(s); nothing was imported.")
        summary = job.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary['lines']} lines for {trust.name} "
                f"({summary['created']} new, {summary['replaced']} replaced); "
                f"{summary['matched']} matched to products, {summary['unmatched']} left to map by hand."
            )
        )

    @staticmethod
    def _trust(user: User, ods: str) -> Organisation:
        """The trust the import acts for, as `organisations.acting` would choose it for a request: the
        one named (it must be one of the user's), else the user's only trust; never a guess."""
        trusts = list(trusts_for(user).order_by("name"))
        if ods:
            named = next((t for t in trusts if (t.ods_code or "").upper() == ods.strip().upper()), None)
            if named is None:
                raise CommandError(
                    f"--trust: {user.email} does not act for a trust with the ODS code {ods!r}."
                )
            return named
        if not trusts:
            raise CommandError(f"{user.email} does not act for an NHS trust.")
        if len(trusts) > 1:
            codes = ", ".join(t.ods_code or str(t.pk) for t in trusts)
            raise CommandError(f"--trust: {user.email} acts for several trusts ({codes}); say which one.")
        return trusts[0]
