"""The database backend's index: one row per document, identifiers, and the vocabulary for typos.

PostgreSQL adds a weighted `vector` (tsvector, GIN) to search_searchdocument and trigram indexes on
the vocabulary (migration 0002); SQLite adds the FTS5 table `search_fts` (migration 0003). Elasticsearch
keeps its own index and uses none of these tables.
"""

from __future__ import annotations

from django.db import models

from search.fields import StringListField


class SearchDocument(models.Model):
    object_type = models.CharField(max_length=50)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    # "name:value" strings, e.g. "category:12", "stock:in_stock", counted for facets without joins.
    # SQLite keeps them here (JSON); PostgreSQL keeps integer ids in facet_ids (see SearchFacetValue).
    facets = StringListField(null=True)
    price = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    version = models.CharField(max_length=100, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id"], name="search_document_unique_object"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id}: {self.title}"


class SearchFacetValue(models.Model):
    """PostgreSQL: a facet key ("supplier:12") as a small integer, so counting facets over many
    matches groups integers, not strings."""

    key = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.key


class SearchCode(models.Model):
    """An exact identifier (normalised: upper-case, GTINs as 14 digits) that leads to one document."""

    code = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=50)
    object_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"], name="search_code_object")]

    def __str__(self) -> str:
        return self.code


class SearchTerm(models.Model):
    """A word that occurs in indexed text, with how many documents use it (for 'did you mean')."""

    term = models.CharField(max_length=100, primary_key=True)
    doc_count = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.term
