"""延伸閱讀: the links a story recommends.

Ways: ``more-article-class`` (div.moreArticle, not .flexhalf), ``heading-text`` (the
block under a 延伸閱讀 / 相關新聞 heading). Either way only links that normalise to CNA
article URLs (any ordinary form: relative, protocol-relative, m. or bare host, with or
without .aspx, tracking queries, fragments), in page order, one per id, never the page
itself, never a sponsored or advertising item (``rel=sponsored``, ad or sponsor classes,
廣告 / 贊助 / 特約 markers).

Checks (recorded as disagreements): a block that was found but gave no readable link,
and a block with more links than any 延伸閱讀 CNA shows (another widget): both leave
the field missing, unresolved.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from cnaspider.extraction import selectors as sel
from cnaspider.extraction.body import is_clutter, is_hidden
from cnaspider.extraction.items import RelatedLink
from cnaspider.extraction.text import classes, clean_caption, text_content
from cnaspider.extraction.urls import article_link

# CNA shows 0 to 5 延伸閱讀 links (docs/cna-site.md#延伸閱讀); a block with many more is
# another widget.
MAX_RELATED = 8


def _inside(
    el: etree._Element, stop: etree._Element, test: Callable[[etree._Element], bool]
) -> bool:
    """Whether an ancestor of ``el`` below ``stop`` has a class and passes ``test``."""
    for ancestor in el.iterancestors():
        if ancestor is stop:
            return False
        if ancestor.get("class") and test(ancestor):
            return True
    return False


def in_clutter(el: etree._Element, central: etree._Element) -> bool:
    """Whether ``el`` sits in a clutter block (below div.centralContent)."""
    return _inside(el, central, is_clutter)


def is_heading(el: etree._Element) -> bool:
    """Whether one of ``el``'s own texts is a 延伸閱讀 heading (nothing else, bar a colon)."""
    texts = [el.text, *(child.tail for child in el)]
    return any(
        text and "".join(text.split()).strip("：:") in sel.RELATED_HEADINGS for text in texts
    )


def not_related(el: etree._Element, central: etree._Element) -> bool:
    """Whether a link (or heading) in a related block belongs to something else."""
    if el.tag == "a" and sel.RELATED_INSERT_CLASS in classes(el):
        return True
    return _inside(
        el, central, lambda a: not sel.NOT_RELATED_CONTAINER_CLASSES.isdisjoint(classes(a))
    )


def sponsored(a: etree._Element, block: etree._Element | None) -> bool:
    """Whether a link is an advertising or sponsored item rather than further reading.

    The link and the elements around it that hold no other link (its item: an ``li``, a
    card) are checked for ``rel=sponsored``, ad or sponsor classes and attributes, hidden
    markup, and a 廣告 / 贊助 / PR label.
    """
    rel = (a.get("rel") or "").lower()
    if "sponsored" in rel:
        return True
    node: etree._Element | None = a
    while node is not None and node is not block:
        if node is not a and len(sel.BLOCK_LINKS(node)) > 1:
            break  # the list holding other items too: not this item's own markup
        cls = node.get("class")
        if (cls and sel.SPONSORED_CLASS.search(cls)) or is_hidden(node):
            return True
        if node.get("data-ad") is not None or node.get("data-sponsored") is not None:
            return True
        if node is not a:
            label = text_content(node)
            if len(label) < 200 and any(m in label for m in sel.SPONSORED_TEXT):
                return True
        node = node.getparent()
    title = text_content(a)
    return any(m in title for m in sel.SPONSORED_TEXT[:4])


def first_alt(a: etree._Element) -> str:
    """The alt text of a link's first image (an image-only card's title)."""
    return next((img.get("alt", "") for img in a.iter("img") if img.get("alt")), "")


