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


@dataclass
class FileRejected(DomainError):
    """An upload with problems: nothing was applied; every problem is listed."""

    errors: list[RowError] = field(default_factory=list)

    def __post_init__(self) -> None:
        count = len(self.errors)
        super().__init__(f"The file has {count} problem{'s' if count != 1 else ''}; nothing was applied.")
        self.code = "file_rejected"

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["errors"] = [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors]
        return body
