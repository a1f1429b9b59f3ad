"""Hostile articles through the whole path: posts, real Jekyll, and the three feeds.

Every title and body must round-trip through python-frontmatter, build with
Jekyll and show literally, and leave no script, event handler or script URL in
a page or a feed. Skipped without the jekyll binary (CI installs it).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import feedparser
import frontmatter
import lxml.html
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import parse_article
from cnaspider.publishing.feeds import POST_PERMALINK, write_feeds
from cnaspider.publishing.paths import Paths
from cnaspider.publishing.skeleton import copy_skeleton
from tests.helpers import (
    HOSTILE_PARAGRAPHS,
    HOSTILE_URL,
    JEKYLL,
    hostile_page,
    needs_program,
    put_post,
)

pytestmark = [needs_program("jekyll"), pytest.mark.slow]

HOSTILE_TITLES = [
    'key: value # "quoted" \\ back',
    "---",
    "--- in the middle ---",
    "{{ site.title }} and {% raw %} and {% endraw %}",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "[click](javascript:alert(3)) data:text/html,<b>x</b>",
    "<iframe src=//evil.example></iframe><style>*{}</style>",
    "control \x00\x01\x07\x1b chars",
    "line\u2028sep\u2029para",
    "bidi \u202e\u2066reversed\u2069\u202c \u200f",
    "emoji 🇹🇼🧋 astral 𠀀𪚥",
    "* & ! % @ | > ` [ { leading",
    "長" * 5000,
]
BAD_URL = re.compile(r"^\s*(javascript|data|vbscript):", re.I)


def live_markup(fragment: str) -> list[str]:
    """Scripts, event handlers, frames, styles and script URLs as a browser would parse them."""
    if not fragment.strip():
        return []
    found = []
    for el in lxml.html.fragment_fromstring(fragment, create_parent="div").iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ("script", "iframe", "style", "object", "embed"):
            found.append(el.tag)
        for name, value in el.attrib.items():
            if name.lower().startswith("on") or (name in ("href", "src") and BAD_URL.match(value)):
                found.append(f"{el.tag}@{name}={value}")
    return found


def visible(text: str) -> str:
    """What a reader sees of a title (the post writer keeps titles on one line)."""
    return re.sub(r"\s+", " ", re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)).strip()


def build_site(tmp_path: Path, articles: list[Article]) -> Path:
    src, dest = tmp_path / "src", tmp_path / "dest"
    if src.exists():
        shutil.rmtree(src)
    copy_skeleton(src)
    paths = Paths.for_output(src)
    with Store(paths.state_db) as store:
        for article in articles:
            post = put_post(paths.posts_dir, article)
            text = post.read_text(encoding="utf-8")
            assert frontmatter.loads(text)["title"] == article.title
            store.save(article, str(post.relative_to(src)))
        write_feeds(store, src, site_url="https://news.example.org/cna", limit=len(articles))
    done = subprocess.run(
        [JEKYLL, "build", "--source", str(src), "--destination", str(dest), "--baseurl", "/cna"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return dest


def check_feeds(dest: Path, articles: list[Article]) -> None:
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse(str(dest / name))
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert len(parsed.entries) == len(articles)
        for entry in parsed.entries:
            raw = entry.get("summary", "") + "".join(c.value for c in entry.get("content", []))
            assert live_markup(raw) == []
    data = json.loads((dest / "feed.json").read_text(encoding="utf-8"))
    assert len(data["items"]) == len(articles)
    for item in data["items"]:
        assert live_markup(item.get("content_html", "")) == []


def page_of(dest: Path, article: Article) -> lxml.html.HtmlElement:
    """The built page as a browser reads it.

    A NUL in a title is kept (front matter round-trips any string) and reaches the HTML;
    browsers drop it from text (HTML standard, "in body": a U+0000 token is ignored),
    libxml2 shows U+FFFD instead, so the oracle drops it first.
    """
    path = dest / POST_PERMALINK.format(id=article.id).strip("/") / "index.html"
    return lxml.html.fromstring(path.read_bytes().replace(b"\x00", b""))


def test_hostile_titles_and_bodies_build_literally_and_inertly(tmp_path: Path) -> None:
    body = parse_article(hostile_page(), HOSTILE_URL)
    articles = [
        dataclasses.replace(
            body,
            id=f"20230823{9000 + i:04d}",
            url=f"https://www.cna.com.tw/news/acn/20230823{9000 + i:04d}.aspx",
            title=title,
        )
        for i, title in enumerate(HOSTILE_TITLES)
    ]
    dest = build_site(tmp_path, articles)
    for article in articles:
        page = page_of(dest, article)
        raw = lxml.html.tostring(page, encoding="unicode")
        shown = page.cssselect("h1.post-title")[0].text_content()
        assert visible(shown) == visible(article.title)
        text = page.cssselect(".post-content")[0].text_content()
        assert "{{ site.title }} {% include evil.html %} {% endraw %}" in text
        assert "正文一" in text and "好連結" in text
        body_html = lxml.html.tostring(page.cssselect(".post-content")[0], encoding="unicode")
        assert live_markup(body_html) == []
        assert "<iframe" not in raw and "<style>body" not in raw
    assert len(HOSTILE_PARAGRAPHS) == 10
    check_feeds(dest, articles)


texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80).filter(
    lambda t: visible(t)
)


@settings(
    max_examples=2,
    deadline=None,
    # Every example is a Jekyll build: shrinking a failure took over five minutes in CI.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=st.lists(st.tuples(texts, texts), min_size=12, max_size=12))
def test_any_title_and_body_builds(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    from cnaspider.extraction.parsing import sanitize_inline_html

    base = parse_article(hostile_page(), HOSTILE_URL)
    articles = []
    for i, (title, paragraph) in enumerate(pairs):
        html = sanitize_inline_html(paragraph.replace("&", "&amp;").replace("<", "&lt;")) or "x"
        ident = f"20230823{8000 + i:04d}"
        articles.append(
            dataclasses.replace(
                base,
                id=ident,
                url=f"https://www.cna.com.tw/news/acn/{ident}.aspx",
                title=title,
                paragraphs=[html],
            )
        )
    dest = build_site(tmp_path, articles)
    for article in articles:
        page = page_of(dest, article)
        assert visible(page.cssselect("h1.post-title")[0].text_content()) == visible(article.title)
        shown = re.sub(
            r"\s+", " ", page.cssselect(".post-content div.paragraph p")[0].text_content()
        ).strip()
        expected = re.sub(
            r"\s+",
            " ",
            lxml.html.fragment_fromstring(article.paragraphs[0], create_parent="p").text_content(),
        ).strip()
        assert shown == expected
    check_feeds(dest, articles)
