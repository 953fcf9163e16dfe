"""Turning what a buyer typed into search terms: words, synonym groups, identifiers, typo distance.

Shared by every backend so that synonyms and identifiers behave the same on SQLite, PostgreSQL
and Elasticsearch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from common import gs1

SYNONYMS_DIR = Path(__file__).with_name("synonyms")

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


def clean_query(text: str) -> str:
    """At most MAX_QUERY_CHARS, control characters (NUL included) dropped, spaces collapsed: the
    text as typed, for identifiers and display."""
    return " ".join(_CONTROL.sub(" ", (text or "")[:MAX_QUERY_CHARS]).split())


# Sizes and quantities --------------------------------------------------------------------------------
# Buyers write a size as they like ("10x10", "10 x 10cm", "7.5cm", "75mm", '18"', "18 inch") and
# catalogues list it another way ("10 cm x 10 cm"). Both sides go through `measures`: a size becomes
# one canonical word in a canonical unit (lengths in mm, inches as "in", volumes in ml, catheter sizes
# in Ch), numbers of a size sorted, a decimal point written "p" so no tokenizer splits it:
# "10 cm x 10 cm" -> "100x100mm", "7.5cm" -> "75mm", '18"' -> "18in", "20 cc" -> "20ml".
# Documents keep their text and gain the canonical words (`index_text`); a query's sizes are
# replaced by them (`normalise_query`).
# unit as written -> (canonical unit, factor to it)
UNITS: dict[str, tuple[str, Decimal]] = {
    **dict.fromkeys(("mm", "millimetre", "millimetres", "millimeter", "millimeters"), ("mm", Decimal(1))),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"), ("mm", Decimal(10))),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), ("mm", Decimal(1000))),
    **dict.fromkeys(("in", "inch", "inches", '"', "\u2033", "''"), ("in", Decimal(1))),
    **dict.fromkeys(
        ("ml", "millilitre", "millilitres", "milliliter", "milliliters", "cc"), ("ml", Decimal(1))
    ),
    **dict.fromkeys(("l", "litre", "litres", "liter", "liters", "ltr"), ("ml", Decimal(1000))),
    **dict.fromkeys(("ch", "fr", "fg", "french", "charriere"), ("ch", Decimal(1))),
    **dict.fromkeys(("g", "gauge"), ("g", Decimal(1))),
    **dict.fromkeys(("mg",), ("mg", Decimal(1))),
    **dict.fromkeys(("mcg", "microgram", "micrograms", "\u00b5g"), ("mcg", Decimal(1))),
    **dict.fromkeys(("kg",), ("kg", Decimal(1))),
    **dict.fromkeys(("gsm",), ("gsm", Decimal(1))),
}
# "in" is also an ordinary word ("10 in a box"): it counts only glued to its number ("18in").
GLUED_ONLY = frozenset({"in"})
# Sizes with more than one number: lengths and inches ("10 x 10 cm", '24" x 18"').
DIMENSIONS = frozenset({"mm", "in"})

_NUMBER = r"\d+(?:\.\d+)?"
_SPACED_UNITS = "|".join(
    re.escape(u) for u in sorted((u for u in UNITS if u not in GLUED_ONLY), key=len, reverse=True)
)
_GLUED_UNITS = "|".join(sorted(GLUED_ONLY, key=len, reverse=True))
_UNIT = rf"(?:\s?-?\s?({_SPACED_UNITS})|({_GLUED_UNITS}))(?![^\W\d_xX])"
_PART = rf"({_NUMBER})(?:{_UNIT})?"
_MEASURE = re.compile(
    rf"(?<![\w.]){_PART}(?:\s?[x\u00d7*]\s?{_PART})?(?:\s?[x\u00d7*]\s?{_PART})?(?!\w)", re.IGNORECASE
)
_UNITLESS_SIZE = re.compile(r"^\d+(?:p\d+)?(?:x\d+(?:p\d+)?)+$")


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", "p")


@dataclass(frozen=True)
class Measure:
    start: int
    end: int
    # The canonical word for the whole size first, then one word per number ("100x100mm", "100mm").
    words: tuple[str, ...]


def _measure(match: re.Match) -> Measure | None:
    parts = []
    for i in range(0, 9, 3):
        number, spaced, glued = match.group(i + 1, i + 2, i + 3)
        if number is not None:
            parts.append((Decimal(number), (spaced or glued or "").lower() or None))
    units = [u for _, u in parts if u]
    if not units and len(parts) == 1:
        return None  # a plain number
    if not units:
        numbers = sorted(n for n, _ in parts)
        return Measure(match.start(), match.end(), ("x".join(_number(n) for n in numbers),))
    kind = UNITS[units[-1]][0]
    if len(parts) > 1 and (kind not in DIMENSIONS or any(UNITS[u][0] != kind for u in units)):
        # "2 x 10ml" is two packs of 10 ml: only the last quantity is a size.
        number, unit = parts[-1]
        if unit is None:
            return None
        canonical, factor = UNITS[unit]
        start = match.start(len(parts) * 3 - 2)
        return Measure(start, match.end(), (_number(number * factor) + canonical,))
    # A number without a unit takes the size's unit ("10 x 10cm").
    values = sorted(n * UNITS[u or units[-1]][1] for n, u in parts)
    combined = "x".join(_number(v) for v in values) + kind
    singles = tuple(dict.fromkeys(_number(v) + kind for v in values)) if len(values) > 1 else ()
    return Measure(match.start(), match.end(), (combined, *singles))


# Catheter sizes are also written unit first: "Ch 12", "CH12", "FG 14".
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
_GAUGE_FIRST = re.compile(r"(?<![\w.])(ch|fr|fg)\s?(\d+)(?![\w.])", re.IGNORECASE)


def measures(text: str) -> list[Measure]:
    """The sizes and quantities written in `text`, with their canonical words."""
    found = [m for m in (_measure(m) for m in _MEASURE.finditer(text or "")) if m is not None]
    for m in _GAUGE_FIRST.finditer(text or ""):
        if not any(f.start < m.end() and m.start() < f.end for f in found):
            found.append(Measure(m.start(), m.end(), (f"{int(m.group(2))}ch",)))
    # A plain decimal ("size 7.5") is one word for PostgreSQL's parser and two for FTS5's: both
    # sides get "7p5".
    for m in _DECIMAL.finditer(text or ""):
        if not any(f.start < m.end() and m.start() < f.end for f in found):
            found.append(Measure(m.start(), m.end(), (_number(Decimal(m.group())),)))
    return sorted(found, key=lambda m: m.start)


def index_text(text: str) -> str:
    """A document's text as engines index it: as written, followed by the canonical words of its sizes,
    so "Foam dressing 10 cm x 10 cm" is found by "10x10", "10x10cm", "100mm x 100mm" and "10cm"."""
    extra = [w for m in measures(text) for w in m.words]
    return f"{text} {' '.join(extra)}" if extra else text


def normalise_query(text: str) -> str:
    """The cleaned query, each size replaced by its canonical word: "10 x 10cm foam" -> "100x100mm foam"."""
    cleaned = clean_query(text)
    out, last = [], 0
    for m in measures(cleaned):
        out.append(cleaned[last : m.start])
        out.append(f" {m.words[0]} ")
        last = m.end
    out.append(cleaned[last:])
    return " ".join("".join(out).split())


def size_alternatives(word: str) -> list[str]:
    """A size typed without a unit ("10x10") may be in cm, mm or inches: the canonical words it may mean."""
    if not _UNITLESS_SIZE.match(word):
        return []
    numbers = [Decimal(n.replace("p", ".")) for n in word.split("x")]
    metric = ["x".join(_number(n * factor) for n in numbers) + "mm" for factor in (Decimal(10), Decimal(1))]
    return [*metric, "x".join(_number(n) for n in numbers) + "in"]


def normalise_code(code: str) -> str:
    """Identifiers compare upper-case without spaces; GTINs as 14 digits (GTIN-8/12/13 left-padded)."""
    value = _CODE_CHARS.sub("", code or "").upper()
    if gs1.looks_like_gtin(value):
        return gs1.gtin14(value)
    return value


def code_candidates(text: str) -> list[str]:
    """What an identifier typed into the box may be. Only strings that look like codes qualify."""
    typed = clean_query(text)
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
    # One line per group (groups sharing a term are merged into one), for Elasticsearch.
    lines: tuple[str, ...]
    # line -> where its terms come from (the "# source:" comment above them).
    sources: dict[str, str] = field(default_factory=dict)

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


_SOURCE = re.compile(r"^#\s*source:\s*(.+)$", re.IGNORECASE)


def parse_synonyms(text: str) -> SynonymTable:
    """Groups of interchangeable phrases. Groups sharing a phrase are one group: "hand rub" in the
    sanitiser line and in the alcohol gel line makes all of them interchangeable, the same way on
    every backend."""
    members: list[list[tuple[str, ...]]] = []
    group_of: dict[tuple[str, ...], int] = {}
    origin: dict[int, list[str]] = {}
    source, continuing = "", False
    for raw in text.splitlines():
        stripped = raw.strip()
        heading = _SOURCE.match(stripped)
        if heading:
            source, continuing = heading.group(1).strip(), True
            continue
        if continuing and stripped.startswith("#"):
            # A source may run on over the comment lines right below it.
            source = f"{source} {stripped.lstrip('#').strip()}"
            continue
        continuing = False
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        phrases = list(dict.fromkeys(tuple(words(term)) for term in line.split(",") if words(term)))
        joined = sorted({group_of[p] for p in phrases if p in group_of})
        if joined:
            target = joined[0]
            for other in joined[1:]:
                for phrase in members[other]:
                    group_of[phrase] = target
                members[target] += members[other]
                origin.setdefault(target, []).extend(origin.pop(other, []))
                members[other] = []
        else:
            target = len(members)
            members.append([])
        members[target] = list(dict.fromkeys(members[target] + phrases))
        for phrase in phrases:
            group_of[phrase] = target
        origin.setdefault(target, []).append(source)
    groups: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    out_lines, sources = [], {}
    for index, phrases in enumerate(members):
        if not phrases:
            continue
        group = tuple(phrases)
        for phrase in group:
            groups[phrase] = group
        line = ", ".join(" ".join(p) for p in group)
        out_lines.append(line)
        sources[line] = "; ".join(dict.fromkeys(s for s in origin.get(index, []) if s))
    longest = max((len(p) for p in groups), default=1)
    return SynonymTable(groups=groups, longest=longest, lines=tuple(out_lines), sources=sources)


def synonym_completions(prefix: str, limit: int = 4) -> list[tuple[str, ...]]:
    """Synonym groups with a one-word term starting with `prefix` ("venf" -> venflon's group, so
    autocomplete suggests cannulas while "venflon" is still being typed). Three letters at least."""
    if len(prefix) < 3:
        return []
    table = synonyms()
    out: list[tuple[str, ...]] = []
    for phrase in sorted(p for p in table.groups if len(p) == 1 and p[0].startswith(prefix)):
        out.extend(table.groups[phrase])
        limit -= 1
        if not limit:
            break
    return list(dict.fromkeys(out))


def synonym_files() -> list[Path]:
    return sorted(SYNONYMS_DIR.glob("*.txt"))


@cache
def synonyms() -> SynonymTable:
    """Every file in search/synonyms/, read once per process."""
    return parse_synonyms("\n".join(f.read_text(encoding="utf-8") for f in synonym_files()))


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


def _with_gtin14_and_sizes(group: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A GTIN-8/12/13 typed among words also matches the 14-digit form the index stores; a size
    without a unit ("10x10") also matches it in cm and in mm."""
    extra = [
        (gs1.gtin14(phrase[0]),)
        for phrase in group
        if len(phrase) == 1 and gs1.looks_like_gtin(phrase[0]) and len(phrase[0]) < gs1.GTIN_STORED_LENGTH
    ]
    extra += [(size,) for phrase in group if len(phrase) == 1 for size in size_alternatives(phrase[0])]
    return list(dict.fromkeys(group + extra))


