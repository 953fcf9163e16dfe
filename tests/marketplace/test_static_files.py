"""Our static files are self-contained, so production's hashed-manifest collectstatic cannot fail on them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "marketplace" / "static"
CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:|https?:|#)([^'\")?#]+)")
SOURCE_MAP = re.compile(r"sourceMappingURL=(\S+?)(?:\s|\*/|$)")


@pytest.mark.parametrize(
    "path",
    sorted(STATIC.rglob("*.css")) + sorted(STATIC.rglob("*.js")),
    ids=lambda p: str(p.relative_to(STATIC)),
)
def test_every_file_a_static_file_refers_to_is_there(path):
    text = path.read_text(encoding="utf-8")
    referenced = CSS_URL.findall(text) if path.suffix == ".css" else []
    referenced += SOURCE_MAP.findall(text)
    missing = [ref for ref in referenced if not (path.parent / ref).resolve().exists()]
    assert missing == []


def test_nothing_is_loaded_from_a_cdn():
    for path in [*STATIC.rglob("*.css"), *(STATIC.parent / "templates").rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", text), path
        assert "fonts.googleapis" not in text and "cdn." not in text, path
