"""Domain errors: raised by services, answered by views and the API with the field they name."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """A business rule refused the request. `field` names the input at fault, if one is."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        body: dict = {"detail": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        return body


class NotFound(DomainError):
    """The object does not exist for this user (also used where they may not see it)."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded file, as the user sees it in a spreadsheet (header is row 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class RowErrors:
    """The problems found in a file: the first `limit` kept, the others only counted.

    A file of junk rows has problems in every cell; keeping them all would grow memory with the
    file (a 2 MB file made gigabytes of them). Nobody reads past the first thousand anyway.
    """

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.kept: list[RowError] = []
        self.total = 0

    def append(self, error: RowError) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            self.kept.append(error)

    def extend(self, errors) -> None:
        for error in errors:
            self.append(error)

    @property
    def more(self) -> int:
        """Problems found but not kept."""
        return self.total - len(self.kept)

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self):
        return iter(self.kept)


@dataclass
class FileRejected(DomainError):
    """An upload with problems: nothing was applied; every problem is listed (up to a limit: `more`
    counts the problems found beyond the listed ones)."""

    errors: list[RowError] = field(default_factory=list)
    more: int = 0

    def __post_init__(self) -> None:
        count = len(self.errors) + self.more
        super().__init__(f"The file has {count} problem{'s' if count != 1 else ''}; nothing was applied.")
        self.code = "file_rejected"

    @property
    def total(self) -> int:
        return len(self.errors) + self.more

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["errors"] = [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors]
        if self.more:
            body["more_errors"] = self.more
        return body
