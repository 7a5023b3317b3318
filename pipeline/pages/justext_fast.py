"""jusText's paragraph classification with its paragraphs' text computed once.

``justext.justext`` spends most of its time in pure-Python bookkeeping, not in
the classification: every paragraph boundary builds the element path twice as
strings (dotted and XPath, ``PathInfo.dom``/``.xpath``: O(depth) joins and
formatting, for every ``<p>``/``<div>`` start and end, even for the ~70% of
paragraphs that stay empty and are dropped), and ``Paragraph.text`` joins and
re-normalises the paragraph's text nodes at each of its ~10 reads during
classification. Here the dotted path is kept incrementally (one string per
open element), the XPath is left out (nothing reads it), and a paragraph's
text is computed once when the page is segmented. Parsing, cleaning,
segmentation and both classification passes are jusText's own functions, so
the paragraphs and their classes are the same
(tests/pages/test_justext_fast.py compares them on the corpus pages).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import lxml.sax
from justext.core import (
    DEFAULT_ENC_ERRORS,
    DEFAULT_ENCODING,
    ParagraphMaker,
    classify_paragraphs,
    html_to_dom,
    preprocessor,
    revise_paragraph_classification,
)
from justext.paragraph import Paragraph
from justext.utils import normalize_whitespace


class _Path:
    """The open elements: their names, child counters, and the dotted path of each depth."""

    def __init__(self) -> None:
        self._children: list[dict[str, int]] = [{}]
        self._dom: list[str] = [""]

    @property
    def dom(self) -> str:
        return self._dom[-1]

    @property
    def xpath(self) -> str:
        return ""  # not read by the classification nor by us

    def append(self, tag_name: str) -> _Path:
        # child counters kept as in PathInfo (they number siblings for the XPath)
        counters = self._children[-1]
        counters[tag_name] = counters.get(tag_name, 0) + 1
        self._children.append({})
        parent = self._dom[-1]
        self._dom.append(f"{parent}.{tag_name}" if len(self._dom) > 1 else tag_name)
        return self

    def pop(self) -> _Path:
        self._children.pop()
        self._dom.pop()
        return self


class _Paragraph(Paragraph):
    """A paragraph whose text is fixed once segmentation has finished with it."""

    _frozen: str | None = None

    @property
    def text(self) -> str:
        if self._frozen is not None:
            return self._frozen
        return str(normalize_whitespace("".join(self.text_nodes).strip()))

    def freeze(self) -> None:
        self._frozen = str(normalize_whitespace("".join(self.text_nodes).strip()))


class _Maker(ParagraphMaker):
    def __init__(self) -> None:
        # ParagraphMaker.__init__ with the incremental path
        self.path = _Path()
        self.paragraphs: list[_Paragraph] = []
        self.paragraph: _Paragraph | None = None
        self.link = False
        self.br = False
        self._start_new_pragraph()

    def _start_new_pragraph(self) -> None:
        done = self.paragraph
        if done is not None and done.contains_text():
            # complete: no text is appended to a paragraph once a new one starts
            done.freeze()
            # jusText's own test is `if self.paragraph and ...`: a Paragraph is false
            # when its normalised text is empty (__len__), e.g. only a <br>'s space
            if done.text:
                self.paragraphs.append(done)
        self.paragraph = _Paragraph(self.path)


def justext_paragraphs(html: bytes | str, stoplist: Collection[str]) -> list[Any]:
    """``justext.justext(html, stoplist)`` with its default settings, faster."""
    dom = preprocessor(html_to_dom(html, DEFAULT_ENCODING, None, DEFAULT_ENC_ERRORS))
    handler = _Maker()
    lxml.sax.saxify(dom, handler)
    paragraphs = handler.paragraphs
    classify_paragraphs(paragraphs, stoplist)
    revise_paragraph_classification(paragraphs)
    return paragraphs
