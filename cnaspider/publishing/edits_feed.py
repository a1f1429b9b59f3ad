"""Edits made visible: the site's 更新紀錄 data and the Atom edits feed ``changes.xml``.

Posts stay in the golden format: an edited article's history goes to a Jekyll
data file of its own, ``_data/edits/<id>.json``, which the post layout looks
up by the post's slug (its CNA id). Jekyll reads one small file per edited
article and each post does one hash lookup, so the build stays linear in the
number of posts, and a never-edited post is built exactly as before.
``_data/recent_edits.json`` (the newest edits across the archive) feeds the
``/edits/`` page, and ``changes.xml`` has one Atom entry per edit with the
diff as its content.

Everything here is a pure function of the store (no clock), so the same store
gives the same bytes; files are replaced atomically and only when they change.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator

from cnaspider.archive.diff import areas, compare, render_html
from cnaspider.archive.store import Revision, Store, edit_time
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.publishing.atomic import atomic_write_bytes
from cnaspider.publishing.post import PostStyle

CHANGES_NAME = "changes.xml"
EDITS_DIR = Path("_data") / "edits"
RECENT_EDITS = Path("_data") / "recent_edits.json"
DEFAULT_EDITS_LIMIT = 50
CHANGES_TITLE = "中央社新聞：更新紀錄"
CHANGES_SUBTITLE = "中央社發布後修改的新聞：每次修改一則，內容為新舊版本的差異"
# Must match output/_config.yml's permalink and cnaspider.publishing.feeds.POST_PERMALINK.
_POST_PERMALINK = "/posts/{id}/"
_ENTRY_ID = "https://www.cna.com.tw/news/firstnews/{id}.aspx#revision-{rev}"
_ANON_FEED_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://www.cna.com.tw/#cnaspider-changes").urn
_EMPTY_UPDATED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# A CNA article address in an edit's HTML (a 延伸閱讀 link); as in output/_plugins/local_links.rb.
_ARTICLE_HREF = re.compile(
    r'href="https?://(?:www\.|m\.)?cna\.com\.tw/news/[a-z]+/(\d{12})(?:-\d+)?\.aspx(?:[?#][^"]*)?"',
    re.ASCII | re.IGNORECASE,
)


def taipei_iso(when: dt.datetime | str) -> str:
    moment = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    return moment.astimezone(TAIPEI).isoformat(timespec="seconds")


def edit_record(before: Revision, after: Revision) -> dict[str, Any]:
    """One edit as the site shows it: when, what it touched and the marked-up diff."""
    changes = compare(before.article, after.article)
    return {
        "rev": after.rev,
        "when": taipei_iso(
            edit_time(after.fetched, after.modified, before.modified, before.fetched)
        ),
        "fetched": taipei_iso(after.fetched),
        "modified": taipei_iso(after.modified),
        "areas": areas(changes),
        "html": render_html(changes),
    }


def article_edits(revisions: list[Revision]) -> dict[str, Any] | None:
    """The data file of one article (None when it was never edited): its edits, newest first."""
    if len(revisions) < 2:
        return None
    latest = revisions[-1]
    edits = [edit_record(a, b) for a, b in itertools.pairwise(revisions)]
    return {
        "id": latest.id,
        "title": latest.article.title,
        "first_fetched": taipei_iso(revisions[0].fetched),
        "edits": edits[::-1],
    }


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` atomically unless it already holds ``data``; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data)
    return True


def write_article_edits(output_dir: Path, revisions: list[Revision]) -> bool:
    """Write ``_data/edits/<id>.json`` for an edited article; True if the file changed."""
    data = article_edits(revisions)
    if data is None:
        return False
    return write_if_changed(output_dir / EDITS_DIR / f"{data['id']}.json", _json_bytes(data))


def _post_url(site_url: str, ident: str) -> str:
    return site_url.rstrip("/") + _POST_PERMALINK.format(id=ident) if site_url else ""


def recent_edits(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest edits across the archive, newest first, for the site and the edits feed."""
    records = []
    for before, after in store.recent_edits(limit):
        record = edit_record(before, after)
        record.update(id=after.id, title=after.article.title, url=after.article.url)
        records.append(record)
    return records


