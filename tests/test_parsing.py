"""Parsing tests against the real CNA pages saved in localcna/data/."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cnaspider.extraction.items import Article, Disagreement, Image
from cnaspider.extraction.parsing import (
    BAD_ENCODING,
    CONFLICTING_TIME,
    CONFLICTING_TITLE,
    EXPIRED,
    LEGACY_LAYOUT,
    MISSING_BODY,
    MISSING_TIME,
    MISSING_TITLE,
    NOT_ARTICLE,
    NOT_FOUND,
    TAIPEI,
    PageRefused,
    _srcset_urls,
    field_stats,
    parse_article,
    parse_list,
    summary_text,
    warnings,
)
from cnaspider.extraction.urls import article_id, normalize_article_url
from tests.helpers import DATA, expired_page_made_whole, page, url_for


def taipei(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TAIPEI)


def test_pretty_printed_2023_article_with_image_and_related() -> None:
    a = parse_article(page("ahel-202308230179"), url_for("ahel", "202308230179"))
    assert a.id == "202308230179"
    assert a.url == "https://www.cna.com.tw/news/ahel/202308230179.aspx"
    assert a.section == "生活"
    assert a.title == "新北攤商涉用豬肉混充羊肉 最重可罰400萬加坐牢"
    assert a.published == taipei(2023, 8, 23, 15, 6)
    assert a.modified == taipei(2023, 8, 23, 15, 31)
    assert a.published.utcoffset() == dt.timedelta(hours=8)
    assert len(a.paragraphs) == 7
    assert a.paragraphs[0].startswith("（中央社記者沈佩瑤台北23日電）媒體報導，位於新北市")
    assert a.paragraphs[0].endswith("最高可罰400萬元並面臨坐牢。")  # pretty-print whitespace gone
    assert a.paragraphs[-1].endswith(
        "處1年以下有期徒刑、拘役或3萬元以下罰金。（編輯：李亨山）1120823"
    )
    assert [(r.url, r.title) for r in a.related] == [
        (
            "https://www.cna.com.tw/news/ahel/202301195004.aspx",
            "巴沙魚究竟是什麼？不肖業者冒充鱈魚多利魚、過期改標牟利",
        ),
        (
            "https://www.cna.com.tw/news/asoc/202210130227.aspx",
            "高檔餐廳鴨肝假冒鵝肝 主廚逆轉判無罪",
        ),
        (
            "https://www.cna.com.tw/news/asoc/202210060088.aspx",
            "越南茶假冒台灣茶參賽獲評比轉售 女茶農遭起訴",
        ),
    ]
    assert a.image is not None
    assert a.image.src == (
        "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1170x780_wmkn_38442171231_0.jpg"
    )
    assert a.image.caption == (
        "媒體報導，新北市的大台北果菜市場某攤商販售羊肉遠低於市價，涉以豬肉魚目混珠。"
        "（示意圖／圖取自Unsplash圖庫）"
    )
    assert a.tags == ["林金富", "食藥署", "豬肉", "劉芳銘"]
    assert a.dateline == "中央社記者沈佩瑤台北23日電"
    assert a.reporters == ["沈佩瑤"]
    assert a.editor == "編輯：李亨山"


def test_pretty_printed_2023_article_without_image_update_or_related() -> None:
    a = parse_article(page("acn-202308230192"), url_for("acn", "202308230192"))
    assert a.section == "兩岸"
    assert a.title == "中國單身人口逾2億 專家說因年輕人太宅"
    assert a.published == a.modified == taipei(2023, 8, 23, 15, 33)
    assert a.image is None and a.related == [] and a.inline_images == []
    assert len(a.paragraphs) == 8
    assert a.paragraphs[0].startswith("（中央社台北23日電）中國年輕未婚單身人口達2.39億人")
    assert a.paragraphs[-1].endswith("（編輯：唐佩君/呂佳蓉）1120823")
    assert a.editor == "編輯：唐佩君/呂佳蓉"
    assert a.reporters == []
    assert a.tags == ["中國", "環球時報"]


def test_raw_2023_article_lazy_inline_images_inserts_and_duplicate_tag() -> None:
    a = parse_article(page("aopl-202308230370"), url_for("aopl", "202308230370"))
    assert a.section == "國際"
    assert a.title == "泰王任命賽塔為總理 新政府親軍方成員備受爭議"
    assert a.published == taipei(2023, 8, 23, 21, 55)
    assert a.modified == taipei(2023, 8, 23, 22, 26)
    assert len(a.paragraphs) == 8
    # The a.insert links inside div.media are navigation, not body text.
    assert not any("地產大亨賽塔當選泰國總理" in p for p in a.paragraphs)
    assert (
        a.image is not None and "/1024/20230823/1151x768_wmkn_0_C20230823000231.jpg" in a.image.src
    )
    assert [i.image.src for i in a.inline_images] == [
        "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1200x799_wmkn_900526078683_202308230230000000.jpg",
        "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1153x768_wmkn_0_C20230823000230.jpg",
    ]
    assert [i.after for i in a.inline_images] == [8, 8]
    assert a.inline_images[0].image.caption.startswith("泰國為泰黨賽塔22日當選")
    # Only the 延伸閱讀 block, not the per-keyword .flexhalf lists.
    assert [r.url for r in a.related] == ["https://www.cna.com.tw/news/aopl/202308220115.aspx"]
    assert a.tags == ["帕拉育", "政變", "泰國", "戴克辛", "為泰黨"]
    assert a.dateline == "中央社曼谷23日綜合外電報導"
    assert a.editor == "譯者：何宏儒/核稿：楊昭彥"
    assert summary_text(a).startswith("泰國新總理賽塔今天在泰王瓦吉拉隆功認可下就職。")


def test_raw_2023_article_newsletter_box_is_not_body() -> None:
    a = parse_article(page("ait-202308230354"), url_for("ait", "202308230354"))
    assert a.section == "科技"
    assert a.title == "數位部：推動數據公益恪遵個資法 確保當事人權益"
    assert a.published == taipei(2023, 8, 23, 20, 47)
    assert len(a.paragraphs) == 8
    assert not any("電子報" in p for p in a.paragraphs)
    assert a.paragraphs[-1].endswith("（編輯：楊凱翔）1120823")
    assert a.reporters == ["蘇思云"]
    assert a.tags == ["台權會", "數位部", "個資法", "歐盟"]


def test_2018_layout_article() -> None:
    a = parse_article(expired_page_made_whole(), url_for("asoc", "201603190029"))
    assert a.title == "平鎮輪胎行惡火  疏散7人1女命喪"
    assert a.section == "社會"
    # 2018 pages only have itemprop times as "YYYY/MM/DD HH:MM", Taipei time.
    assert a.published == taipei(2016, 3, 19, 8, 15)
    assert a.modified == taipei(2016, 3, 19, 10, 48)
    assert len(a.paragraphs) == 2
    assert a.image is not None
    assert a.image.src == "https://img5.cna.com.tw/www/WebPhotos/1024/20160319/6868754.jpg"
    assert a.image.caption.startswith("桃園市平鎮區一家輪胎行19日清晨發生大火")
    assert a.reporters == ["邱俊欽"]


@pytest.mark.parametrize("stem", ["acn-2023", "ahel-2023", "ait-2023", "aopl-2023"])
def test_page_bytes_parse_like_page_text(stem: str) -> None:
    # The spider hands UTF-8 bodies over as bytes; the article must not depend on that.
    raw = next(DATA.rglob(f"{stem}*")).read_bytes()
    url = url_for(stem.split("-")[0], "202308230000")
    assert parse_article(raw, url) == parse_article(raw.decode("utf-8"), url)


def test_invalid_utf8_bytes_become_replacement_characters_not_mojibake() -> None:
    raw = next(DATA.rglob("aopl-2023*")).read_bytes()
    broken = raw.replace("就職。".encode(), "就職".encode() + b"\xff\xfe")
    url = url_for("aopl", "202308230370")
    from_bytes = parse_article(broken, url)
    assert from_bytes == parse_article(broken.decode("utf-8", errors="replace"), url)
    assert "\ufffd" in "".join(from_bytes.paragraphs)
    assert from_bytes.paragraphs[-1] == parse_article(raw, url).paragraphs[-1]


def test_2025_figure_lead_image_inside_and_outside_fullpic() -> None:
    html = page("ahel-202308230179")
    start = html.index('<div class="fullPic">')
    end = html.index('<div class="shareSide">')
    figure = (
        '<figure class="floatImg center"><img data-src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/'
        '20250101/a.jpg" alt="說明"><figcaption>圖說文字</figcaption></figure>'
    )
    for block in (f'<div class="fullPic">{figure}</div>', figure):
        a = parse_article(html[:start] + block + html[end:], url_for("ahel", "202308230179"))
        assert a.image is not None
        assert a.image.src == "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20250101/a.jpg"
        assert a.image.caption == "圖說文字"


@pytest.mark.parametrize(
    ("stem", "reason"),
    [("asoc-201603190029", EXPIRED), ("legacy-2014-aloc-201404040243", LEGACY_LAYOUT)],
)
def test_real_pages_refused(stem: str, reason: str) -> None:
    with pytest.raises(PageRefused) as info:
        parse_article(page(stem), "https://www.cna.com.tw/news/x/201603190029.aspx")
    assert info.value.reason == reason


def _without_title(html: str) -> str:
    """The page with its title gone from every place that states it: h1, JSON-LD, og:title,
    twitter:title and <title>."""
    html = re.sub(r"<h1>.*?</h1>", "<h1><span></span></h1>", html, flags=re.S)
    html = re.sub(r'"headline":"[^"]*",?', "", html)
    html = re.sub(r"<title>.*?</title>", "<title></title>", html, flags=re.S)
    return re.sub(r'<meta property="(og|twitter):title"[^>]*>', "", html)


def test_404_non_article_and_broken_pages_refused() -> None:
    base = page("ahel-202308230179")
    cases = {
        NOT_FOUND: "<html><head><title>404</title></head><body><h1>404</h1></body></html>",
        NOT_ARTICLE: page("headlines"),
        MISSING_TITLE: _without_title(base),
        MISSING_BODY: re.sub(r"<p>.*?</p>", "", base, flags=re.S),
    }
    for reason, html in cases.items():
        with pytest.raises(PageRefused) as info:
            parse_article(html, url_for("ahel", "202308230179"))
        assert info.value.reason == reason, reason


def test_title_fallbacks_json_ld_headline_then_og_title() -> None:
    html = page("ahel-202308230179")
    no_h1 = re.sub(r"<h1>.*?</h1>", "<h1><span></span></h1>", html, flags=re.S)
    a = parse_article(no_h1, url_for("ahel", "202308230179"))
    assert (a.title, a.ways["title"]) == (
        "新北攤商涉用豬肉混充羊肉 最重可罰400萬加坐牢",
        "json-ld-headline",
    )
    no_ld = re.sub(r'"headline":"[^"]*",?', "", no_h1)
    a = parse_article(no_ld, url_for("ahel", "202308230179"))
    assert (a.title, a.ways["title"]) == (
        "新北攤商涉用豬肉混充羊肉 最重可罰400萬加坐牢",
        "og-title",
    )
    assert a.section == "生活" and a.ways["section"] == "breadcrumb"


def test_time_fallbacks_spans_then_id_date() -> None:
    html = page("acn-202308230192")
    no_meta = re.sub(r'<meta property="article:(published|modified)_time"[^>]*>', "", html)
    no_meta = re.sub(r'"date(Published|Modified)":"[^"]*",?', "", no_meta)
    a = parse_article(no_meta, url_for("acn", "202308230192"))
    assert a.published == taipei(2023, 8, 23, 15, 33)  # from the visible time span
    assert a.ways["published"] == "time-span" and a.ways["modified"] == "published"
    no_spans = re.sub(r'<div class="updatetime">.*?</div>', "", no_meta, flags=re.S)
    a = parse_article(no_spans, url_for("acn", "202308230192"))
    assert a.published == taipei(2023, 8, 23)  # from the id
    assert a.ways["published"] == "id-date"


def test_update_span_in_january_of_a_december_story() -> None:
    html = page("aopl-202308230370")
    html = re.sub(r'<meta property="article:(published|modified)_time"[^>]*>', "", html)
    html = re.sub(r'"date(Published|Modified)":"[^"]*",?', "", html)
    html = html.replace(
        "<span>2023/8/23 21:55</span><span>（8/23 22:26 更新）</span>",
        "<span>2023/12/31 23:55</span><span>（1/1 00:26 更新）</span>",
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert a.published == taipei(2023, 12, 31, 23, 55)
    assert a.modified == taipei(2024, 1, 1, 0, 26)


def test_list_page_skips_ads_video_and_nav() -> None:
    listing = parse_list(page("headlines"), "https://www.cna.com.tw/list/headlines.aspx")
    assert listing.found_list
    assert [e.id for e in listing.entries] == [
        "202609230359",
        "202609230341",
        "202609230330",
        "202609230336",
    ]
    first = listing.entries[0]
    assert first.url == "https://www.cna.com.tw/news/ahel/202609230359.aspx"
    assert first.title == "颱風舒力基生成\u3000最快25日增強中颱、發布警報機會低"
    assert first.time == taipei(2026, 9, 23, 22, 14)
    assert listing.skipped == 1  # the YouTube item


def test_old_list_markup_absolute_links_and_text_dates() -> None:
    html = (
        '<ul id="myMainList"><li><a href="https://www.cna.com.tw/news/firstnews/202101140136-1.aspx?x=1">'
        '<div class="listInfo"><h2><span>標題\u200b</span></h2><div class="date">2021/01/14 14:58</div>'
        '</div></a></li><li><a href="javascript:">廣告</a></li>'
        '<li><a href="/topic/newstopic/4215.aspx"><h2>專題</h2></a></li></ul>'
    )
    listing = parse_list(html, "https://www.cna.com.tw/list/firstnews.aspx")
    assert [(e.url, e.title, e.time) for e in listing.entries] == [
        (
            "https://www.cna.com.tw/news/firstnews/202101140136.aspx",
            "標題",
            taipei(2021, 1, 14, 14, 58),
        )
    ]
    assert listing.skipped == 2


def test_list_page_without_list_markup_is_flagged() -> None:
    listing = parse_list(page("aopl-202308230370"), "https://www.cna.com.tw/list/aall.aspx")
    assert not listing.found_list and listing.entries == []


# --- parsing and identity --------------------------------


def _without_times(html: str) -> str:
    """The page with every stated time removed: meta, JSON-LD and the visible time box."""
    html = re.sub(r'<meta property="article:(published|modified)_time"[^>]*>', "", html)
    html = re.sub(r'"date(Published|Modified)":"[^"]*",?', "", html)
    return re.sub(r'<div class="updatetime">.*?</div>', "", html, flags=re.S)


def test_id_that_is_not_a_date_is_refused_when_the_page_states_no_time() -> None:
    html = _without_times(page("acn-202308230192")).replace("202308230192", "202313450192")
    with pytest.raises(PageRefused) as info:
        parse_article(html, url_for("acn", "202313450192"))
    assert info.value.reason == MISSING_TIME
    assert "202313450192" in info.value.detail


def test_id_that_is_not_a_date_is_kept_when_the_page_states_its_time() -> None:
    html = page("acn-202308230192").replace("202308230192", "202313450192")
    a = parse_article(html, url_for("acn", "202313450192"))
    assert a.id == "202313450192"
    assert a.published == taipei(2023, 8, 23, 15, 33)
    assert a.ways["published"] == "meta"


def test_29_february_update_span_in_a_non_leap_year_falls_back_to_published() -> None:
    # Published 31 Dec 2024 (a leap year); "2/29" can only mean 2025, which has no 29 February.
    html = _without_times(page("aopl-202308230370"))
    html = html.replace(
        '<div class="timeBox">',
        '<div class="timeBox"><div class="updatetime">'
        "<span>2024/12/31 23:55</span><span>（2/29 00:26 更新）</span></div>",
        1,
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert a.published == taipei(2024, 12, 31, 23, 55)
    assert a.modified == a.published
    assert a.ways["modified"] == "published"


def test_29_february_update_span_is_ignored_when_metas_state_the_times() -> None:
    html = page("aopl-202308230370").replace(
        "<span>2023/8/23 21:55</span><span>（8/23 22:26 更新）</span>",
        "<span>2024/12/31 23:55</span><span>（2/29 00:26 更新）</span>",
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert (a.published, a.modified) == (taipei(2023, 8, 23, 21, 55), taipei(2023, 8, 23, 22, 26))


@pytest.mark.parametrize(
    "ident",
    ["２０２３０８２３０１９２", "٢٠٢٣٠٨٢٣٠١٩٢", "2023０8230192", "۲۰۲۳۰۸۲۳۰۱۹۲"],
)
def test_non_ascii_digits_are_never_an_id(ident: str) -> None:
    url = f"https://www.cna.com.tw/news/acn/{ident}.aspx"
    assert article_id(url) is None and normalize_article_url(url) is None
    html = page("acn-202308230192").replace("202308230192", ident)
    with pytest.raises(PageRefused) as info:
        parse_article(html, url)
    assert info.value.reason == NOT_ARTICLE


def test_non_ascii_letters_are_never_a_slug() -> None:
    # Under IGNORECASE, a Unicode [a-z] also matches the Kelvin sign and the long s.
    for slug in ("\u212aipl", "a\u017foc"):
        assert article_id(f"https://www.cna.com.tw/news/{slug}/202308230192.aspx") is None


def test_captions_are_one_line_without_control_characters() -> None:
    html = page("aopl-202308230370").replace(
        "<div class='picinfo'>泰國為泰黨賽塔22日",
        "<div class='picinfo'>泰國為泰黨\n賽塔\r\n22\x07日\u2028",
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    caption = a.inline_images[0].image.caption
    assert caption.startswith("泰國為泰黨 賽塔 22日 ")
    assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", caption)


def test_relative_and_protocol_relative_body_links_are_resolved() -> None:
    html = page("aopl-202308230370").replace(
        "為泰黨（Pheu Thai）籍",
        "<a href='/news/aopl/202308220320.aspx'>為泰黨</a>（Pheu Thai）"
        "<a href='//focustaiwan.tw/politics/1'>籍</a><a href='../list/aopl.aspx'>地產</a>",
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert (
        '<a href="https://www.cna.com.tw/news/aopl/202308220320.aspx">為泰黨</a>' in a.paragraphs[1]
    )
    assert '<a href="https://focustaiwan.tw/politics/1">籍</a>' in a.paragraphs[1]
    assert '<a href="https://www.cna.com.tw/news/list/aopl.aspx">地產</a>' in a.paragraphs[1]


# --- fallback ways ---------------------------------------------------


def _drop_block(html: str, start: str, end: str) -> str:
    """``html`` without the text from ``start`` up to (not including) ``end``."""
    i = html.index(start)
    return html[:i] + html[html.index(end, i) :]


def test_body_from_json_ld_article_body_only_when_the_page_shows_no_story() -> None:
    html = page("acn-202308230192")
    original = parse_article(html, url_for("acn", "202308230192"))
    texts = [re.sub(r"<[^>]+>", "", p) for p in original.paragraphs]
    body = "\\n".join(texts).replace('"', '\\"')
    html = html.replace('"keywords":', f'"articleBody":"{body}","keywords":', 1)
    renamed = html.replace('<div class="paragraph">', '<div class="articleText">', 1)
    # The renamed div is still found by its dateline and editor line, and agrees with articleBody.
    a = parse_article(renamed, url_for("acn", "202308230192"))
    assert a.ways["body"] == "dateline-block" and a.paragraphs == original.paragraphs
    assert a.disagreements == [] and warnings(a) == []
    # With no story text left in the markup, the structured text alone: a warning way.
    gone = re.sub(r"<p>\s*（中央社.*?</p>.*?1120823\s*</p>", "", renamed, count=1, flags=re.S)
    a = parse_article(gone, url_for("acn", "202308230192"))
    assert a.ways["body"] == "json-ld-articleBody"
    assert a.paragraphs == original.paragraphs  # these paragraphs hold no markup
    assert a.editor == original.editor and a.dateline == original.dateline
    assert warnings(a) == ["body only from a last-resort way (json-ld-articleBody)"]


def test_lead_photo_from_json_ld_then_og_image_never_the_logo_nor_an_inline_photo() -> None:
    html = _drop_block(
        page("ahel-202308230179"), '<div class="fullPic">', '<div class="shareSide">'
    )
    a = parse_article(html, url_for("ahel", "202308230179"))
    assert a.ways["image"] == "json-ld-image" and "caption" not in a.ways
    assert a.image == Image(
        src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230823/1170x780_wmkn_38442171231_0.jpg"
    )
    no_ld = re.sub(r'"image":\[[^\]]*\]', '"image":[]', html)
    a = parse_article(no_ld, url_for("ahel", "202308230179"))
    assert a.ways["image"] == "og-image" and a.image is not None
    # A story without a photo names the site logo in both: no photo.
    a = parse_article(page("acn-202308230192"), url_for("acn", "202308230192"))
    assert a.image is None and "image" not in a.ways
    # Without its lead block, aopl's metadata still lists its in-body photos: never the lead.
    aopl = _drop_block(
        page("aopl-202308230370"), '<div class="fullPic">', '<div class="shareSide">'
    )
    aopl = re.sub(r'"image":\["[^"]*",', '"image":[', aopl)
    aopl = re.sub(
        r'(og:image" content=")[^"]*', r"\1https://imgcdn.cna.com.tw/www/images/pic_fb.jpg", aopl
    )
    a = parse_article(aopl, url_for("aopl", "202308230370"))
    assert a.image is None and len(a.inline_images) == 2


def test_tags_from_meta_then_json_ld_in_page_order() -> None:
    html = page("aopl-202308230370")
    no_group = _drop_block(
        html, "<div class='articlekeywordGroup'>", "<div class='paragraph moreArticle'>"
    )
    a = parse_article(no_group, url_for("aopl", "202308230370"))
    assert (a.tags, a.ways["tags"]) == (["帕拉育", "政變", "泰國", "戴克辛", "為泰黨"], "meta")
    no_meta = re.sub(r'<meta property="article:tag"[^>]*>', "", no_group)
    a = parse_article(no_meta, url_for("aopl", "202308230370"))
    assert (a.tags, a.ways["tags"]) == (["帕拉育", "政變", "泰國", "戴克辛", "為泰黨"], "json-ld")
    no_ld = no_meta.replace('"keywords":', '"x":')
    a = parse_article(no_ld, url_for("aopl", "202308230370"))
    assert a.tags == [] and "tags" not in a.ways


def test_section_fallbacks() -> None:
    html = page("aopl-202308230370").replace('class="blue">國際</a>', 'class="crumb">國際</a>')
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert (a.section, a.ways["section"]) == ("國際", "article-attr")
    html = html.replace('data-origin-type-name="國際"', "")
    assert parse_article(html, url_for("aopl", "202308230370")).ways["section"] == "json-ld"
    html = html.replace('"articleSection":"國際"', '"articleSection":""')
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert (a.section, a.ways["section"]) == ("國際", "og-title")


def test_srcset_with_data_urls_and_commas() -> None:
    assert _srcset_urls("a.jpg 414w, https://x/1024/b.jpg 1024w") == [
        "a.jpg",
        "https://x/1024/b.jpg",
    ]
    assert _srcset_urls("data:image/gif;base64,R0lG,AA 1x, c.jpg 2x") == [
        "data:image/gif;base64,R0lG,AA",
        "c.jpg",
    ]
    assert _srcset_urls("") == []


def test_renamed_body_div_is_read_by_its_dateline_never_as_the_copyright_line() -> None:
    # The copyright line sits in a div.paragraph of its own: with the body div renamed it
    # is the first div.paragraph left, and once became the whole post.
    html = page("acn-202308230192")
    renamed = html.replace('<div class="paragraph">', '<div class="articleText">', 1)
    a = parse_article(renamed, url_for("acn", "202308230192"))
    assert a.paragraphs == parse_article(html, url_for("acn", "202308230192")).paragraphs
    assert a.ways["body"] == "dateline-block"
    assert not any("非經授權" in p for p in a.paragraphs)


def test_a_figure_after_the_body_is_not_the_lead_photo() -> None:
    html = page("ait-202308230354")  # no lead photo
    figure = (
        '<figure class="floatImg center"><img src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/'
        'x.jpg"><figcaption>圖說</figcaption></figure>'
    )
    after = html.replace(
        '<div class="paragraph BtnShareGroup', figure + '<div class="paragraph BtnShareGroup', 1
    )
    assert figure in after
    assert parse_article(after, url_for("ait", "202308230354")).image is None
    before = html.replace('<div class="shareSide">', figure + '<div class="shareSide">', 1)
    a = parse_article(before, url_for("ait", "202308230354"))
    assert a.ways["image"] == "lead-figure" and a.image is not None
    assert (a.image.caption, a.ways["caption"]) == ("圖說", "figcaption")


def test_related_under_a_heading_keeps_only_cna_articles_once_each_in_page_order() -> None:
    html = page("aopl-202308230370")
    block = (
        "<div class='newsBox'><h3>相關新聞：</h3><ul>"
        "<li><a href='/news/aipl/202308230001.aspx'><img src='x.jpg'></a>"
        "<a href='/news/aipl/202308230001.aspx'><span>第一則</span></a></li>"
        "<li><a href='//m.cna.com.tw/news/afe/202308230002-1.aspx?topic=1'>第二則</a></li>"
        "<li><a href='/topic/newstopic/4215.aspx'>專題</a></li>"
        "<li><a href='https://focustaiwan.tw/politics/202308230003'>Focus Taiwan</a></li>"
        "<li><a href='../aopl/202308220115.aspx'>第三則</a></li></ul></div>"
    )
    html = _drop_block(
        html, "<div class='paragraph moreArticle'>", "<div class='paragraph moreArticle flexhalf'>"
    )
    html = html.replace(
        "<div class='paragraph moreArticle flexhalf'>",
        block + "<div class='paragraph moreArticle flexhalf'>",
        1,
    )
    a = parse_article(html, url_for("aopl", "202308230370"))
    assert a.ways["related"] == "heading-text"
    assert [(r.url, r.title) for r in a.related] == [
        ("https://www.cna.com.tw/news/aipl/202308230001.aspx", "第一則"),
        ("https://www.cna.com.tw/news/afe/202308230002.aspx", "第二則"),
        ("https://www.cna.com.tw/news/aopl/202308220115.aspx", "第三則"),
    ]


# --- cross-checked sources (issue 18 §1) ----------------------------------------------


def _disagreements(a: Article, field: str) -> list[Disagreement]:
    return [d for d in a.disagreements if d.field == field]


AOPL = ("aopl", "202308230370")


def test_title_rule_h1_with_extra_words_gives_the_headline_the_others_agree_on() -> None:
    html = page("aopl-202308230370").replace(
        "<h1><span>泰王任命賽塔為總理", "<h1><span>【獨家】泰王任命賽塔為總理", 1
    )
    a = parse_article(html, url_for(*AOPL))
    assert (a.title, a.ways["title"]) == (
        "泰王任命賽塔為總理 新政府親軍方成員備受爭議",
        "h1-trimmed",
    )
    (d,) = _disagreements(a, "title")
    assert d.resolved and d.sources[0] == "h1" and "【獨家】" in d.values[0]
    assert "cnaspider/disagree/title" in field_stats(a)
    assert warnings(a) == []


def test_title_rule_two_sources_saying_two_things_refuse_the_page() -> None:
    html = page("aopl-202308230370").replace(
        "<h1><span>泰王任命賽塔為總理 新政府親軍方成員備受爭議", "<h1><span>完全不同的標題", 1
    )
    html = re.sub(r'<meta property="(og|twitter):title"[^>]*>', "", html)
    html = re.sub(r"<title>.*?</title>", "", html, flags=re.S)
    with pytest.raises(PageRefused) as info:
        parse_article(html, url_for(*AOPL))
    assert info.value.reason == CONFLICTING_TITLE
    # With og:title back, two sources against the h1: their headline wins, recorded.
    html = page("aopl-202308230370").replace(
        "<h1><span>泰王任命賽塔為總理 新政府親軍方成員備受爭議", "<h1><span>完全不同的標題", 1
    )
    a = parse_article(html, url_for(*AOPL))
    assert (a.title, a.ways["title"]) == (
        "泰王任命賽塔為總理 新政府親軍方成員備受爭議",
        "json-ld-headline",
    )
    assert _disagreements(a, "title")[0].picked == "json-ld-headline"


def test_time_rule_the_minute_most_sources_name_wins_and_a_tie_refuses() -> None:
    html = page("aopl-202308230370").replace(
        'article:published_time" content="2023-08-23T21:55:00+08:00',
        'article:published_time" content="2023-08-23T09:55:00+08:00',
    )
    a = parse_article(html, url_for(*AOPL))
    assert (a.published, a.ways["published"]) == (taipei(2023, 8, 23, 21, 55), "json-ld")
    (d,) = _disagreements(a, "published")
    assert d.resolved and d.picked == "json-ld" and "meta" in d.sources
    assert "cnaspider/disagree/published" in field_stats(a)
    tie = re.sub(r'<div class="updatetime">.*?</div>', "", html, flags=re.S)
    with pytest.raises(PageRefused) as info:
        parse_article(tie, url_for(*AOPL))
    assert info.value.reason == CONFLICTING_TIME


def test_time_of_another_story_is_not_this_ones_and_the_id_date_alone_is_a_warning() -> None:
    html = _without_times(page("aopl-202308230370"))
    html = re.sub(r'<div class="updatetime">.*?</div>', "", html, flags=re.S)
    a = parse_article(html, url_for(*AOPL))
    assert (a.published, a.ways["published"]) == (taipei(2023, 8, 23), "id-date")
    assert warnings(a) == ["published only from a last-resort way (id-date)"]
    # A sidebar's <time> of a January story is far from the id's date: it is not believed.
    sidebar = html.replace(
        "</body>", "<time datetime='2023-01-02T10:00:00+08:00'>2023/1/2</time></body>", 1
    )
    a = parse_article(sidebar, url_for(*AOPL))
    assert a.published == taipei(2023, 1, 2, 10)
    assert any(not d.resolved for d in _disagreements(a, "published")) and warnings(a)


def test_times_in_utc_are_the_same_instants_in_taipei_time() -> None:
    html = page("aopl-202308230370").replace("2023-08-23T21:55:00+08:00", "2023-08-23T13:55:00Z")
    a = parse_article(html, url_for(*AOPL))
    assert a.published == taipei(2023, 8, 23, 21, 55) and a.published.utcoffset() == dt.timedelta(
        hours=8
    )
    assert a.disagreements == []


def test_section_and_tags_rules() -> None:
    html = page("aopl-202308230370").replace('class="blue">國際</a>', 'class="blue">兩岸</a>')
    a = parse_article(html, url_for(*AOPL))
    assert (a.section, a.ways["section"]) == ("國際", "article-attr")
    assert _disagreements(a, "section")[0].resolved
    html = page("aopl-202308230370").replace(">#戴克辛<", ">#塔克辛<")
    a = parse_article(html, url_for(*AOPL))
    assert (a.tags, a.ways["tags"]) == (["帕拉育", "政變", "泰國", "戴克辛", "為泰黨"], "meta")
    assert _disagreements(a, "tags")[0].picked == "meta"


def _with_article_body(html: str, texts: list[str]) -> str:
    body = "\\n".join(texts).replace('"', '\\"')
    return html.replace('"keywords":', f'"articleBody":"{body}","keywords":', 1)


def test_body_rules_against_the_structured_article_body() -> None:
    html = page("acn-202308230192")
    original = parse_article(html, url_for("acn", "202308230192"))
    texts = [re.sub(r"<[^>]+>", "", p) for p in original.paragraphs]
    # A paragraph articleBody does not contain is not story.
    extra = html.replace("</p>", "</p><p>這一段不在結構化內文裡，是混進來的文字。</p>", 1)
    a = parse_article(_with_article_body(extra, texts), url_for("acn", "202308230192"))
    assert a.paragraphs == original.paragraphs and warnings(a) == []
    assert "not in json-ld-articleBody" in _disagreements(a, "body")[0].rule
    # Half the body gone from the markup: articleBody is much longer, and is used (a warning).
    half = re.sub(r"(</p>\s*)(<p>.*?</p>\s*){5}", r"\1", html, count=1, flags=re.S)
    a = parse_article(_with_article_body(half, texts), url_for("acn", "202308230192"))
    assert a.paragraphs == original.paragraphs
    assert a.ways["body"] == "json-ld-articleBody" and warnings(a)


def test_a_body_missing_its_end_is_flagged_and_the_description_must_open_it() -> None:
    html = page("ait-202308230354")
    cut = html.replace(
        "<p>除了持續精進資料治理政策", "</div><div class='x'><p>除了持續精進資料治理政策", 1
    )
    a = parse_article(cut, url_for("ait", "202308230354"))
    assert a.paragraphs[-1].endswith("（編輯：楊凱翔）1120823")  # joined by meaning
    wrong_lead = html.replace(
        '<meta name="description" content="數位部推動',
        '<meta name="description" content="別的摘要',
        1,
    )
    a = parse_article(wrong_lead, url_for("ait", "202308230354"))
    assert any("description" in w for w in warnings(a))


def test_caption_the_alt_text_contradicts_is_recorded() -> None:
    html = page("ahel-202308230179")
    html = re.sub(
        r'(<div class="fullPic">.*?<img[^>]*?alt=")[^"]*',
        r"\1完全無關的替代文字，說的是另一張照片",
        html,
        count=1,
        flags=re.S,
    )
    a = parse_article(html, url_for("ahel", "202308230179"))
    assert a.image is not None and a.image.caption.startswith("媒體報導")
    assert _disagreements(a, "caption")[0].picked == "picinfo"


def test_a_related_block_whose_links_cannot_be_read_is_flagged_not_silent() -> None:
    html = page("ahel-202308230179").replace(
        "https://www.cna.com.tw/news/ahel/202301195004.aspx", "/news/ahel/x", 1
    )
    html = re.sub(
        r"https://www\.cna\.com\.tw/news/asoc/(202210130227|202210060088)\.aspx",
        "javascript:void(0)",
        html,
    )
    a = parse_article(html, url_for("ahel", "202308230179"))
    assert a.related == [] and any(w.startswith("related:") for w in warnings(a))


def test_undecodable_pages_are_read_in_their_charset_repaired_or_refused() -> None:
    html = page("acn-202308230192")
    url = url_for("acn", "202308230192")
    original = parse_article(html, url)
    big5 = html.replace('<meta charset="utf-8"', '<meta charset="big5"', 1)
    a = parse_article(big5.encode("big5", errors="xmlcharrefreplace"), url)
    assert (a.title, a.paragraphs) == (original.title, original.paragraphs)
    double = html.encode("utf-8").decode("latin-1").encode("utf-8")
    a = parse_article(double, url)
    assert (a.title, a.paragraphs) == (original.title, original.paragraphs)
    lossy = html.encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")
    with pytest.raises(PageRefused) as info:
        parse_article(lossy, url)
    assert info.value.reason == BAD_ENCODING


def test_lead_photo_in_renamed_markup_is_found_by_the_name_json_ld_gives_it() -> None:
    html = page("aopl-202308230370").replace('<div class="fullPic">', '<div class="heroMedia">', 1)
    html = html.replace(
        '<div class="picinfo">泰國為泰黨賽塔（前中）',
        '<div class="credit">泰國為泰黨賽塔（前中）',
        1,
    )
    original = parse_article(page("aopl-202308230370"), url_for(*AOPL))
    a = parse_article(html, url_for(*AOPL))
    assert a.ways["image"] == "meta-photo-block" and a.image is not None
    assert original.image is not None
    assert (a.image.src, a.image.caption) == (original.image.src, original.image.caption)
    assert warnings(a) == []


def test_times_shown_only_as_text_in_a_renamed_box() -> None:
    html = _without_times(page("aopl-202308230370")).replace(
        '<div class="timeBox">',
        '<div class="timeBox"><div class="when">2023/8/23 21:55 <em>（8/23 22:26 更新）</em></div>',
        1,
    )
    a = parse_article(html, url_for(*AOPL))
    assert (a.published, a.ways["published"]) == (taipei(2023, 8, 23, 21, 55), "time-text")
    assert (a.modified, a.ways["modified"]) == (taipei(2023, 8, 23, 22, 26), "time-text")


def test_per_keyword_lists_under_another_class_are_not_related() -> None:
    html = page("aopl-202308230370")
    html = _drop_block(
        html, "<div class='paragraph moreArticle'>", "<div class='paragraph moreArticle flexhalf'>"
    )
    html = html.replace("moreArticle flexhalf", "moreArticle keywordList")
    a = parse_article(html, url_for(*AOPL))
    assert a.related == [] and "related" not in a.ways
