"""The article item: everything parsed from one CNA article page."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Image:
    """A photo with its caption; ``src`` is the full-size CNA URL, never proxied."""

    src: str
    caption: str = ""
    alt: str = ""


@dataclass(frozen=True)
class RelatedLink:
    """One 延伸閱讀 link as the page shows it."""

    url: str
    title: str
    auto: bool = False


@dataclass(frozen=True)
class InlineImage:
    """An in-body photo placed after paragraph number ``after`` (0 = before the first)."""

    after: int
    image: Image


@dataclass(frozen=True)
class Disagreement:
    """Two or more sources of one field that said different things.

    ``sources`` names the ways (e.g. ``("h1", "json-ld-headline")``) and ``values`` holds
    what each said, shortened, in the same order. ``resolved`` is True when the field's
    agreement rule picked a value (``picked`` names the way that won); False when it could
    not, and the field was then refused or left missing, or is only suspect.
    """

    field: str
    sources: tuple[str, ...]
    values: tuple[str, ...]
    resolved: bool
    picked: str = ""
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "field": self.field,
            "sources": list(self.sources),
            "values": list(self.values),
            "resolved": self.resolved,
            "picked": self.picked,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Disagreement:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            field=str(data["field"]),
            sources=tuple(data.get("sources", ())),
            values=tuple(data.get("values", ())),
            resolved=bool(data.get("resolved")),
            picked=str(data.get("picked", "")),
            rule=str(data.get("rule", "")),
        )


@dataclass
class Article:
    """A parsed CNA article; the store keeps it as JSON and posts and feeds are views of it."""

    id: str
    url: str
    section: str
    title: str
    published: dt.datetime
    modified: dt.datetime
    paragraphs: list[str]
    image: Image | None = None
    inline_images: list[InlineImage] = field(default_factory=list)
    related: list[RelatedLink] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    dateline: str = ""
    reporters: list[str] = field(default_factory=list)
    editor: str = ""
    found_via: dict[str, Any] = field(default_factory=dict)
    # How each field was found: field name -> the name of the way that matched
    # (e.g. ``{"related": "heading-text"}``); a field that was not found has no key.
    # Not part of what a reader sees (see store.content_hash).
    ways: dict[str, str] = field(default_factory=dict)
    # Where the page's sources of a field disagreed (see parsing's agreement rules); like
    # ``ways``, not part of what a reader sees.
    disagreements: list[Disagreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (times as ISO 8601 strings), keys in field order.

        What ``dataclasses.asdict`` gives, built directly: asdict deep-copies every
        string on the way and cost as much as the rest of storing an article.
        """
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.update(
            published=self.published.isoformat(),
            modified=self.modified.isoformat(),
            paragraphs=list(self.paragraphs),
            image=dict(vars(self.image)) if self.image else None,
            inline_images=[
                {"after": i.after, "image": dict(vars(i.image))} for i in self.inline_images
            ],
            related=[dict(vars(link)) for link in self.related],
            tags=list(self.tags),
            reporters=list(self.reporters),
            found_via=copy.deepcopy(self.found_via),
            ways=dict(self.ways),
            disagreements=[d.to_dict() for d in self.disagreements],
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Rebuild an article from :meth:`to_dict` output."""
        data = dict(data)
        data["published"] = dt.datetime.fromisoformat(data["published"])
        data["modified"] = dt.datetime.fromisoformat(data["modified"])
        data["image"] = Image(**data["image"]) if data.get("image") else None
        data["inline_images"] = [
            InlineImage(after=i["after"], image=Image(**i["image"]))
            for i in data.get("inline_images", [])
        ]
        data["related"] = [RelatedLink(**r) for r in data.get("related", [])]
        data["disagreements"] = [Disagreement.from_dict(d) for d in data.get("disagreements", [])]
        return cls(**data)
