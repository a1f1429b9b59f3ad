"""What several test files share: running real crawls, saved pages, sample articles, checks.

Fixtures live in conftest.py; everything a test imports by name lives here, so that no
test module imports another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest
from scrapy.settings import Settings

import localcna
from cnaspider.crawl.spiders.firstnews import FirstNewsSpider
from cnaspider.extraction.items import Article, RelatedLink
from cnaspider.extraction.parsing import TAIPEI, PageRefused, parse_article, summary_text
from cnaspider.extraction.urls import article_id
from cnaspider.options import BadOption
from cnaspider.publishing.atomic import atomic_write_text
from cnaspider.publishing.feeds import FEED_SUBTITLE, FEED_TITLE, feed_body, feed_id
from cnaspider.publishing.paths import Paths, entry_id, post_url
from cnaspider.publishing.post import PostStyle, post_filename, render_post
from localcna.httpd import LocalCNA

REPO = Path(__file__).resolve().parent.parent


def needs_program(name: str) -> pytest.MarkDecorator:
    """Skip when ``name`` is not installed, unless CNASPIDER_REQUIRE lists it.

    CI sets CNASPIDER_REQUIRE=jekyll,chromium after installing them, so a broken install fails
    the run instead of silently skipping the site and browser tests.
    """
    required = name in os.environ.get("CNASPIDER_REQUIRE", "").split(",")
    return pytest.mark.skipif(
        shutil.which(name) is None and not required,
        reason=f"{name} is not installed (CI installs it and sets CNASPIDER_REQUIRE={name})",
    )


# Real crawls: `scrapy crawl firstnews` in a subprocess against the local CNA.

FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "DOWNLOAD_DELAY_JITTER=0",
]


@dataclass
class CrawlResult:
    """What a ``scrapy crawl`` subprocess left behind."""

    returncode: int
    log: str
    report: dict[str, Any]

    @property
    def stats(self) -> dict[str, Any]:
        return self.report.get("stats", {})


def crawl_command(base_url: str, output: Path, *args: str) -> list[str]:
    """The real ``scrapy crawl firstnews`` against ``base_url`` into ``output``, politeness off."""
    return [sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a", f"base_url={base_url}",
            "-s", f"OUTPUT_DIR={output}", *FAST, *args]  # fmt: skip


def crawl_env() -> dict[str, str]:
    """The environment for a crawl subprocess: this checkout's packages first."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run_crawl(base_url: str, output: Path, *args: str, timeout: float = 120) -> CrawlResult:
    """Run the real ``scrapy crawl firstnews`` against ``base_url`` into ``output``."""
    cmd = crawl_command(base_url, output, *args)
    env = crawl_env()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    report_path = output / ".state" / "last-crawl.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return CrawlResult(done.returncode, done.stderr + done.stdout, report)


