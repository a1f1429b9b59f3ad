"""The post writer: the golden format, round trips and atomic writes."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import frontmatter
import pytest

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Image, RelatedLink
from cnaspider.publishing.atomic import publish_staged
from cnaspider.publishing.post import (
    PostStyle,
    import_existing_posts,
    post_filename,
    render_post,
    stage_post_text,
    utc_stamp,
)
from tests.helpers import article

UTC = dt.UTC


HOSTILE_TITLES = [
    'He said "no" \\ then \\"yes\\"',
    "key: value # not a comment",
    "[ not a list ]",
    "{ not: a map }",
    "* star",
    "& anchor",
    "! tag",
    "% directive",
    "@ at",
    "`tick`",
    "line one\nline two\r\nline three",
    "tab\there\x00nul\x01soh\x1bescape\x7fdel\x85nel",
    "\u2028line sep\u2029para sep\ufeffbom",
    "emoji 🇹🇼 and astral 𠀀",
    "--- dashes ---",
    "---\nlayout: evil\n---",
    "{{ site.title }} {% raw %}",
    "' single '' quotes",
    "trailing space ",
    " leading space",
    "null",
    "2021-01-14",
    "yes",
    "~",
    "x" * 5000,
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_round_trip_through_python_frontmatter(title: str) -> None:
    text = render_post(article(title))
    post = frontmatter.loads(text)
    expected = title.replace("\ud800", "\ufffd")
    assert post["title"] == expected
    assert post["layout"] == "post"
    assert post["from"] == "https://www.cna.com.tw/news/firstnews/202101140136.aspx"
    assert post["date"] == dt.datetime(2021, 1, 14, 6, 58, 18, tzinfo=UTC)
    # The front matter is exactly 9 lines whatever the title holds.
    assert text.split("\n")[8] == "---"


def test_front_matter_lines_and_body_shape() -> None:
    text = render_post(article("總統與克拉夫特視訊"))
    assert text.splitlines()[:13] == [
        "---",
        "layout: post",
        'title: "總統與克拉夫特視訊"',
        "date: 2021-01-14T06:58:18.000Z",
        "author: (臺)中央社CNA",
        "from: https://www.cna.com.tw/news/firstnews/202101140136.aspx",
        "tags: [ (臺)中央社CNA ]",
        "categories: [ (臺)中央社CNA ]",
        "---",
        "<!--1610607498000-->",
        "[總統與克拉夫特視訊](https://www.cna.com.tw/news/firstnews/202101140136.aspx)",
        "------",
        "",
    ]
    assert text.endswith("</p></div>\n</div>\n")


def test_source_label_that_needs_quoting_still_round_trips() -> None:
    label = "CNA: [news], #1"
    post = frontmatter.loads(render_post(article(), PostStyle(source_label=label)))
    assert post["author"] == label
    assert post["tags"] == [label] and post["categories"] == [label]


def test_image_proxy_and_lazy_images() -> None:
    image = Image(
        src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/x.jpg", caption="說明 <b>&", alt=""
    )
    text = render_post(article(image=image))
    assert (
        '<img src="https://images.weserv.nl/?url=imgcdn.cna.com.tw/www/WebPhotos/1024/x.jpg" alt="說明 &lt;b&gt;&amp;">'
        in text
    )
    assert '<div class="picinfo">說明 &lt;b&gt;&amp;</div>' in text
    direct = render_post(article(image=image), PostStyle(image_proxy=""))
    assert 'src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/x.jpg"' in direct


def test_liquid_and_markdown_syntax_is_neutralised() -> None:
    text = render_post(
        article(
            "{{ x }} [a](b) *c*",
            paragraphs=["{% y %} {{ z }} {% endraw %}"],
            related=[
                RelatedLink(url="https://www.cna.com.tw/news/a/202101140137.aspx", title="{{ t }}")
            ],
        )
    )
    body = text.split("---\n", 2)[2]
    assert "{{" not in body and "{%" not in body
    assert "&#123;&#123; x &#125;&#125;" in body
    assert "&#91;a&#93;(b)" in body


def test_filename_uses_taipei_date() -> None:
    late = article(
        published=dt.datetime(2021, 1, 14, 17, 0, tzinfo=UTC)
    )  # 01:00 on the 15th in Taipei
    assert post_filename(late) == "2021-01-15-202101140136.md"
    assert utc_stamp(late.published) == "2021-01-14T17:00:00.000Z"


def test_write_is_atomic_and_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # How the crawl writes a post: staged beside its path, then renamed over it.
    path = tmp_path / "_posts" / post_filename(article("一"))
    staged = stage_post_text(path, render_post(article("一")))
    assert staged is not None
    publish_staged(staged)
    assert path.read_text(encoding="utf-8").startswith("---\n")
    assert stage_post_text(path, render_post(article("一"))) is None  # unchanged: nothing to write
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    staged = stage_post_text(path, render_post(article("二")))
    assert staged is not None
    with pytest.raises(OSError):
        publish_staged(staged)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_existing_posts_are_recognised_by_their_from_url(tmp_path: Path) -> None:
    posts = tmp_path / "_posts"
    posts.mkdir()
    (posts / "2021-01-14-總統與克拉夫特視訊.md").write_text(
        '---\nlayout: post\ntitle: "x"\nfrom: https://www.cna.com.tw/news/firstnews/202101140136.aspx\n---\nbody\n',
        encoding="utf-8",
    )
    (posts / "notes.md").write_text("no front matter\n", encoding="utf-8")
    with Store(tmp_path / "s.sqlite3") as store:
        assert import_existing_posts(store, tmp_path) == 1
        assert store.is_known("202101140136")
        assert import_existing_posts(store, tmp_path) == 0
