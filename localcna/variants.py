"""Real CNA pages rewritten into the forms reported for 2025–26, as test fixtures.

The forms: docs/cna-site.md#reports-from-2025-and-2026.

Nobody here has a raw 2025–26 page, so the parser is tested on the real 2018 and
2023 pages rewritten into each reported form: every variant is a named function
``html -> html`` that changes markup, never content, so a page and its variant
must parse to the same article. Variants compose (:func:`rewrite` applies several
in order) and can be served by the local CNA (:func:`apply_to_site`).

A new report becomes a new case in minutes: write a function that rewrites the
2023 markup into the reported one, register it with ``@variant("name")``, and
``tests/test_variants.py`` runs it on every real page, alone and combined.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable

import lxml.html
from lxml import etree

from localcna.sitemap import Page, Site

Rewrite = Callable[[lxml.html.HtmlElement], None]
# Name -> rewrite, in registration order.
VARIANTS: dict[str, Rewrite] = {}
# Variants that rewrite the same block differently and so cannot be combined.
EXCLUSIVE = (
    {"figure-lead", "figure-around-fullpic"},
    {"timeline-related", "renamed-related-class", "heading-list-related"},
    # Each rewrites the story paragraphs into another form.
    {"br-body", "wrapped-body"},
)
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def variant(name: str) -> Callable[[Rewrite], Rewrite]:
    """Register a rewrite of a parsed page (in place) under ``name``."""

    def register(fn: Rewrite) -> Rewrite:
        VARIANTS[name] = fn
        return fn

    return register


def rewrite(html: str, *names: str) -> str:
    """``html`` rewritten by the named variants, in order (no names: parsed and re-serialised)."""
    doc = lxml.html.document_fromstring(html)
    for name in names:
        VARIANTS[name](doc)
    doctype = doc.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    return doctype + "\n" + lxml.html.tostring(doc, encoding="unicode")


def compatible(names: tuple[str, ...]) -> bool:
    """False when two of ``names`` rewrite the same block in different ways."""
    return all(len(group & set(names)) <= 1 for group in EXCLUSIVE)


def apply_to_site(site: Site, *names: str) -> Site:
    """Rewrite every article page of a local CNA site in place; returns the site."""
    for path, page in list(site.pages.items()):
        if path.startswith("/news/") and page.status == 200:
            html = page.body.decode("utf-8", errors="replace")
            if "centralContent" in html:
                site.pages[path] = Page(
                    rewrite(html, *names).encode("utf-8"), page.status, page.content_type
                )
    return site


# --- helpers -------------------------------------------------------------------


def _cls(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _find(node: etree._Element, xpath: str) -> list[lxml.html.HtmlElement]:
    return list(node.xpath(xpath))


def _central(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    found = _find(doc, f"//div[{_cls('centralContent')}]")
    return found[0] if found else None


def _body(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    found = _find(doc, f"//div[{_cls('centralContent')}]//div[normalize-space(@class)='paragraph']")
    return found[0] if found else None


def _related_block(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The 延伸閱讀 block, as the 2023 page has it or as a variant here has rewritten it."""
    found = _find(
        doc,
        f"//div[{_cls('moreArticle')} and not({_cls('flexhalf')})]"
        f" | //div[{_cls('relatedNews')}] | //section[h2='相關新聞']",
    )
    return found[0] if found else None


def _related_links(block: lxml.html.HtmlElement) -> list[tuple[str, str, str]]:
    """(href, title, class) of each 延伸閱讀 link as the 2023 markup has them.

    The class keeps ``autoTag`` (a link CNA chose automatically), which posts show.
    """
    return [
        (
            a.get("href", ""),
            a.text_content().strip(),
            "autoTag" if "autoTag" in a.get("class", "") else "",
        )
        for a in _find(block, f".//a[{_cls('moreArticle-link')}]")
    ]


def _el(tag: str, cls: str = "", text: str = "", **attrs: str) -> lxml.html.HtmlElement:
    el = lxml.html.Element(tag)
    if cls:
        el.set("class", cls)
    for key, value in attrs.items():
        el.set(key.replace("_", "-"), value)
    if text:
        el.text = text
    return el


