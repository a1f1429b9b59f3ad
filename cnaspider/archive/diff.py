"""What changed between two versions of an article, for people.

:func:`compare` lists the changes a reader could see (title, paragraphs,
photos and captions, 延伸閱讀, tags, the published time), each changed line
with its inserted and deleted text marked; :func:`render_text` prints them for
a terminal (``[-deleted-]{+inserted+}``, as wdiff does) and :func:`render_html`
for the site and the edits feed: each changed line twice, ``舊：`` with its
deleted text in ``<del>`` and ``新：`` with its inserted text in ``<ins>``, so
the diff is marked where HTML is shown and still reads right with every tag
stripped (text feed readers, screen readers that do not announce ``<del>``).
Pure functions: no I/O.
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import re
from dataclasses import dataclass

from cnaspider.archive.coverage import fields_present
from cnaspider.extraction.items import Article, Image

_TAG = re.compile(r"<[^>]+>")
# Below this similarity two paragraphs at the same place are one removed and one added,
# not one changed: marking every character of a rewrite helps nobody.
_SAME_PARAGRAPH = 0.4

TITLE = "title"
PUBLISHED = "published"
PARAGRAPH_ADDED = "paragraph added"
PARAGRAPH_REMOVED = "paragraph removed"
PARAGRAPH_CHANGED = "paragraph changed"
PHOTO_ADDED = "photo added"
PHOTO_REMOVED = "photo removed"
PHOTO_REPLACED = "photo replaced"
CAPTION_CHANGED = "caption changed"
RELATED_ADDED = "related link added"
RELATED_REMOVED = "related link removed"
RELATED_RETITLED = "related link retitled"
TAG_ADDED = "tag added"
TAG_REMOVED = "tag removed"

# How the site and the edits feed name each kind of change.
LABELS = {
    TITLE: "標題",
    PUBLISHED: "發布時間",
    PARAGRAPH_ADDED: "新增段落",
    PARAGRAPH_REMOVED: "刪除段落",
    PARAGRAPH_CHANGED: "修改段落",
    PHOTO_ADDED: "新增照片",
    PHOTO_REMOVED: "移除照片",
    PHOTO_REPLACED: "更換照片",
    CAPTION_CHANGED: "圖說",
    RELATED_ADDED: "延伸閱讀新增",
    RELATED_REMOVED: "延伸閱讀移除",
    RELATED_RETITLED: "延伸閱讀標題",
    TAG_ADDED: "新增標籤",
    TAG_REMOVED: "移除標籤",
}
# The short list of what an edit touched ("標題、內文、照片"), in this order.
_AREAS = {
    TITLE: "標題",
    PUBLISHED: "發布時間",
    PARAGRAPH_ADDED: "內文",
    PARAGRAPH_REMOVED: "內文",
    PARAGRAPH_CHANGED: "內文",
    PHOTO_ADDED: "照片",
    PHOTO_REMOVED: "照片",
    PHOTO_REPLACED: "照片",
    CAPTION_CHANGED: "圖說",
    RELATED_ADDED: "延伸閱讀",
    RELATED_REMOVED: "延伸閱讀",
    RELATED_RETITLED: "延伸閱讀",
    TAG_ADDED: "標籤",
    TAG_REMOVED: "標籤",
}


@dataclass(frozen=True)
class Segment:
    """A run of text that is the same in both versions, or only in the old/new one."""

    op: str  # "equal", "delete" or "insert"
    text: str


@dataclass(frozen=True)
class Change:
    """One visible change; ``segments`` mark the text within a changed line."""

    kind: str
    before: str = ""
    after: str = ""
    segments: tuple[Segment, ...] = ()
    number: int = 0  # paragraph number (1-based) in the version that has it
    # What ``before``/``after`` name, when it has an address: a photo (its caption
    # is the text) or a 延伸閱讀 link (its title is the text).
    before_url: str = ""
    after_url: str = ""


def visible_text(fragment: str) -> str:
    """The text of a paragraph's inline HTML, as a reader sees it."""
    return html.unescape(_TAG.sub("", fragment)).strip()


