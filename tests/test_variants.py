"""The real pages rewritten into every reported 2025–26 form parse to the same article."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import parse_article
from localcna import variants
from localcna.httpd import LocalCNA
from localcna.sitemap import build_site
from tests.helpers import Baselines, expired_page_made_whole, page, run_crawl, url_for

# The real pages: the four 2023 ones and the 2018-layout one (made whole, see test_parsing).
PAGES = {
    "ahel-202308230179": ("ahel", "202308230179"),
    "acn-202308230192": ("acn", "202308230192"),
    "aopl-202308230370": ("aopl", "202308230370"),
    "ait-202308230354": ("ait", "202308230354"),
    "asoc-201603190029": ("asoc", "201603190029"),
}
# Variants that keep every value of the page (no-related removes a block on purpose;
# times-client-side leaves only the id's date, tests/test_way_drift.py).
SAME = [name for name in variants.VARIANTS if name not in ("no-related", "times-client-side")]
# The way each variant makes the parser take, for a page that has the field.
WAYS = {
    "figure-lead": {"image": "full-pic", "caption": "figcaption"},
    "figure-around-fullpic": {"image": "full-pic", "caption": "figcaption"},
    "timeline-related": {"related": "more-article-class"},
    "renamed-related-class": {"related": "heading-text"},
    "heading-list-related": {"related": "heading-text"},
    "tags-without-wrapper": {"tags": "keyword-group"},
    "new-clutter": {"title": "h1", "body": "paragraph-div"},
    "support-button-in-h1": {"title": "h1"},
    "br-body": {"body": "br-runs"},
    "wrapped-body": {"body": "nested-p"},
    "renamed-body-div": {"body": "dateline-block"},
    "times-in-time-element": {"published": "time-element"},
    "times-in-page-json": {"published": "page-json"},
    "h1-decorations": {"title": "h1-trimmed"},
    "inline-non-body": {"body": "paragraph-div"},
    "scriptish-in-body": {"body": "paragraph-div"},
}


def html_of(stem: str) -> str:
    return expired_page_made_whole() if stem.startswith("asoc") else page(stem)


def parse(html: str, stem: str) -> Article:
    return parse_article(html, url_for(*PAGES[stem]))


def values(a: Article) -> dict[str, Any]:
    """What a reader sees of an article (not how it was found)."""
    return {
        "title": a.title,
        "published": a.published,
        "modified": a.modified,
        "section": a.section,
        "paragraphs": a.paragraphs,
        "image": (a.image.src, a.image.caption) if a.image else None,
        "inline": [(i.after, i.image.src, i.image.caption) for i in a.inline_images],
        "related": [(r.url, r.title, r.auto) for r in a.related],
        "tags": a.tags,
        "reporters": a.reporters,
        "editor": a.editor,
        "dateline": a.dateline,
    }


@pytest.fixture(scope="module")
def originals() -> dict[str, Article]:
    return {stem: parse(html_of(stem), stem) for stem in PAGES}


def test_the_real_pages_have_what_the_variants_rewrite(originals: dict[str, Article]) -> None:
    # Otherwise a variant could be a no-op on every page and its test would prove nothing.
    assert sum(bool(a.image) for a in originals.values()) == 3
    assert sum(bool(a.inline_images) for a in originals.values()) == 1
    assert sum(bool(a.related) for a in originals.values()) == 2
    assert sum(bool(a.tags) for a in originals.values()) == 4


@pytest.mark.parametrize("stem", PAGES)
def test_serialising_alone_changes_nothing(stem: str, originals: dict[str, Article]) -> None:
    assert values(parse(variants.rewrite(html_of(stem)), stem)) == values(originals[stem])


@pytest.mark.parametrize("name", SAME)
@pytest.mark.parametrize("stem", PAGES)
def test_each_variant_gives_the_same_values(
    stem: str, name: str, originals: dict[str, Article]
) -> None:
    html = variants.rewrite(html_of(stem), name)
    assert html != variants.rewrite(html_of(stem)) or name in _NOOP.get(stem, ()), "no-op"
    got = parse(html, stem)
    assert values(got) == values(originals[stem])
    for field, way in WAYS.get(name, {}).items():
        if field in originals[stem].ways:
            assert got.ways[field] == way, field


# Variants with nothing to rewrite on a page (no photo, no in-body photo, no 延伸閱讀).
_NOOP = {
    "acn-202308230192": (
        "related-link-forms",
        "sponsored-related",
        "figure-lead",
        "figure-around-fullpic",
        "figure-inline-images",
        "figure-in-paragraph",
        "timeline-related",
        "renamed-related-class",
        "heading-list-related",
        "relative-related-hrefs",
        "lazy-images",
    ),
    "ait-202308230354": (
        "related-link-forms",
        "sponsored-related",
        "figure-lead",
        "figure-around-fullpic",
        "figure-inline-images",
        "figure-in-paragraph",
        "timeline-related",
        "renamed-related-class",
        "heading-list-related",
        "relative-related-hrefs",
    ),
    "ahel-202308230179": ("figure-inline-images", "figure-in-paragraph"),
    "asoc-201603190029": (
        "ld-graph",
        "utc-times",
        "related-link-forms",
        "sponsored-related",
        "figure-inline-images",
        "figure-in-paragraph",
        "timeline-related",
        "renamed-related-class",
        "heading-list-related",
        "relative-related-hrefs",
        "tags-without-wrapper",
    ),
}


def _all_at_once() -> list[tuple[str, ...]]:
    """Every variant at once, for each choice among the ones that exclude each other."""
    free = [n for n in SAME if not any(n in g for g in variants.EXCLUSIVE)]
    combos = []
    for choice in itertools.product(*[sorted(g) for g in variants.EXCLUSIVE]):
        combos.append(tuple(n for n in SAME if n in free or n in choice))
    return combos


@pytest.mark.parametrize("names", _all_at_once(), ids="+".join)
@pytest.mark.parametrize("stem", PAGES)
def test_all_variants_combined_give_the_same_values(
    stem: str, names: tuple[str, ...], originals: dict[str, Article]
) -> None:
    got = parse(variants.rewrite(html_of(stem), *names), stem)
    assert values(got) == values(originals[stem])


@pytest.mark.parametrize(
    "names",
    [p for p in itertools.combinations(SAME, 2) if variants.compatible(p)],
    ids="+".join,
)
def test_every_pair_on_the_page_with_everything(
    names: tuple[str, ...], originals: dict[str, Article]
) -> None:
    # aopl has a lead photo, in-body photos, inserts, 延伸閱讀, keyword lists and tags.
    stem = "aopl-202308230370"
    got = parse(variants.rewrite(html_of(stem), *names), stem)
    assert values(got) == values(originals[stem])


def test_renamed_related_class_is_found_by_its_heading(originals: dict[str, Article]) -> None:
    stem = "ahel-202308230179"
    html = variants.rewrite(html_of(stem), "renamed-related-class", "relative-related-hrefs")
    assert "moreArticle'" not in html and 'class="paragraph moreArticle"' not in html
    assert 'href="/news/ahel/202301195004.aspx"' in html
    got = parse(html, stem)
    assert got.ways["related"] == "heading-text"
    assert [(r.url, r.title) for r in got.related] == [
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


@pytest.mark.parametrize("stem", PAGES)
@pytest.mark.parametrize(
    "extra", [(), ("renamed-related-class",), ("new-clutter", "figure-inline-images")]
)
def test_a_page_without_related_block_gives_none(stem: str, extra: tuple[str, ...]) -> None:
    # aopl keeps its per-keyword .flexhalf lists and in-body a.insert links: neither is 延伸閱讀.
    got = parse(variants.rewrite(html_of(stem), *extra, "no-related"), stem)
    assert got.related == [] and "related" not in got.ways


def test_lazy_placeholder_is_never_the_photo(originals: dict[str, Article]) -> None:
    stem = "aopl-202308230370"
    html = variants.rewrite(html_of(stem), "figure-lead", "lazy-images")
    assert html.count(f'src="{variants.PLACEHOLDER}"') >= 3  # lead, two in-body photos
    got = parse(html, stem)
    assert got.image is not None and got.image.src == originals[stem].image.src  # type: ignore[union-attr]
    assert "/1024/" in got.image.src
    assert all(i.image.src.startswith("https://") for i in got.inline_images)


def test_clutter_never_reaches_the_article() -> None:
    stem = "ahel-202308230179"
    got = parse(variants.rewrite(html_of(stem), "new-clutter", "support-button-in-h1"), stem)
    text = got.title + "".join(got.paragraphs)
    for clutter in ("贊助支持", "LINE好友", "名詞解釋", "電子報", "請繼續下滑閱讀", "下一篇"):
        assert clutter not in text, clutter


@pytest.mark.slow
def test_crawl_of_a_2026_style_site_writes_the_same_posts(
    tmp_path: Path, baseline: Baselines
) -> None:
    """The whole local CNA in reported 2025–26 markup gives byte-identical posts."""
    names = (
        "figure-lead",
        "lazy-images",
        "figure-inline-images",
        "timeline-related",
        "relative-related-hrefs",
        "tags-without-wrapper",
        "no-updatetime",
        "new-clutter",
    )
    posts = {}
    # The 2023 markup is the local CNA as it is: the session's baseline crawl.
    assert baseline.copy(tmp_path / "2023").report["outcome"] == "ok"
    with LocalCNA(variants.apply_to_site(build_site(), *names)) as server:
        result = run_crawl(server.base_url, tmp_path / "2026")
    assert result.report["outcome"] == "ok", result.log[-3000:]
    assert result.stats["cnaspider/fields/related/more-article-class"] >= 8
    assert result.stats["cnaspider/fields/caption/figcaption"] >= 4
    for label in ("2023", "2026"):
        posts[label] = {
            p.name: p.read_bytes() for p in sorted((tmp_path / label / "_posts").glob("*.md"))
        }
    assert len(posts["2023"]) == 13
    assert posts["2026"] == posts["2023"]