def linked_ids(edits: list[dict[str, Any]]) -> set[str]:
    """The CNA article ids that the edits' HTML links to."""
    return {m.group(1) for e in edits for m in _ARTICLE_HREF.finditer(e["html"])}


def _local_links(fragment: str, site_url: str, archived: Collection[str]) -> str:
    """``fragment`` with links to articles the site holds pointing at its own copy."""
    if not site_url or not archived:
        return fragment
    return _ARTICLE_HREF.sub(
        lambda m: f'href="{_post_url(site_url, m.group(1))}"' if m.group(1) in archived else m[0],
        fragment,
    )


def render_changes_feed(
    edits: list[dict[str, Any]],
    *,
    site_url: str = "",
    style: PostStyle | None = None,
    archived: Collection[str] = (),
) -> bytes:
    """``changes.xml``: an Atom feed with one entry per edit (newest first), the diff as content.

    Each entry's content reads right as plain text too (``舊：``/``新：`` lines); a
    延伸閱讀 link to an article in ``archived`` opens the site's copy (with a ``site_url``).
    """
    # Imported here: cnaspider.publishing.feeds calls this module at the end of write_feeds.
    from cnaspider.publishing.feeds import LANGUAGE, xml_safe

    style = style or PostStyle()
    base = site_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(f"{base}/{CHANGES_NAME}" if base else _ANON_FEED_ID)
    fg.title(CHANGES_TITLE)
    fg.subtitle(CHANGES_SUBTITLE)
    fg.language(LANGUAGE)
    fg.author({"name": xml_safe(style.source_label)})
    fg.generator("cnaspider")
    if base:
        fg.link(href=f"{base}/{CHANGES_NAME}", rel="self", type="application/atom+xml")
        fg.link(href=f"{base}/edits/", rel="alternate", type="text/html")
    else:
        fg.link(href="https://www.cna.com.tw/", rel="alternate", type="text/html")
    times = [dt.datetime.fromisoformat(e["when"]) for e in edits]
    fg.updated(max(times, default=_EMPTY_UPDATED))
    for edit, when in zip(edits, times, strict=True):
        fe = fg.add_entry(order="append")
        fe.id(_ENTRY_ID.format(id=edit["id"], rev=edit["rev"]))
        fe.title(xml_safe(f"更新（{'、'.join(edit['areas'])}）：{edit['title']}"))
        fe.link(href=_post_url(site_url, edit["id"]) or edit["url"], rel="alternate")
        fe.published(when)
        fe.updated(when)
        summary = f"第{edit['rev']}版，修改了{'、'.join(edit['areas'])}。"
        fe.summary(summary)
        original = f'<p><a href="{edit["url"]}">中央社原文</a></p>'
        body = _local_links(edit["html"], site_url, archived)
        fe.content(xml_safe(f"<p>{summary}</p>{body}{original}"), type="html")
    return bytes(fg.atom_str(pretty=True, encoding="UTF-8"))


def write_changelog(
    store: Store,
    output_dir: Path | str,
    limit: int = DEFAULT_EDITS_LIMIT,
    site_url: str = "",
    style: PostStyle | None = None,
) -> dict[str, dict[str, Any]]:
    """Write ``changes.xml`` and ``_data/recent_edits.json``; return them like write_feeds' files."""
    out = Path(output_dir)
    edits = recent_edits(store, max(0, int(limit)))
    rendered = {
        CHANGES_NAME: render_changes_feed(
            edits,
            site_url=site_url,
            style=style,
            archived=store.existing_ids(linked_ids(edits)) if site_url else (),
        ),
        str(RECENT_EDITS): _json_bytes(edits),
    }
    files = {}
    for name, data in rendered.items():
        path = out / name
        files[name] = {
            "path": str(path),
            "bytes": len(data),
            "changed": write_if_changed(path, data),
        }
    return files


def rebuild_article_edits(store: Store, output_dir: Path | str) -> int:
    """Rewrite every ``_data/edits/<id>.json`` from the store; return how many changed."""
    out = Path(output_dir)
    changed = 0
    for ident in store.edited_ids():
        changed += write_article_edits(out, store.revisions(ident))
    return changed
