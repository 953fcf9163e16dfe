"""`python manage.py import_catalogue --supplier <id> FILE`: a supplier's catalogue file, from the shell."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.imports.importer import catalogue_import_start
from common.errors import DomainError
from common.imports import UploadedFile, import_job_problems
from common.models import ImportJob
from organisations.models import Organisation, OrganisationKind


class Command(BaseCommand):
    help = (
        "Import a supplier's catalogue file (CSV or XLSX, see docs/formats.md). Every row is checked "
        "first; if any is wrong nothing is applied, the problems are listed by row and column, and the "
        "command exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--supplier", type=int, required=True, help="The supplier's organisation id.")
        parser.add_argument("file", type=Path, help="The CSV or XLSX file.")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        supplier = Organisation.objects.filter(pk=options["supplier"], kind=OrganisationKind.SUPPLIER).first()
        if supplier is None:
            raise CommandError(f"There is no supplier with id {options['supplier']}.")
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        with path.open("rb") as content:
            try:
                job = catalogue_import_start(
                    supplier=supplier,
                    actor=None,
                    upload=UploadedFile(name=path.name, content=content),
                    inline=True,
                )
            except DomainError as error:
                raise CommandError(f"{path.name}: {error.message}") from None
        if job.status == ImportJob.Status.SUCCEEDED:
            counts = ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in job.summary.items())
            self.stdout.write(
                self.style.SUCCESS(f"Imported {job.total_rows} rows for {supplier.name} ({counts}).")
            )
            return
        for problem in import_job_problems(job):
            self.stderr.write(problem)
        verdict = "rejected" if job.status == ImportJob.Status.REJECTED else "failed"
        raise CommandError(
            f"The file was {verdict} with {job.problem_count} problem(s); nothing was applied (job {job.pk})."
        )
