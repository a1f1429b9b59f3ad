"""What changed between two versions: the diff the history command, the site and the edits feed show."""

from __future__ import annotations

import dataclasses

import lxml.html

from cnaspider.archive.diff import (
    areas,
    compare,
    fields_lost,
    inline_diff,
    render_html,
    render_text,
    visible_text,
)
from cnaspider.extraction.items import Image, InlineImage, RelatedLink
from tests.helpers import real_articles

BASE = next(a for a in real_articles() if a.image and a.related)


def test_unchanged_article_has_no_changes() -> None:
    same = dataclasses.replace(BASE, found_via={"x": 1}, ways={}, modified=BASE.modified)
    assert compare(BASE, same) == []


def test_title_change_is_marked_within_the_line() -> None:
    new = dataclasses.replace(BASE, title="颱風杜蘇芮增強為強颱")
    old = dataclasses.replace(BASE, title="颱風杜蘇芮增強")
    (change,) = compare(old, new)
    assert change.kind == "title"
    assert render_text([change]) == ["title: 颱風杜蘇芮增強{+為強颱+}"]
    assert "<ins>為強颱</ins>" in render_html([change])
    assert areas([change]) == ["標題"]


def test_paragraphs_added_removed_and_changed() -> None:
    old = dataclasses.replace(
        BASE, paragraphs=["第一段。", "第二段說明，數字123。", "第三段。", "第四段。"]
    )
    new = dataclasses.replace(
        BASE,
        paragraphs=[
            "第一段。",
            "第二段說明，數字456。",
            "插入的新段落完全不同。",
            "第四段。",
            "最後補充。",
        ],
    )
    kinds = [(c.kind, c.number) for c in compare(old, new)]
    assert ("paragraph changed", 2) in kinds
    assert ("paragraph removed", 3) in kinds
    assert ("paragraph added", 3) in kinds
    assert ("paragraph added", 5) in kinds
    text = render_text(compare(old, new))
    assert "paragraph 2 changed: 第二段說明，數字[-123-]{+456+}。" in text
    assert "paragraph 5 added: 最後補充。" in text


def test_paragraph_markup_is_compared_as_text() -> None:
    old = dataclasses.replace(BASE, paragraphs=["<a href='x'>連結</a>文字&amp;符號"])
    new = dataclasses.replace(BASE, paragraphs=['<a href="y">連結</a>文字&amp;符號'])
    assert visible_text(old.paragraphs[0]) == "連結文字&符號"
    assert compare(old, new) == []


def test_photos_related_links_and_tags() -> None:
    assert BASE.image is not None
    new = dataclasses.replace(
        BASE,
        image=Image("https://imgcdn.cna.com.tw/new.jpg", BASE.image.caption + "（更新）"),
        inline_images=[InlineImage(1, Image("https://imgcdn.cna.com.tw/in.jpg", "內文照片"))],
        related=[
            *BASE.related[1:],
            RelatedLink("https://www.cna.com.tw/news/aipl/202609230001.aspx", "新連結"),
        ],
        tags=[*BASE.tags, "新標籤"],
    )
    kinds = [c.kind for c in compare(BASE, new)]
    assert kinds.count("photo replaced") == 1
    assert "caption changed" in kinds
    assert "photo added" in kinds
    assert "related link removed" in kinds and "related link added" in kinds
    assert "tag added" in kinds
    assert areas(compare(BASE, new)) == ["照片", "圖說", "延伸閱讀", "標籤"]
    caption_only = dataclasses.replace(
        BASE, image=dataclasses.replace(BASE.image, caption=BASE.image.caption + "（更新）")
    )
    assert areas(compare(BASE, caption_only)) == ["圖說"]
    retitled = dataclasses.replace(
        BASE, related=[dataclasses.replace(BASE.related[0], title="改名"), *BASE.related[1:]]
    )
    assert [c.kind for c in compare(BASE, retitled)] == ["related link retitled"]


def test_html_escapes_article_text() -> None:
    old = dataclasses.replace(BASE, title="<b>標題</b> {{ x }}")
    new = dataclasses.replace(BASE, title="<script>alert(1)</script> {% y %}")
    rendered = render_html(compare(old, new))
    doc = lxml.html.fragment_fromstring(rendered)
    assert doc.xpath("//script") == [] and doc.xpath("//b") == []
    # The old line (kept and deleted text) reads as the old title, the new line as the new one.
    (old_line,) = doc.xpath("//span[@class='change-old']")
    (new_line,) = doc.xpath("//span[@class='change-new']")
    assert (old_line.text_content(), new_line.text_content()) == (
        f"舊：{old.title}",
        f"新：{new.title}",
    )
    assert old_line.xpath("ins") == [] and new_line.xpath("del") == []
    # Stripped of every tag, the change still reads right: label, old line, new line.
    assert doc.text_content() == f"標題：舊：{old.title}新：{new.title}"


def test_inline_diff_round_trips() -> None:
    before, after = (
        "中央社記者台北23日電，行政院今天宣布",
        "中央社記者台北24日電，行政院昨天宣布新政策",
    )
    segments = inline_diff(before, after)
    assert "".join(s.text for s in segments if s.op != "insert") == before
    assert "".join(s.text for s in segments if s.op != "delete") == after


def test_fields_lost() -> None:
    no_photo = dataclasses.replace(BASE, image=None)
    assert fields_lost(BASE, no_photo) == ["image", "caption"]
    assert fields_lost(no_photo, BASE) == []
    assert fields_lost(BASE, dataclasses.replace(BASE, related=[])) == ["related"]