def article_links(
    anchors: list[etree._Element],
    page_url: str,
    central: etree._Element,
    block: etree._Element | None = None,
    self_id: str = "",
) -> tuple[list[RelatedLink], int]:
    """The CNA article links among ``anchors`` (page order, one per id, titled by link
    text), and how many were left out as sponsored."""
    links: list[RelatedLink] = []
    index: dict[str, int] = {}
    ads = 0
    for a in anchors:
        if not_related(a, central):
            continue
        link = article_link(a.get("href", ""), page_url)
        if link is None or link[1] == self_id:
            continue
        url, ident = link
        if sponsored(a, block):
            ads += 1
            continue
        title = (
            clean_caption(sel.RELATED_TITLE(a))
            or clean_caption(text_content(a))
            or clean_caption(a.get("title") or a.get("aria-label") or "")
            or clean_caption(first_alt(a))
        )
        if ident in index:
            # An image link and a text link to one story: keep the first, with a title.
            if title and not links[index[ident]].title:
                links[index[ident]] = RelatedLink(url=links[index[ident]].url, title=title)
            continue
        index[ident] = len(links)
        links.append(RelatedLink(url=url, title=title, auto="autoTag" in classes(a)))
    return links, ads


def links_under_heading(heading: etree._Element, central: etree._Element) -> list[etree._Element]:
    """The links that follow a 延伸閱讀 heading in its block, nearest level first.

    From the heading up (at most three levels, never past div.centralContent),
    the heading's following siblings until the next heading or body paragraph.
    """
    branch = heading
    for _ in range(3):
        if branch is central or branch.getparent() is None:
            break
        anchors: list[etree._Element] = []
        for sibling in branch.itersiblings():
            if not isinstance(sibling.tag, str):
                continue  # a comment
            if sibling.tag in sel.BLOCK_END_TAGS or any(
                is_heading(h) for h in sel.RELATED_HEADING(sibling)
            ):
                break
            if is_clutter(sibling):
                continue
            anchors += [sibling] if sibling.tag == "a" else sel.BLOCK_LINKS(sibling)
        if anchors:
            return anchors
        branch = branch.getparent()
    return []


def parse_related(
    central: etree._Element, page_url: str, self_id: str, may_have_class: Callable[[], bool]
) -> tuple[list[RelatedLink], str, str]:
    """(links, way, problem): problem is "" or why the block found was not read."""
    blocks = [b for b in sel.RELATED_BLOCK(central, may_have_class) if not _titled_otherwise(b)]
    problem = ""
    if blocks:
        anchors = sel.BLOCK_LINKS(blocks[0])
        links, _ = article_links(anchors, page_url, central, blocks[0], self_id)
        if links:
            return _checked(links, "more-article-class")
        anchors = anchors or sel.ANY_LINK(blocks[0])  # links without href (script-driven)
        if anchors:
            problem = f"div.moreArticle has {len(anchors)} link(s), none a CNA article"
    text = sel.TEXT(central)
    if not any(heading in text for heading in sel.RELATED_HEADINGS):
        return [], "", problem  # a tenth of the cost of looking for the heading's element
    for heading in sel.RELATED_HEADING(central):
        if not is_heading(heading) or not_related(heading, central) or in_clutter(heading, central):
            continue
        anchors = links_under_heading(heading, central)
        links, _ = article_links(anchors, page_url, central, heading.getparent(), self_id)
        if links:
            return _checked(links, "heading-text")
        if not anchors and heading.getparent() is not None:
            anchors = [a for a in sel.ANY_LINK(heading.getparent()) if a.get("href") is None]
        if anchors and not problem:
            problem = f"the 延伸閱讀 heading has {len(anchors)} link(s), none a CNA article"
    return [], "", problem


def _titled_otherwise(block: etree._Element) -> bool:
    """Whether a block's title (text before its first link) names something other than
    延伸閱讀: a per-keyword list whose .flexhalf class was renamed, say."""
    title = []
    for el in block.iter():
        if el.tag == "a":
            break
        if el is not block and not isinstance(el.tag, str):
            continue
        title.append(el.text or "")
        if el is not block:
            title.append(el.tail or "")
    text = "".join("".join(title).split()).strip("：:")
    return bool(text) and text not in sel.RELATED_HEADINGS


def _checked(links: list[RelatedLink], way: str) -> tuple[list[RelatedLink], str, str]:
    if len(links) > MAX_RELATED:
        return [], "", f"{way} found {len(links)} links: another widget, not 延伸閱讀"
    return links, way, ""