def inline_diff(before: str, after: str) -> tuple[Segment, ...]:
    """Character-level diff (CNA's text has no spaces between words)."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    segments: list[Segment] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(Segment("equal", before[a1:a2]))
            continue
        if op in ("delete", "replace"):
            segments.append(Segment("delete", before[a1:a2]))
        if op in ("insert", "replace"):
            segments.append(Segment("insert", after[b1:b2]))
    return tuple(segments)


def _changed(kind: str, before: str, after: str, number: int = 0) -> Change:
    return Change(kind, before, after, inline_diff(before, after), number)


def _paragraph_changes(old: list[str], new: list[str]) -> list[Change]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    changes: list[Change] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = list(range(a1, a2)), list(range(b1, b2))
        if op == "replace":
            while olds and news:
                i, j = olds[0], news[0]
                ratio = difflib.SequenceMatcher(None, old[i], new[j], autojunk=False).ratio()
                if ratio < _SAME_PARAGRAPH:
                    break
                changes.append(_changed(PARAGRAPH_CHANGED, old[i], new[j], j + 1))
                olds.pop(0)
                news.pop(0)
        changes += [Change(PARAGRAPH_REMOVED, before=old[i], number=i + 1) for i in olds]
        changes += [Change(PARAGRAPH_ADDED, after=new[j], number=j + 1) for j in news]
    return changes


def _photo_changes(old: Image | None, new: Image | None) -> list[Change]:
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [Change(PHOTO_ADDED, after=_photo_name(new), after_url=new.src)]
    if new is None:
        return [Change(PHOTO_REMOVED, before=_photo_name(old), before_url=old.src)]
    changes = []
    if old.src != new.src:
        changes.append(
            Change(
                PHOTO_REPLACED,
                before=_photo_name(old),
                after=_photo_name(new),
                before_url=old.src,
                after_url=new.src,
            )
        )
    if old.caption != new.caption:
        changes.append(_changed(CAPTION_CHANGED, old.caption, new.caption))
    return changes


def _photo_name(image: Image) -> str:
    """What a reader knows a photo by: its caption, else its alt text, else its file name."""
    return image.caption or image.alt or image.src.rsplit("/", 1)[-1]


def compare(old: Article, new: Article) -> list[Change]:
    """The visible changes from ``old`` to ``new``, in reading order."""
    changes: list[Change] = []
    if old.title != new.title:
        changes.append(_changed(TITLE, old.title, new.title))
    if old.published != new.published:
        changes.append(
            Change(PUBLISHED, before=old.published.isoformat(), after=new.published.isoformat())
        )
    changes += _photo_changes(old.image, new.image)
    old_inline = {i.image.src: i.image for i in old.inline_images}
    new_inline = {i.image.src: i.image for i in new.inline_images}
    changes += [
        Change(PHOTO_REMOVED, before=_photo_name(i), before_url=s)
        for s, i in old_inline.items()
        if s not in new_inline
    ]
    changes += [
        Change(PHOTO_ADDED, after=_photo_name(i), after_url=s)
        for s, i in new_inline.items()
        if s not in old_inline
    ]
    for src in old_inline:
        if src in new_inline:
            changes += _photo_changes(old_inline[src], new_inline[src])
    changes += _paragraph_changes(
        [visible_text(p) for p in old.paragraphs], [visible_text(p) for p in new.paragraphs]
    )
    old_links = {link.url: link.title for link in old.related}
    new_links = {link.url: link.title for link in new.related}
    for url, title in old_links.items():
        if url not in new_links:
            changes.append(Change(RELATED_REMOVED, before=title, before_url=url))
        elif new_links[url] != title:
            changes.append(
                dataclasses.replace(
                    _changed(RELATED_RETITLED, title, new_links[url]), before_url=url, after_url=url
                )
            )
    changes += [
        Change(RELATED_ADDED, after=t, after_url=u)
        for u, t in new_links.items()
        if u not in old_links
    ]
    changes += [Change(TAG_REMOVED, before=t) for t in dict.fromkeys(old.tags) if t not in new.tags]
    changes += [Change(TAG_ADDED, after=t) for t in dict.fromkeys(new.tags) if t not in old.tags]
    return changes


def areas(changes: list[Change]) -> list[str]:
    """What an edit touched, e.g. ``["標題", "內文"]``."""
    return list(dict.fromkeys(_AREAS[c.kind] for c in changes))


def fields_lost(stored: Article, fetched: Article) -> list[str]:
    """Fields (:data:`cnaspider.archive.coverage.FIELDS`) the stored version has and the new parse lacks."""
    before, after = fields_present(stored), fields_present(fetched)
    return [name for name, present in before.items() if present and not after.get(name)]


# --- text ---------------------------------------------------------------------


def _marked_text(segments: tuple[Segment, ...]) -> str:
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return "".join(marks[s.op].format(s.text) for s in segments)


_PHOTOS = frozenset({PHOTO_ADDED, PHOTO_REMOVED, PHOTO_REPLACED})


def _named(kind: str, text: str, url: str) -> str:
    """A photo by its address (its caption has a line of its own), a link as ``title <url>``."""
    if not url:
        return text
    return url if kind in _PHOTOS or not text else f"{text} <{url}>"


def render_text(changes: list[Change]) -> list[str]:
    """One line per change: ``title: OECD[-小幅-]上調…``; ``[-…-]`` deleted, ``{+…+}`` inserted."""
    lines = []
    for c in changes:
        where = f" {c.number}" if c.number else ""
        name = c.kind.replace("paragraph", f"paragraph{where}", 1)
        before, after = _named(c.kind, c.before, c.before_url), _named(c.kind, c.after, c.after_url)
        if c.segments:
            lines.append(f"{name}: {_marked_text(c.segments)}")
        elif before and after:
            lines.append(f"{name}: {before} -> {after}")
        else:
            lines.append(f"{name}: {after or before}")
    return lines


# --- HTML ---------------------------------------------------------------------


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _side_html(segments: tuple[Segment, ...], keep: str) -> str:
    """One version's line: its shared text plus its own (``keep``: delete or insert), marked."""
    tag = "del" if keep == "delete" else "ins"
    return "".join(
        _escape(s.text) if s.op == "equal" else f"<{tag}>{_escape(s.text)}</{tag}>"
        for s in segments
        if s.op in ("equal", keep)
    )