def _figure_from(block: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A 2025–26 ``figure.floatImg.center > picture + figcaption`` from a 2023 floatImg block."""
    figure = _el("figure", "floatImg center")
    picture = next(iter(_find(block, ".//picture")), None)
    if picture is not None:
        wrap = picture.getparent()
        style = wrap.get("style") if wrap is not None else None
        picture = copy.deepcopy(picture)
        picture.tail = None
        if style:
            picture.set("style", style)
        figure.append(picture)
    else:
        for img in _find(block, ".//img"):
            img = copy.deepcopy(img)
            img.tail = None
            figure.append(img)
    caption = next(iter(_find(block, f".//*[{_cls('picinfo')}]")), None)
    if caption is not None:
        figure.append(_el("figcaption", text=caption.text_content()))
    return figure


def _replace(old: lxml.html.HtmlElement, new: lxml.html.HtmlElement) -> None:
    new.tail = old.tail
    parent = old.getparent()
    assert parent is not None
    parent.replace(old, new)


# --- lead photo ------------------------------------------------------------------


@variant("figure-lead")
def figure_lead(doc: lxml.html.HtmlElement) -> None:
    """``div.fullPic > figure.floatImg.center > picture(style) > source + img`` + figcaption."""
    for full in _find(doc, f"//div[{_cls('fullPic')}]"):
        inner = next(iter(_find(full, f"./div[{_cls('floatImg')}] | ./div")), None)
        if inner is not None:
            _replace(inner, _figure_from(inner))


@variant("figure-around-fullpic")
def figure_around_fullpic(doc: lxml.html.HtmlElement) -> None:
    """One source's nesting: ``figure.floatImg > div.fullPic > picture``, figcaption in the figure."""
    for full in _find(doc, f"//div[{_cls('fullPic')}]"):
        figure = _figure_from(full)
        caption = figure.find("figcaption")
        inner = _el("div", "fullPic")
        for child in list(figure):
            if child.tag != "figcaption":
                inner.append(child)
        figure.insert(0, inner)
        if caption is not None:
            figure.append(caption)
        _replace(full, figure)


@variant("lazy-images")
def lazy_images(doc: lxml.html.HtmlElement) -> None:
    """Lazy photos: a ``data:`` placeholder ``src``, the real URLs in ``data-src`` / ``data-srcset``."""
    central = _central(doc)
    if central is None:
        return
    for img in _find(central, ".//img"):
        src, srcset = img.get("src"), img.get("srcset")
        if src and not src.startswith("data:"):
            img.set("data-src", src)
        if srcset:
            img.set("data-srcset", srcset)
            del img.attrib["srcset"]
        img.set("src", PLACEHOLDER)
        img.set("class", ((img.get("class") or "") + " lazyload").strip())
    for source in _find(central, ".//source[@srcset]"):
        source.set("data-srcset", source.get("srcset", ""))
        del source.attrib["srcset"]


@variant("figure-inline-images")
def figure_inline_images(doc: lxml.html.HtmlElement) -> None:
    """In-body photos as ``figure.floatImg`` children of the body div instead of ``div.media``."""
    body = _body(doc)
    if body is None:
        return
    for media in _find(body, f"./div[{_cls('media')}][.//img]"):
        _replace(media, _figure_from(media))


@variant("figure-in-paragraph")
def figure_in_paragraph(doc: lxml.html.HtmlElement) -> None:
    """In-body photos nested inside the paragraph before them (a figure inside a <p>)."""
    body = _body(doc)
    if body is None:
        return
    for media in _find(body, f"./div[{_cls('media')}][.//img]"):
        before = media.getprevious()
        while before is not None and before.tag != "p":
            before = before.getprevious()
        if before is None:
            continue
        figure = _figure_from(media)
        media.drop_tree()
        before.append(figure)


# --- 延伸閱讀 ----------------------------------------------------------------------


@variant("timeline-related")
def timeline_related(doc: lxml.html.HtmlElement) -> None:
    """The block as a related-news timeline, no heading: ``div.topicTheme > ul.timeline > li``."""
    block = _related_block(doc)
    if block is None:
        return
    links = _related_links(block)
    for child in list(block):
        block.remove(child)
    block.text = None
    theme = _el("div", "topicTheme")
    timeline = _el("ul", "timeline")
    for href, title, cls in links:
        item = _el("li", "timelineItem")
        heading = _el("div", "timelineTitle")
        heading.append(_el("a", cls, text=title, href=href))
        item.append(heading)
        item.append(_el("div", "timelineDate", text="2025/09/23"))
        timeline.append(item)
    theme.append(timeline)
    block.append(theme)


@variant("renamed-related-class")
def renamed_related_class(doc: lxml.html.HtmlElement) -> None:
    """The block's classes renamed (no ``moreArticle`` left); only its 延伸閱讀 heading says what it is."""
    block = _related_block(doc)
    if block is None:
        return
    block.set("class", "paragraph relatedNews")
    for el in block.iter():
        cls = el.get("class")
        if cls and "moreArticle" in cls:
            el.set("class", cls.replace("moreArticle", "relatedNews"))


@variant("heading-list-related")
def heading_list_related(doc: lxml.html.HtmlElement) -> None:
    """A plain list under an ``h2`` 相關新聞 in a classless section, links without spans."""
    block = _related_block(doc)
    if block is None:
        return
    section = _el("section")
    section.append(_el("h2", text="相關新聞"))
    items = _el("ul")
    for href, title, cls in _related_links(block):
        li = _el("li")
        li.append(_el("a", cls, text=title, href=href))
        items.append(li)
    section.append(items)
    _replace(block, section)


@variant("relative-related-hrefs")
def relative_related_hrefs(doc: lxml.html.HtmlElement) -> None:
    """延伸閱讀 hrefs relative to the site (``/news/…``), as list hrefs have been since 2024."""
    block = _related_block(doc)
    if block is None:
        return
    for a in _find(block, ".//a[@href]"):
        a.set("href", re.sub(r"^https?://(?:www\.)?cna\.com\.tw", "", a.get("href", "")))


@variant("no-related")
def no_related(doc: lxml.html.HtmlElement) -> None:
    """The 延伸閱讀 block removed (the per-keyword lists and in-body inserts stay)."""
    block = _related_block(doc)
    if block is not None:
        block.drop_tree()


# --- tags, times -----------------------------------------------------------------


@variant("tags-without-wrapper")
def tags_without_wrapper(doc: lxml.html.HtmlElement) -> None:
    """``div.articlekeywordGroup > a`` (#-prefixed) without a ``div.keywordTag`` per link."""
    for wrapper in _find(doc, f"//div[{_cls('articlekeywordGroup')}]/div[{_cls('keywordTag')}]"):
        wrapper.drop_tag()


@variant("no-updatetime")
def no_updatetime(doc: lxml.html.HtmlElement) -> None:
    """No ``div.updatetime`` (nobody mentions it any more); the metas state the times."""
    for box in _find(doc, f"//div[{_cls('updatetime')}]"):
        box.drop_tree()


# --- clutter -----------------------------------------------------------------------


@variant("new-clutter")
def new_clutter(doc: lxml.html.HtmlElement) -> None:
    """The 2025–26 clutter: support button by the title, LINE ad and dictionary pop-up in the
    body, a Gmail box, and the next-article teaser after the article."""
    central = _central(doc)
    body = _body(doc)
    if central is None or body is None:
        return
    h1 = central.find(".//h1")
    if h1 is not None:
        group = _el("div", "btnGroup")
        box = _el("div", "articleTopBtnBox")
        button = _el("a", "btn_support", href="/support/index.aspx")
        button.append(_el("span", text="贊助支持"))
        box.append(button)
        group.append(box)
        h1.addnext(group)
    paragraphs = body.findall("p")
    if paragraphs:
        line_ad = _el("div", "lineAd")
        line_ad.append(_el("a", text="加入中央社LINE好友", href="https://line.me/R/ti/p/@cna"))
        paragraphs[0].addnext(line_ad)
        word = _el("span", "dictionary-box", text="名詞解釋：這是詞典說明")
        paragraphs[-1].insert(0, word)
        word.tail = paragraphs[-1].text
        paragraphs[-1].text = None
        gmail = _el("div", "gmailNews")
        gmail.append(_el("a", text="訂閱電子報", href="https://www.cna.com.tw/newsletter"))
        paragraphs[-1].addnext(gmail)
    teaser = _el("div", "jsNextLine nextline")
    teaser.append(_el("div", "nextlineTitle", text="請繼續下滑閱讀"))
    link = _el("a", href="https://www.cna.com.tw/news/aipl/202308230001.aspx")
    link.append(_el("h1", text="下一篇新聞標題"))
    teaser.append(link)
    body.addnext(teaser)


@variant("support-button-in-h1")
def support_button_in_h1(doc: lxml.html.HtmlElement) -> None:
    """The support button inside the headline itself, after its span."""
    central = _central(doc)
    h1 = central.find(".//h1") if central is not None else None
    if h1 is None:
        return
    group = _el("div", "btnGroup")
    box = _el("div", "articleTopBtnBox")
    box.append(_el("a", "btn_support", text="贊助支持", href="/support/index.aspx"))
    group.append(box)
    h1.append(group)


# --- times only in the id (way drift, issue 18) ------------------------------------

_LD_TIME_KEYS = ("datePublished", "dateModified", "dateCreated")
_TIME_METAS = (
    "//meta[@property='article:published_time' or @property='article:modified_time'"
    " or @itemprop='datePublished' or @itemprop='dateModified' or @itemprop='dateCreated']"
)


def _without_ld_times(text: str) -> str:
    """JSON-LD text without its date keys (at any depth); unreadable JSON by pattern."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _LD_TIME_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    try:
        return json.dumps(strip(json.loads(text)), ensure_ascii=False)
    except ValueError:
        keys = "|".join(_LD_TIME_KEYS)
        return re.sub(rf'"(?:{keys})"\s*:\s*"[^"]*"\s*,?', "", text)


def _epoch(stamp: str) -> int:
    """Seconds since 1970 of a page's time (Taipei when it names no zone); 0 if unreadable."""
    try:
        when = dt.datetime.fromisoformat(stamp.replace("/", "-"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return int(when.timestamp())


@variant("times-client-side")
def times_client_side(doc: lxml.html.HtmlElement) -> None:
    """The times rendered in the browser: no time metas or JSON-LD dates, and the time box an
    empty placeholder that a script fills from an epoch. No HTML parser reads a script, so
    only the date in the article id is left: the published time becomes midnight of that
    day, and the page no longer says when it was published (a fact lost, as no-related)."""
    published = "//meta[@property='article:published_time' or @itemprop='datePublished']/@content"
    stamp = next(iter(_find(doc, published)), "")
    for meta in _find(doc, _TIME_METAS):
        meta.drop_tree()
    for script in _find(doc, "//script[@type='application/ld+json']"):
        script.text = _without_ld_times(script.text or "")
    for box in _find(doc, f"//div[{_cls('timeBox')}]"):
        for child in list(box):
            box.remove(child)
        box.text = None
        box.append(_el("div", "updatetime", id="jsUpdateTime"))
        box.append(_el("script", text=f"renderTime('jsUpdateTime', {_epoch(str(stamp))});"))


# --- issue 18: forms nobody reported, each a class of redesign ----------------------------


def _story(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The story paragraphs: the <p> children of the body div (at any depth once wrapped)."""
    body = _body(doc)
    return _find(body, ".//p") if body is not None else []


def _times(doc: lxml.html.HtmlElement) -> tuple[str, str]:
    """(published, modified) as ISO 8601, from the metas (2023) or the itemprops (2018)."""
    found = []
    for prop, item in (("published", "datePublished"), ("modified", "dateModified")):
        value = next(iter(_find(doc, f"//meta[@property='article:{prop}_time']/@content")), "")
        if not value:
            raw = next(iter(_find(doc, f"//meta[@itemprop='{item}']/@content")), "")
            match = re.match(r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2})", raw)
            if match:
                y, mo, d, h, mi = map(int, match.groups())
                value = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00+08:00"
        found.append(str(value))
    return found[0], found[1] or found[0]


def _drop_stated_times(doc: lxml.html.HtmlElement) -> None:
    """Every time the head states (metas, itemprops, JSON-LD) removed."""
    for meta in _find(
        doc,
        "//meta[@property='article:published_time' or @property='article:modified_time'"
        " or @itemprop='datePublished' or @itemprop='dateModified']",
    ):
        meta.drop_tree()
    for script in _find(doc, "//script[@type='application/ld+json']"):
        script.text = re.sub(r'"date(?:Published|Modified)":"[^"]*",?', "", script.text or "")


def _time_box(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The visible time box, made if a variant before removed it."""
    boxes = _find(doc, f"//div[{_cls('updatetime')}]")
    if boxes:
        return boxes[0]
    central = _central(doc)
    h1 = central.find(".//h1") if central is not None else None
    if h1 is None:
        return None
    box = _el("div", "updatetime")
    h1.addnext(box)
    return box


@variant("br-body")
def br_body(doc: lxml.html.HtmlElement) -> None:
    """The story as text runs split by ``<br><br>`` in one block, no <p> at all."""
    paragraphs = _story(doc)
    if not paragraphs:
        return
    block = _el("div", "articleText")
    paragraphs[0].addprevious(block)
    for i, p in enumerate(paragraphs):
        if i:
            block.append(_el("br"))
            block.append(_el("br"))
        last = block[-1] if len(block) else None
        if last is None:
            block.text = (block.text or "") + (p.text or "")
        else:
            last.tail = (last.tail or "") + (p.text or "")
        for child in list(p):
            block.append(child)
        p.drop_tree()


@variant("wrapped-body")
def wrapped_body(doc: lxml.html.HtmlElement) -> None:
    """Each paragraph in a div of its own, and the body in one more section."""
    body = _body(doc)
    if body is None:
        return
    for p in _story(doc):
        wrap = _el("div", "textBlock")
        p.addprevious(wrap)
        wrap.append(p)
    section = _el("section", "articleBody")
    for child in list(body):
        section.append(child)
    section.text, body.text = body.text, None
    body.append(section)


@variant("renamed-body-div")
def renamed_body_div(doc: lxml.html.HtmlElement) -> None:
    """The body div renamed (no class ``paragraph``): only its dateline and editor line say so."""
    body = _body(doc)
    if body is not None:
        body.set("class", "article-body")


@variant("times-in-time-element")
def times_in_time_element(doc: lxml.html.HtmlElement) -> None:
    """No time in the head; the box holds ``<time datetime>`` elements instead of spans."""
    published, modified = _times(doc)
    box = _time_box(doc)
    if box is None or not published:
        return
    _drop_stated_times(doc)
    for child in list(box):
        box.remove(child)
    box.text = None
    box.set("class", "updatetime")
    box.append(_el("time", "publish", text="發布", datetime=published))
    if modified != published:
        box.append(_el("time", "updated", text="更新", datetime=modified))


@variant("times-in-page-json")
def times_in_page_json(doc: lxml.html.HtmlElement) -> None:
    """The head's times moved into a framework's page data (``__NEXT_DATA__``), epoch ms."""
    import datetime as dt
    import json

    published, modified = _times(doc)
    canonical = next(iter(_find(doc, "//link[@rel='canonical']/@href")), "")
    ident = re.search(r"(\d{12})", str(canonical))
    if not published or not ident:
        return
    _drop_stated_times(doc)

    def epoch(value: str) -> int:
        return int(dt.datetime.fromisoformat(value).timestamp() * 1000)

    data = {
        "props": {
            "pageProps": {
                "news": {
                    "newsId": ident.group(1),
                    "publishTime": epoch(published),
                    "updateTime": epoch(modified),
                }
            }
        }
    }
    script = _el("script", id="__NEXT_DATA__", type="application/json")
    script.text = json.dumps(data)
    body = doc.find("body")
    if body is not None:
        body.append(script)


@variant("ld-graph")
def ld_graph(doc: lxml.html.HtmlElement) -> None:
    """JSON-LD as an ``@graph`` whose article node is nested under a WebPage."""
    import json

    for script in _find(doc, "//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        nodes = data if isinstance(data, list) else [data]
        page = {"@type": "WebPage", "mainEntity": nodes[0]}
        graph = {"@context": "https://schema.org", "@graph": [page, *nodes[1:]]}
        script.text = json.dumps(graph, ensure_ascii=False)


@variant("utc-times")
def utc_times(doc: lxml.html.HtmlElement) -> None:
    """Head times in UTC (``Z``) instead of +08:00: the same instants."""
    import datetime as dt

    def to_utc(value: str) -> str:
        try:
            return (
                dt.datetime.fromisoformat(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        except ValueError:
            return value

    for meta in _find(
        doc, "//meta[starts-with(@property, 'article:') and contains(@property, '_time')]"
    ):
        meta.set("content", to_utc(meta.get("content", "")))
    for script in _find(doc, "//script[@type='application/ld+json']"):
        script.text = re.sub(
            r'("date(?:Published|Modified)":")([^"]+)',
            lambda m: m.group(1) + to_utc(m.group(2)),
            script.text or "",
        )


@variant("h1-decorations")
def h1_decorations(doc: lxml.html.HtmlElement) -> None:
    """A kicker, a badge and an icon inside the headline, around its span."""
    central = _central(doc)
    h1 = central.find(".//h1") if central is not None else None
    if h1 is None:
        return
    if h1.find("span") is None:
        span = _el("span", text=h1.text or "")
        h1.text = None
        h1.insert(0, span)
    h1.insert(0, _el("span", "kicker", text="焦點"))
    h1.append(_el("span", "badge", text="獨家"))
    icon = _el("img", "icon", src="https://imgcdn.cna.com.tw/www/images/icon_live.svg", alt="")
    h1.append(icon)


@variant("related-link-forms")
def related_link_forms(doc: lxml.html.HtmlElement) -> None:
    """延伸閱讀 hrefs in every ordinary form: protocol-relative, m. or bare host, no .aspx,
    tracking queries, fragments, an upper-case scheme."""
    block = _related_block(doc)
    if block is None:
        return
    forms = (
        lambda path: "//www.cna.com.tw" + path.removesuffix(".aspx"),
        lambda path: "https://m.cna.com.tw" + path + "?utm_source=rel&topic=4210",
        lambda path: "HTTPS://cna.com.tw" + path.removesuffix(".aspx") + "#top",
        lambda path: path + "?from=related",
    )
    for i, a in enumerate(_find(block, ".//a[@href]")):
        path = re.sub(r"^(?:https?:)?//(?:www\.|m\.)?cna\.com\.tw", "", a.get("href", ""))
        if path.startswith("/news/"):
            a.set("href", forms[i % len(forms)](path))


@variant("sponsored-related")
def sponsored_related(doc: lxml.html.HtmlElement) -> None:
    """Sponsored and advertising items among the 延伸閱讀 links, each linking to a CNA URL."""
    block = _related_block(doc)
    links = _find(block, ".//a[@href]") if block is not None else []
    if not links:
        return
    last = links[-1]
    items = [
        _el("a", href="https://www.cna.com.tw/news/aopl/202301010001.aspx", rel="sponsored"),
        _el("a", "adslot-native", href="/news/afe/202301010002.aspx"),
        _el("a", href="https://www.cna.com.tw/news/ait/202301010003.aspx"),
    ]
    items[0].append(_el("span", text="合作推廣的旅遊行程"))
    items[1].append(_el("span", text="原生內容標題"))
    items[2].append(_el("span", text="新品上市"))
    items[2].append(_el("span", "label", text="廣告"))
    for item in reversed(items):
        last.addnext(item)


@variant("inline-non-body")
def inline_non_body(doc: lxml.html.HtmlElement) -> None:
    """Non-story blocks among the paragraphs: a headed 更多新聞 list, a label paragraph with
    its link, a video card and a newsletter box without its known class."""
    paragraphs = _story(doc)
    if len(paragraphs) < 2:
        return
    more = _el("div", "newsBox")
    more.append(_el("h3", text="更多新聞"))
    items = _el("ul")
    for n in (1, 2):
        li = _el("li")
        li.append(_el("a", text=f"其他新聞標題{n}", href=f"/news/aipl/20230823000{n}.aspx"))
        items.append(li)
    more.append(items)
    paragraphs[0].addnext(more)
    label = _el("p", text="相關影音")
    watch = _el("p")
    watch.append(_el("a", text="影音新聞標題", href="https://www.cna.com.tw/video/123.aspx"))
    more.addnext(label)
    label.addnext(watch)
    card = _el("div", "videoCard")
    card.append(_el("iframe", src="https://www.youtube.com/embed/x"))
    card.append(_el("p", text="影片來源：中央社"))
    paragraphs[-2].addnext(card)
    box = _el("div", "newsletter-signup")
    box.append(_el("p", text="訂閱電子報，每天掌握重要新聞。"))
    box.append(_el("input", type="email", placeholder="email"))
    paragraphs[-1].addprevious(box)


@variant("scriptish-in-body")
def scriptish_in_body(doc: lxml.html.HtmlElement) -> None:
    """Script-ish content inside and between paragraphs: script, a noscript tracking pixel,
    template, iframe, object, a comment, hidden spans and hidden paragraphs."""
    paragraphs = _story(doc)
    if len(paragraphs) < 2:
        return
    first, second = paragraphs[0], paragraphs[1]
    script = _el("script", text="window.dataLayer.push({'event': 'read'});")
    noscript = _el("noscript")
    noscript.append(_el("img", src="https://track.example/pixel.gif", width="1", height="1"))
    hidden = _el("span", text="隱藏文字", style="display:none")
    for el in (script, noscript, hidden):
        first.append(el)
    template = _el("template")
    template.append(_el("b", text="模板文字"))
    frame = _el("iframe", text="框架文字", src="https://ads.example/")
    thing = _el("object", text="外掛文字", data="x.swf")
    for el in (template, frame, thing):
        second.insert(0, el)
    second.insert(0, etree.Comment(" tracking "))
    el_text = second.text
    second.text = None
    thing.tail = el_text
    first.addnext(_el("p", text="隱藏段落不該出現", hidden="hidden"))
    second.addnext(_el("p", "sr-only", text="螢幕閱讀器專用文字"))
