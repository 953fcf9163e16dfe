"""Flesch reading ease of a page's words, with a small syllable counter of our own (no dependency).

206.835 - 1.015 * (words / sentences) - 84.6 * (syllables / words). 90-100 reads easily at about
age 9-11, 80-90 at 11-12. Each heading, list item, table cell and button counts as a sentence: a
page of short labels reads as short sentences, which it is."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "td",
    "th",
    "button",
    "label",
    "a",
    "caption",
    "div",
    "span",
    "strong",
}
_SKIP = {"script", "style", "svg", "title", "head"}
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0
        self.inside_main = False

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.inside_main = True
        if tag in _SKIP:
            self.skip += 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "main":
            self.inside_main = False
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.inside_main and not self.skip:
            self.parts.append(data)


def main_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def syllables(word: str) -> int:
    word = word.lower().strip("'")
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def flesch_reading_ease(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?:;]+|\n+", text) if _WORD.search(s)]
    words = _WORD.findall(text)
    if not words or not sentences:
        return 100.0
    return 206.835 - 1.015 * (len(words) / len(sentences)) - 84.6 * (sum(map(syllables, words)) / len(words))
