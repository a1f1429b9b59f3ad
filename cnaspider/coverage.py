"""Field coverage: which of an article's optional fields a parse found.

A field that quietly disappears from every article (a renamed class, a moved
block) is a layout change the refusal counts cannot see: each crawl counts, per
field, how many of its new or refetched articles had it, and the run is judged
against the recent history of those counts.
"""

from __future__ import annotations

from cnaspider.items import Article

# The fields whose loss coverage watches, in the order reports print them.
FIELDS = ("body", "image", "caption", "related", "tags", "modified", "reporters")


def fields_present(article: Article) -> dict[str, bool]:
    """For each of :data:`FIELDS`, whether ``article`` has it."""
    return {
        "body": bool(article.paragraphs),
        "image": article.image is not None,
        "caption": bool(article.image and article.image.caption),
        "related": bool(article.related),
        "tags": bool(article.tags),
        # A modified time the page stated (meta, JSON-LD or the update span), not the
        # published time standing in for it.
        "modified": article.ways.get("modified", "") not in ("", "published"),
        "reporters": bool(article.reporters),
    }
