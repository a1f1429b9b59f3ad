"""The structured sources of one page, read from the one parsed tree.

A CNA page states most facts more than once: ``meta`` tags (``og:``, ``article:``,
``twitter:``, ``itemprop``), JSON-LD (an array or an ``@graph``, at any nesting),
``<time datetime>``, and embedded application JSON (a framework's page data, e.g.
``<script id="__NEXT_DATA__" type="application/json">``). :class:`Sources` reads them
all in one walk over the few element kinds that can hold them (``meta``, ``script``,
``time``, ``link``: a C-level iteration, no whole-document XPath), parses JSON once,
and answers per field with every value it found.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

from lxml import etree

from cnaspider.extraction.text import clean_caption

# JSON-LD types that describe the article itself.
ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting"}
)
# Keys of embedded page data, lower-cased without "_" or "-", per field.
PAGE_KEYS = {
    "title": ("headline", "title", "newstitle", "articletitle"),
    "published": (
        "datepublished",
        "publishedat",
        "publishtime",
        "publishedtime",
        "publishdate",
        "pubdate",
        "createtime",
        "createdat",
        "firstpublished",
    ),
    "modified": ("datemodified", "modifiedat", "updatedat", "updatetime", "lastmodified"),
    "body": ("articlebody", "body", "content", "contenthtml", "paragraphs", "bodyhtml", "text"),
    "section": ("articlesection", "section", "category", "classname", "categoryname"),
    "description": ("description", "summary", "abstract"),
}
_ARTICLE_KEYS = frozenset(k for keys in PAGE_KEYS.values() for k in keys)
_KEY_FOLD = re.compile(r"[_\-]")
_MAX_NODES = 20000  # a page-data walk stops here (hostile or huge JSON)


def _fold(key: str) -> str:
    return _KEY_FOLD.sub("", key).lower()


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _walk(data: Any) -> list[dict[str, Any]]:
    """Every dict in ``data`` (lists, ``@graph`` and nested values), breadth first, capped."""
    found: list[dict[str, Any]] = []
    queue = [data]
    seen = 0
    while queue and seen < _MAX_NODES:
        item = queue.pop(0)
        seen += 1
        if isinstance(item, dict):
            found.append(item)
            queue.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            queue.extend(v for v in item if isinstance(v, dict | list))
    return found


def _loads(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw[4:].rsplit("-->", 1)[0]
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


class Sources:
    """Every structured source of a page, read once and cached."""

    def __init__(self, doc: etree._Element, ident: str = "") -> None:
        self.doc = doc
        self.ident = ident

    @cached_property
    def _scan(self) -> tuple[dict[str, list[str]], list[str], list[str], list[etree._Element]]:
        """(meta values by property/name/itemprop, JSON-LD texts, page-data texts, time elements)."""
        metas: dict[str, list[str]] = {}
        ld: list[str] = []
        app: list[str] = []
        times: list[etree._Element] = []
        for el in self.doc.iter("meta", "script", "time", "link"):
            attrib = el.attrib
            tag = el.tag
            if tag == "meta":
                content = attrib.get("content")
                if content is None:
                    continue
                for attr in ("property", "name", "itemprop"):
                    key = attrib.get(attr)
                    if key:
                        metas.setdefault(key.strip().lower(), []).append(content)
            elif tag == "script":
                kind = (el.get("type") or "").strip().lower()
                if kind == "application/ld+json":
                    ld.append(el.text or "")
                elif kind == "application/json" or el.get("id") == "__NEXT_DATA__":
                    app.append(el.text or "")
            elif tag == "time":
                times.append(el)
            elif tag == "link" and el.get("itemprop"):
                metas.setdefault(el.get("itemprop", "").lower(), []).append(el.get("href") or "")
        return metas, ld, app, times

    def meta(self, key: str) -> list[str]:
        """Values of ``<meta property|name|itemprop=key>``, in page order."""
        return self._scan[0].get(key.lower(), [])

    def meta_first(self, key: str) -> str:
        for value in self.meta(key):
            if value.strip():
                return value.strip()
        return ""

    @cached_property
    def ld_nodes(self) -> list[dict[str, Any]]:
        """The JSON-LD nodes describing an article, this page's first."""
        nodes: list[dict[str, Any]] = []
        for raw in self._scan[1]:
            data = _loads(raw)
            if data is None:
                continue
            # CNA's article node is an item of the top-level array: walk deeper only without one.
            top = data if isinstance(data, list) else [data]
            found = [n for n in top if isinstance(n, dict) and _types(n) & ARTICLE_TYPES]
            nodes += found or [n for n in _walk(data) if _types(n) & ARTICLE_TYPES]
        if self.ident and len(nodes) > 1:
            nodes.sort(key=lambda n: self.ident not in json.dumps(n.get("url", ""))[:300])
        return nodes

    @cached_property
    def ld(self) -> dict[str, Any]:
        """The JSON-LD article node ({} when there is none)."""
        return self.ld_nodes[0] if self.ld_nodes else {}

    def ld_text(self, key: str) -> str:
        value = self.ld.get(key)
        return value if isinstance(value, str) else ""

    @cached_property
    def speakable(self) -> list[str]:
        """A SpeakableSpecification's values (CNA: the headline, then the description)."""
        for raw in self._scan[1]:
            data = _loads(raw)
            for node in _walk(data) if data is not None else []:
                if "SpeakableSpecification" in _types(node):
                    values = node.get("value")
                    if isinstance(values, list):
                        return [v for v in values if isinstance(v, str)]
        return []

    @cached_property
    def page_data(self) -> dict[str, Any]:
        """The article object in embedded page JSON ({} when none, or when it is ambiguous).

        The object is the dict with at least two article keys (title, body, times ...)
        that names this page's id; when none names it, the only such dict.
        """
        candidates: list[dict[str, Any]] = []
        for raw in self._scan[2]:
            data = _loads(raw)
            if data is None:
                continue
            for node in _walk(data):
                keys = {_fold(k) for k in node if isinstance(k, str)}
                if len(keys & _ARTICLE_KEYS) >= 2 and not (_types(node) & ARTICLE_TYPES):
                    candidates.append(node)
        if not candidates:
            return {}
        if self.ident:
            named = [
                n
                for n in candidates
                if any(isinstance(v, str | int) and self.ident in str(v) for v in n.values())
            ]
            if named:
                return named[0]
        return candidates[0] if len(candidates) == 1 else {}

    def page_value(self, field: str) -> Any:
        """The page data's value for ``field`` (first of its keys present), or None."""
        data = self.page_data
        if not data:
            return None
        folded = {_fold(k): v for k, v in data.items() if isinstance(k, str)}
        for key in PAGE_KEYS[field]:
            value = folded.get(key)
            if value not in (None, "", []):
                return value
        return None

    def page_text(self, field: str) -> str:
        value = self.page_value(field)
        if isinstance(value, dict):
            value = value.get("name") or value.get("title")
        return clean_caption(value) if isinstance(value, str) else ""

    @property
    def time_elements(self) -> list[etree._Element]:
        return self._scan[3]
