"""Turning what a buyer typed into search terms: words, synonym groups, identifiers, typo distance.

Shared by every backend so that synonyms and identifiers behave the same on SQLite, PostgreSQL
and Elasticsearch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")

# Longer input is cut, not refused: nobody types more, and the engine's work stays bounded.
MAX_QUERY_CHARS = 200
MAX_WORDS = 12
MIN_VOCABULARY_WORD = 3

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CODE_CHARS = re.compile(r"[\s]+")


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped: 'Anti-embolism, 20ml' -> ['anti', 'embolism', '20ml']."""
    return [w.lower() for w in _WORD.findall(text or "")]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# A quantity glued to its unit ("20ml", "2.5mm", "14fr") is searched as two words, as catalogues
# write it ("20 ml"), so that "20ml syringe" finds "Syringe, 20 ml, luer lock".
_QUANTITY_UNIT = re.compile(
    r"\b(\d+(?:[.,]\d+)?)(ml|l|mm|cm|m|mg|mcg|g|kg|fr|ch|cc|gsm|in|inch)\b", re.IGNORECASE
)


def normalise_query(text: str) -> str:
    """At most MAX_QUERY_CHARS, control characters (NUL included) dropped, quantities split from
    their units, spaces collapsed."""
    cleaned = _CONTROL.sub(" ", (text or "")[:MAX_QUERY_CHARS])
    return " ".join(_QUANTITY_UNIT.sub(r"\1 \2", cleaned).split())


def normalise_code(code: str) -> str:
    """Identifiers compare upper-case without spaces; GTINs as 14 digits (GTIN-8/12/13 left-padded)."""
    value = _CODE_CHARS.sub("", code or "").upper()
    if value.isdigit() and len(value) in (8, 12, 13, 14):
        return value.zfill(14)
    return value


def code_candidates(text: str) -> list[str]:
    """What an identifier typed into the box may be. Only strings that look like codes qualify."""
    typed = normalise_query(text)
    value = normalise_code(typed)
    if not value or len(value) > 64:
        return []
    # A word without digits is only taken as a code when it is punctuated like one ("MDL-TED-M"), so a
    # supplier SKU that happens to be a plain word ("GLOVES") never hijacks a search.
    looks_like_code = any(ch.isdigit() for ch in value) or (
        " " not in typed and any(ch in "-/._" for ch in value)
    )
    return [value] if looks_like_code else []


@dataclass(frozen=True)
class SynonymTable:
    # phrase (tuple of words) -> the group of phrases it is interchangeable with.
    groups: dict[tuple[str, ...], tuple[tuple[str, ...], ...]]
    longest: int
    lines: tuple[str, ...]

    def expand(self, tokens: list[str]) -> list[list[tuple[str, ...]]]:
        """Groups of alternatives, one per position: [[('ted',), ('anti', 'embolism')], [('stockings',)]]."""
        out: list[list[tuple[str, ...]]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                phrase = tuple(tokens[i : i + size])
                if phrase in self.groups:
                    out.append(list(self.groups[phrase]))
                    i += size
                    break
            else:
                out.append([(tokens[i],)])
                i += 1
        return out


def parse_synonyms(text: str) -> SynonymTable:
    groups: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        phrases = tuple(dict.fromkeys(tuple(words(term)) for term in line.split(",") if words(term)))
        lines.append(", ".join(" ".join(p) for p in phrases))
        for phrase in phrases:
            # A term in two groups gets both groups' alternatives.
            merged = tuple(dict.fromkeys(groups.get(phrase, ()) + phrases))
            groups[phrase] = merged
    longest = max((len(p) for p in groups), default=1)
    return SynonymTable(groups=groups, longest=longest, lines=tuple(lines))


@cache
def synonyms() -> SynonymTable:
    return parse_synonyms(SYNONYMS_FILE.read_text(encoding="utf-8"))


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Edit distance counting a swap of two neighbours as one edit ('wheelchiar' -> 'wheelchair' is 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        previous_previous, previous = previous, current
    return previous[-1]


def allowed_edits(word: str) -> int:
    """How far a correction may be: none for short words, one up to 7 letters, two beyond."""
    if len(word) < 4:
        return 0
    return 1 if len(word) <= 7 else 2


def best_correction(word: str, candidates: list[tuple[str, int]]) -> str | None:
    """The closest vocabulary word within the allowed edits; ties go to the more common word."""
    limit = allowed_edits(word)
    if not limit:
        return None
    scored = []
    for term, frequency in candidates:
        if term == word:
            return None
        distance = damerau_levenshtein(word, term, limit)
        if distance <= limit:
            scored.append((distance, -frequency, term))
    return min(scored)[2] if scored else None


def correctable(word: str) -> bool:
    return len(word) >= 4 and not any(ch.isdigit() for ch in word)


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    tokens: tuple[str, ...]
    # One group per position; each alternative is a phrase (tuple of words). All groups must match.
    groups: tuple[tuple[tuple[str, ...], ...], ...]
    corrected_text: str | None

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for group in self.groups for phrase in group for w in phrase))

    @property
    def is_empty(self) -> bool:
        return not self.groups


def _with_gtin14(group: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A GTIN-8/12/13 typed among words also matches the 14-digit form the index stores."""
    extra = [
        (phrase[0].zfill(14),)
        for phrase in group
        if len(phrase) == 1 and phrase[0].isdigit() and len(phrase[0]) in (8, 12, 13)
    ]
    return group + extra


def analyse(text: str, corrections: dict[str, str] | None = None) -> AnalysedQuery:
    """Words, typo corrections (given by the backend's vocabulary) and synonym groups."""
    text = normalise_query(text)
    tokens = words(text)[:MAX_WORDS]
    corrections = corrections or {}
    corrected = [corrections.get(t, t) for t in tokens]
    groups = tuple(tuple(_with_gtin14(group)) for group in synonyms().expand(corrected))
    corrected_text = " ".join(corrected) if corrected != tokens else None
    return AnalysedQuery(text=text, tokens=tuple(tokens), groups=groups, corrected_text=corrected_text)