def _named_html(text: str, url: str) -> str:
    if not url:
        return _escape(text)
    return f'<a href="{html.escape(url, quote=True)}">{_escape(text or url)}</a>'


def _lines(old: str, new: str) -> str:
    """The old and the new version, each on a line of its own, named 舊 and 新 in words."""
    return (
        f'<br><span class="change-old">舊：{old}</span>'
        f'<br><span class="change-new">新：{new}</span>'
    )


def render_html(changes: list[Change]) -> str:
    """A ``<ul>`` of the changes, each changed line as ``舊：``/``新：`` lines.

    Deleted text is in ``<del>`` within the old line and inserted text in
    ``<ins>`` within the new one; photos and 延伸閱讀 links link their
    address, named by caption or title. Stripped of its tags the list reads
    ``標題：`` / ``舊：…`` / ``新：…``, one line each.
    """
    items = []
    for c in changes:
        label = LABELS[c.kind] + (f"（第{c.number}段）" if c.number else "")
        before = _named_html(c.before, c.before_url)
        after = _named_html(c.after, c.after_url)
        if c.segments:
            body = _lines(_side_html(c.segments, "delete"), _side_html(c.segments, "insert"))
        elif (c.before or c.before_url) and (c.after or c.after_url):
            body = _lines(before, after)
        elif c.after or c.after_url:
            body = f"<ins>{after}</ins>"
        else:
            body = f"<del>{before}</del>"
        items.append(f'<li><span class="change-kind">{label}：</span>{body}</li>')
    return '<ul class="changes">' + "".join(items) + "</ul>"