# English stop words, dropped from queries unless nothing else is typed: PostgreSQL's english
# configuration drops them, SQLite's FTS5 would require them ("stool for the shower" must not need
# "for" and "the" in the product text on one backend only).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "such",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
        "i",
    ]
)


def query_words(text: str) -> list[str]:
    """The words searched for: sizes canonical, stop words dropped (unless that leaves nothing)."""
    tokens = words(normalise_query(text))
    return ([t for t in tokens if t not in STOP_WORDS] or tokens)[:MAX_WORDS]


def analyse(text: str, corrections: dict[str, str] | None = None) -> AnalysedQuery:
    """Words, typo corrections (given by the backend's vocabulary) and synonym groups."""
    original, text = text, normalise_query(text)
    tokens = query_words(original)
    corrections = corrections or {}
    corrected = [corrections.get(t, t) for t in tokens]
    groups = tuple(tuple(_with_gtin14_and_sizes(group)) for group in synonyms().expand(corrected))
    # What was searched, said in the buyer's words: corrected words replaced, sizes as typed.
    corrected_text = (
        _WORD.sub(lambda m: corrections.get(m.group().lower(), m.group()), clean_query(original)).lower()
        if corrected != tokens
        else None
    )
    return AnalysedQuery(text=text, tokens=tuple(tokens), groups=groups, corrected_text=corrected_text)
