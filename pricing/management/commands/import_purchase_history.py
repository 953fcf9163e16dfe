"""Import a trust's purchase-history file (CSV or XLSX) from the command line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from common.imports import UploadedFile, import_job_problems
from common.models import ImportJob
from organisations.models import User
from pricing import services


class Command(BaseCommand):
    help = "Import purchase history as the given user; every problem is listed by row and column."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX file in the purchase-history format")
        parser.add_argument("--user", required=True, help="email of the user the import is made as")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        user = User.objects.filter(email__iexact=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the email {options['user']}.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        with path.open("rb") as fileobj:
            try:
                job = services.purchase_history_import_start(
                    user=user, upload=UploadedFile(name=path.name, content=fileobj), inline=True
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
                f"Imported {summary['lines']} lines "
                f"({summary['created']} new, {summary['replaced']} replaced); "
                f"{summary['matched']} matched to products, {summary['unmatched']} left to map by hand."
            )
        )
