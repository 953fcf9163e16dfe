"""Which document types exist. Apps register theirs in AppConfig.ready(); the engine looks them up."""

from __future__ import annotations

from search.types import DocumentType, InvalidSearch

_types: dict[str, DocumentType] = {}


def register(document_type: DocumentType) -> None:
    _types[document_type.name] = document_type


def get(name: str) -> DocumentType:
    try:
        return _types[name]
    except KeyError:
        raise InvalidSearch("object_type", f"Nothing called {name!r} is searchable.") from None


def all_types() -> list[DocumentType]:
    return list(_types.values())