def crawl_refusal(*args: str) -> str:
    """The line ``scrapy crawl firstnews ARGS`` refuses ``args`` with, checked in this process.

    The settings are built as ``scrapy crawl`` builds them: the project's, then each ``-s``
    at the command line's priority; the spider's arguments are the ``-a`` pairs.
    """
    arguments: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for flag, pair in zip(args[::2], args[1::2], strict=True):
        name, _, value = pair.partition("=")
        (arguments if flag == "-a" else overrides)[name] = value
    settings = Settings()
    settings.setmodule("cnaspider.crawl.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    with pytest.raises(BadOption) as refused:
        FirstNewsSpider.check_options(settings, arguments)
    return f"scrapy crawl firstnews: {refused.value}"


class Baselines:
    """One real crawl of a fresh local CNA per set of arguments, copied into each test that needs it.

    Many tests start from the same good crawl and then damage, edit or recrawl the site; the
    crawl is made once per test session (on first use) and each test gets its own copy. A test
    whose later steps depend on when the site was crawled (a revisit not yet due) or on how the
    server answered that crawl makes its own.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[tuple[str, ...], tuple[Path, CrawlResult]] = {}

    def copy(self, dest: Path, *args: str) -> CrawlResult:
        """Copy the crawl made with ``args`` into ``dest``; return what that crawl reported."""
        made = self._made.get(args)
        if made is None:
            source = self.root / f"crawl-{len(self._made)}"
            with LocalCNA() as server:
                result = run_crawl(server.base_url, source, *args)
            assert result.report.get("outcome") == "ok", result.log[-3000:]
            made = self._made[args] = (source, result)
        source, result = made
        shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
        return result


# Saved CNA pages and articles made from them.

DATA = Path(localcna.__file__).parent / "data"


def page(stem: str) -> str:
    """The saved page whose file name starts with ``stem``."""
    matches = sorted(DATA.rglob(f"{stem}*"))
    assert matches, f"no saved page {stem} under {DATA}"
    return matches[0].read_text(encoding="utf-8", errors="replace")


def url_for(slug: str, ident: str) -> str:
    return f"https://www.cna.com.tw/news/{slug}/{ident}.aspx"


def expired_page_made_whole() -> str:
    """The 2018-layout capture with the expiry notice replaced by a second paragraph."""
    html = page("asoc-201603190029")
    html, count = re.subn(
        r"<div style='border:solid 1px Red[^>]*>.*?</div>",
        "<p>消防局表示，起火原因待調查。（編輯：林亨山）1050319</p>",
        html,
        flags=re.S,
    )
    assert count == 1
    return html


def article(title: str = "標題", **changes: object) -> Article:
    """The golden story (202101140136) in short, with ``changes`` applied."""
    base = Article(
        id="202101140136",
        url="https://www.cna.com.tw/news/firstnews/202101140136.aspx",
        section="重點新聞",
        title=title,
        published=dt.datetime(2021, 1, 14, 6, 58, 18, tzinfo=dt.UTC),
        modified=dt.datetime(2021, 1, 14, 6, 58, 18, tzinfo=dt.UTC),
        paragraphs=["（中央社記者溫貴香台北14日電）第一段。", "第二段。（編輯：蘇龍麒）1100114"],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


ARTICLE_PAGES = DATA / "articles"


# The saved articles by file stem, with the slug and id their URL has.
PAGES = {
    "ahel-202308230179": ("ahel", "202308230179"),
    "acn-202308230192": ("acn", "202308230192"),
    "aopl-202308230370": ("aopl", "202308230370"),
    "ait-202308230354": ("ait", "202308230354"),
    "asoc-201603190029": ("asoc", "201603190029"),
}


def html_of(stem: str) -> str:
    """The saved page ``stem`` (the 2018 capture with its expiry notice made whole)."""
    return expired_page_made_whole() if stem.startswith("asoc") else page(stem)


def parse(html: str, stem: str) -> Article:
    """``html`` parsed at the URL of the saved page ``stem``."""
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


# Feeds.

FEED_NAMES = ("atom.xml", "rss.xml", "feed.json")


def real_articles() -> list[Article]:
    """Every saved CNA page that parses into an article."""
    out = []
    for page in sorted(ARTICLE_PAGES.glob("*.html")):
        try:
            out.append(parse_article(page.read_bytes(), "https://www.cna.com.tw/news/x/0.aspx"))
        except PageRefused:
            continue
    assert len(out) >= 4, "the saved CNA pages are missing"
    return out


def many_articles(count: int) -> list[Article]:
    """``count`` distinct articles made from the real ones, one hour apart, in shuffled order."""
    base = real_articles()
    start = dt.datetime(2023, 8, 1, 8, 0, tzinfo=TAIPEI)
    made = []
    for i in range(count):
        src = base[i % len(base)]
        ident = f"202308{1 + i // 24:02d}{1000 + i:04d}"
        when = start + dt.timedelta(hours=i)
        made.append(
            dataclasses.replace(
                src,
                id=ident,
                url=f"https://www.cna.com.tw/news/{src.url.split('/')[4]}/{ident}.aspx",
                title=f"{src.title}（{i}）",
                published=when,
                modified=when + dt.timedelta(minutes=i % 3 * 20),
            )
        )
    return made[::2] + made[1::2]


def read_all(output_dir: Path) -> dict[str, Any]:
    """The three feeds parsed: feedparser for Atom and RSS, json for JSON Feed."""
    # No sanitising: the content must come back exactly as the post body.
    atom = feedparser.parse(
        (output_dir / "atom.xml").read_bytes(), sanitize_html=False, resolve_relative_uris=False
    )
    rss = feedparser.parse(
        (output_dir / "rss.xml").read_bytes(), sanitize_html=False, resolve_relative_uris=False
    )
    for parsed in (atom, rss):
        assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert atom.version == "atom10" and rss.version == "rss20"
    # feedparser 6.0 does not read JSON Feed (bozo); the stdlib does.
    data = json.loads((output_dir / "feed.json").read_text(encoding="utf-8"))
    return {"atom": atom, "rss": rss, "json": data}


def utc_time(struct: Any) -> dt.datetime:
    return dt.datetime(*struct[:6]).replace(tzinfo=dt.UTC)


def expected_body(article: Article, style: PostStyle, site_url: str, local: set[str]) -> str:
    """The feed content: 延伸閱讀 links go to the site's copy of stored articles when published."""

    def href(link: RelatedLink) -> str:
        ident = article_id(link.url)
        return post_url(site_url, ident) if site_url and ident in local else link.url

    return feed_body(article, style, href)


def check_feeds(
    output_dir: Path,
    expected: list[Article],
    site_url: str,
    style: PostStyle,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    """Assert every field a reader relies on, in all three feeds, for ``expected`` (newest first).

    ``updated``: the feed-level time; by default only checked to be no older than the newest entry.
    """
    feeds = read_all(output_dir)
    atom, rss, data = feeds["atom"], feeds["rss"], feeds["json"]
    newest_update = max(a.modified for a in expected)
    base = site_url.rstrip("/")
    local = {a.id for a in expected}

    # Feed level.
    for parsed, name in ((atom, "atom.xml"), (rss, "rss.xml")):
        assert parsed.feed.title == FEED_TITLE
        assert parsed.feed.subtitle == FEED_SUBTITLE
        assert parsed.feed.language == "zh-TW"
        assert parsed.feed.link == (base + "/" if base else "https://www.cna.com.tw/")
        if updated is None:
            assert utc_time(parsed.feed.updated_parsed) >= newest_update
        else:
            assert utc_time(parsed.feed.updated_parsed) == updated.replace(microsecond=0)
        # Each file's self link is itself.
        selfs = [lk.href for lk in parsed.feed.get("links", []) if lk.rel == "self"]
        assert selfs == ([f"{base}/{name}"] if base else [])
    # The id does not depend on the site's address.
    assert atom.feed.id == feed_id()
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == FEED_TITLE and data["description"] == FEED_SUBTITLE
    assert data["language"] == "zh-TW"
    assert data["home_page_url"] == (base + "/" if base else "https://www.cna.com.tw/")
    assert data.get("feed_url") == (f"{base}/feed.json" if base else None)

    # Entries: same ids in the same order (newest published first) everywhere.
    ids = [entry_id(a.id) for a in expected]
    assert [e.id for e in atom.entries] == ids
    assert [e.id for e in rss.entries] == ids
    assert [i["id"] for i in data["items"]] == ids

    for article, a_entry, r_entry, item in zip(
        expected, atom.entries, rss.entries, data["items"], strict=True
    ):
        assert a_entry.id.startswith("https://www.cna.com.tw/news/") and article.id in a_entry.id
        body = expected_body(article, style, site_url, local)
        # With a published site the reader opens the site's post; CNA is the source.
        primary = post_url(site_url, article.id) if site_url else article.url
        summary = summary_text(article)
        authors = [style.source_label, *article.reporters]
        categories = list(dict.fromkeys([article.section, *article.tags]))
        for entry in (a_entry, r_entry):
            assert entry.title == article.title
            assert entry.link == primary
            assert utc_time(entry.published_parsed) == article.published
            assert entry.summary == summary
            assert entry.content[0].value == body
            assert [t.term for t in entry.tags] == categories
            assert [a.get("name") for a in entry.authors] == authors
        assert utc_time(a_entry.updated_parsed) == article.modified
        # Atom: one alternate (what a reader opens) and CNA as "via" when the site is published.
        alternates = [lk.href for lk in a_entry.links if lk.rel == "alternate"]
        assert alternates == [primary]
        vias = [lk.href for lk in a_entry.links if lk.rel == "via"]
        assert vias == ([article.url] if site_url else [])
        assert a_entry.content[0].type == "text/html"
        assert item["url"] == primary
        assert item.get("external_url") == (article.url if site_url else None)
        assert item["title"] == article.title
        assert item["content_html"] == body
        assert item["summary"] == summary
        assert dt.datetime.fromisoformat(item["date_published"]) == article.published
        assert dt.datetime.fromisoformat(item["date_modified"]) == article.modified
        assert [a["name"] for a in item["authors"]] == authors
        assert item["tags"] == categories
        if article.image:
            for entry in (a_entry, r_entry):
                assert [e.href for e in entry.enclosures] == [item["image"]]
                assert entry.enclosures[0].type.startswith("image/")
                assert [m["url"] for m in entry.media_content] == [item["image"]]
                assert entry.media_content[0]["medium"] == "image"
            assert item["image"].endswith(article.image.src.split("://", 1)[1])
            assert item["attachments"][0]["url"] == item["image"]
        else:
            assert not a_entry.get("enclosures") and not r_entry.get("enclosures")
            assert "image" not in item
    return feeds


# Hostile content: what a hostile page says, for the unit and the site tests.

HOSTILE_URL = "https://www.cna.com.tw/news/acn/202308230192.aspx"


HOSTILE_PARAGRAPHS = [
    "<script>alert('p')</script>正文一",
    '<img src="x" onerror="alert(1)">正文二<b onclick="alert(2)">粗</b>',
    '<a href="javascript:alert(3)">連結</a><a href="data:text/html,<script>alert(4)</script>">資料</a>',
    '<a href="JaVaScRiPt:alert(5)">大小寫</a><a href=" javascript:alert(6)">空白</a>',
    "<iframe src='https://evil.example/'></iframe><style>body{display:none}</style>正文三",
    "{{ site.title }} {% include evil.html %} {% endraw %} {%raw%}",
    "line one\n---\nlayout: evil\n---\nline two",
    "\u2028分隔\u2029段落 \u202e反向\u202c \u200f標記 🇹🇼 𠀀 \x01\x08控制",
    "<svg onload=alert(7)><use href='#x'/></svg>",
    '<a href="https://www.cna.com.tw/news/aipl/202101140143.aspx" onmouseover="alert(8)">好連結</a>',
]


HOSTILE_TITLE = "<script>alert('t')</script> {{ t }} {% t %} \"引號\" ---\n# 標題 [x](javascript:y)"


def hostile_page() -> str:
    html = page("acn-202308230192")
    body = "".join(f"<p>{p}</p>" for p in HOSTILE_PARAGRAPHS)
    html = re.sub(
        r'(<div class="paragraph">).*?(<div class=.articlekeywordGroup)',
        lambda m: m.group(1) + body + m.group(2),
        html,
        count=1,
        flags=re.S,
    )
    title = HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")
    html, count = re.subn(
        r"<h1>.*?</h1>", f"<h1><span>{title}</span></h1>", html, count=1, flags=re.S
    )
    assert count == 1
    # Every source of the title says the same (the parser cross-checks them).
    old = "中國單身人口逾2億 專家說因年輕人太宅"
    attr = HOSTILE_TITLE.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    html = html.replace(f'content="{old} |', f'content="{attr} |')
    html = html.replace(f'"headline":"{old}"', '"headline":' + json.dumps(HOSTILE_TITLE))
    return html


# Sites built with the real Jekyll.

JEKYLL = shutil.which("jekyll") or "jekyll"


def put_post(posts_dir: Path, article: Article, style: PostStyle | None = None) -> Path:
    """Write ``article``'s post as the crawl renders it (atomically); return its path."""
    path = posts_dir / post_filename(article)
    atomic_write_text(path, render_post(article, style))
    return path


# The scheduler, run as a user runs it.


def once(base_url: str, out: Path) -> subprocess.CompletedProcess[str]:
    """``python -m scheduler once`` into ``out`` against ``base_url``, politeness off."""
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "once", "--output", str(out), "--base-url", base_url,
         *FAST],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def last_report(out: Path) -> dict[str, Any]:
    """The last crawl's report (``.state/last-crawl.json``)."""
    return dict(json.loads(Paths.for_output(out).last_crawl.read_text(encoding="utf-8")))


# What the scheduler tests pass: the scheduler adds no jitter setting of its own.
SCHEDULER_FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]


def scheduler_cmd(command: str, output: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scheduler", command, "--output", str(output), *extra]


def run_scheduler(
    command: str, output: Path, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        scheduler_cmd(command, output, *extra),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_and_wait_for_crawl(cmd: list[str]) -> tuple[subprocess.Popen[str], int, list[str]]:
    """Start a scheduler command; return it once its child crawl runs, with the child's pid."""
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        lines.append(line)
        match = re.search(r"crawl started \(pid (\d+)\)", line)
        if match:
            return proc, int(match.group(1)), lines
        assert time.monotonic() < deadline, "".join(lines)
    raise AssertionError("the crawl never started:\n" + "".join(lines))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "8m") -> Iterator[Path]:
    """A small tmpfs mounted at ``where`` (created): a real full or read-only disk for a test.

    Root can mount one here and in CI; elsewhere the test is skipped, saying why.
    """
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
