"""``python -m cnaspider.probe [URL|FILE ...]``: what cnaspider reads from CNA's pages today.

For each article page: every field, a short value and the way it was found, or
MISSING. For a list page: the entries and how the list was found. For robots.txt:
what it forbids and which sitemaps it lists; for a sitemap: how many URLs. URLs are
fetched politely (robots.txt obeyed, the project's User-Agent, one request at a
time with the project's download delay); a FILE is read from disk. With no
argument it probes a default set (see :data:`DEFAULT_PATHS`).

An article's fields are cross-checked by the parser: under each field the probe prints
every source that disagreed, and how the field's rule decided. Exit status: 0 when every
required field was found and nothing is suspect; 1 when a required field is missing, a
page is refused, a field came only from a last-resort way (``extraction.parsing.
WARNING_WAYS``: the id's date, og:title alone, the structured body alone ...) or sources
disagree and no rule resolved it (the one-line reason is printed); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import codecs
import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from lxml import etree
from protego import Protego

from cnaspider.archive.coverage import fields_present
from cnaspider.crawl import settings as project
from cnaspider.extraction.items import Article
from cnaspider.extraction.parsing import (
    WARNING_WAYS,
    PageRefused,
    parse_article,
    parse_list,
    warnings,
)
from cnaspider.extraction.urls import (
    SITE_URL,
    article_id,
    normalize_article_url,
    to_fetch_url,
    to_site_url,
)
from cnaspider.tools.command import reader_gone_quietly

EXIT_OK = 0
EXIT_MISSING = 1
EXIT_USAGE = 2

# The default set: robots.txt, the two lists the spider reads and the sitemaps
# docs/cna-site.md#robots-and-sitemaps names; then the first articles of the headlines list.
DEFAULT_PATHS = (
    "/robots.txt",
    "/list/headlines.aspx",
    "/list/firstnews.aspx",
    "/sitemapindex.xml",
    "/sitemap_fromRemote_cfp.xml",
    "/GoogleNewsSitemap_fromRemote_cfp.xml",
)
DEFAULT_ARTICLES = 3
# firstnews looks retired since 2022 (docs/cna-site.md#list-pages): its absence is reported,
# not a failure.
OPTIONAL_PATHS = ("/list/firstnews.aspx",)
# Without these an article cannot become a correct post.
REQUIRED_FIELDS = ("title", "published", "section", "body")
# Article fields in print order: (name, Article attribute, name in Article.ways).
ARTICLE_FIELDS = (
    ("id", "id"),
    ("url", "url"),
    ("section", "section"),
    ("title", "title"),
    ("published", "published"),
    ("modified", "modified"),
    ("body", "paragraphs"),
    ("image", "image"),
    ("caption", "image"),
    ("inline_images", "inline_images"),
    ("related", "related"),
    ("tags", "tags"),
    ("dateline", "dateline"),
    ("reporters", "reporters"),
    ("editor", "editor"),
)
_TAGS = re.compile(r"<[^>]+>")
_WIDTH = 70


class UsageError(Exception):
    """A bad argument or an unreadable file: one line on stderr, exit 2."""


@dataclass
class Line:
    """One field of a page: its short value, the way it was found, or missing."""

    name: str
    value: str
    way: str = ""
    found: bool = True
    required: bool = False
    # Sources of this field that disagreed, one line each, and whether the way is a last resort.
    disagreements: list[str] = field(default_factory=list)
    warning: bool = False


@dataclass
class PageReport:
    """What the probe read from one page."""

    source: str  # the URL or file as given
    url: str  # the www.cna.com.tw URL it stands for ("" for an unknown file)
    kind: str  # article, list, robots, sitemap
    status: int | None = None  # HTTP status (None for a file)
    ok: bool = True
    optional: bool = False
    error: str = ""
    lines: list[Line] = field(default_factory=list)
    saved: str = ""
    warnings: list[str] = field(default_factory=list)

    def fail(self, error: str) -> PageReport:
        self.ok, self.error = False, error
        return self


def short(text: str, width: int = _WIDTH) -> str:
    """``text`` on one line, cut to ``width`` characters."""
    text = " ".join(_TAGS.sub("", text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- fetching ---------------------------------------------------------------------


@dataclass
class Fetched:
    """A fetched page (``status`` None when the request itself failed)."""

    url: str
    status: int | None
    body: bytes
    error: str = ""


class PoliteFetcher:
    """One request at a time, ``delay`` seconds apart, robots.txt obeyed, our User-Agent."""

    def __init__(self, user_agent: str, delay: float, timeout: float, max_bytes: int) -> None:
        self.user_agent = user_agent
        self.delay = delay
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.robots: dict[str, Protego | None] = {}
        self.robots_pages: dict[str, Fetched] = {}
        self._last = 0.0

    def _get(self, url: str) -> Fetched:
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept-Language": "zh-TW,zh;q=0.9"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Fetched(url, response.status, response.read(self.max_bytes))
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, exc.read(self.max_bytes), f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return Fetched(url, None, b"", f"request failed: {reason}")
        finally:
            self._last = time.monotonic()

    def robots_for(self, url: str) -> Protego | None:
        """The parsed robots.txt of ``url``'s host (None when it has none)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            page = self._get(origin + "/robots.txt")
            self.robots_pages[origin] = page
            ok = page.status == 200 and page.body
            self.robots[origin] = (
                Protego.parse(page.body.decode("utf-8", "replace")) if ok else None
            )
        return self.robots[origin]

    def fetch(self, url: str) -> Fetched:
        """GET ``url`` unless robots.txt forbids it to our User-Agent."""
        if urlsplit(url).path == "/robots.txt":
            self.robots_for(url)
            return self.robots_pages[f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"]
        robots = self.robots_for(url)
        if robots is not None and not robots.can_fetch(url, self.user_agent):
            return Fetched(url, None, b"", "forbidden by robots.txt")
        return self._get(url)


# --- reading pages ------------------------------------------------------------------


def guess_kind(url: str, body: bytes) -> str:
    """article, list, robots or sitemap, from the path and then the content."""
    path = urlsplit(url).path.lower() if "://" in url else Path(url).name.lower()
    head = body[:2000].lstrip().lower()
    if path.endswith("robots.txt") or head.startswith((b"user-agent", b"sitemap:")):
        return "robots"
    if path.endswith(".xml") or b"<urlset" in head or b"<sitemapindex" in head:
        return "sitemap"
    if "/list/" in path or "/topic/" in path or path.startswith("list"):
        return "list"
    if "/news/" in path:
        return "article"
    return "list" if parse_list(body, SITE_URL + "/list/x.aspx").found_list else "article"


def _value(name: str, article: Article) -> str:
    a = article
    if name == "body":
        return f"{len(a.paragraphs)} paragraphs: {short(a.paragraphs[0], 50)}"
    if name == "image":
        return a.image.src if a.image else ""
    if name == "caption":
        return short(a.image.caption) if a.image else ""
    if name == "inline_images":
        return f"{len(a.inline_images)}: " + " ".join(i.image.src for i in a.inline_images)
    if name == "related":
        links = "; ".join(
            f"{link.title} ({article_id(link.url) or link.url})" for link in a.related
        )
        return short(f"{len(a.related)} links: {links}")
    if name == "tags":
        return short(" ".join(f"#{t}" for t in a.tags))
    if name == "reporters":
        return "、".join(a.reporters)
    if name in ("published", "modified"):
        return str(getattr(a, name).isoformat())
    return short(str(getattr(a, name)))


def _disagreement_lines(article: Article, name: str) -> list[str]:
    lines = []
    for d in article.disagreements:
        if d.field != name:
            continue
        said = " vs ".join(
            f"{src} {value!r}" for src, value in zip(d.sources, d.values, strict=False)
        )
        verdict = f"resolved: {d.picked or 'kept'}" if d.resolved else "UNRESOLVED"
        lines.append(f"{said} ({d.rule}; {verdict})" if d.rule else f"{said} ({verdict})")
    return lines


def read_article(report: PageReport, body: bytes, url: str) -> PageReport:
    """Every field of the article page ``body`` standing for ``url``, with its way and the
    sources that disagreed; fails the report on a missing required field or a suspect one."""
    try:
        article = parse_article(body, url)
    except PageRefused as refusal:
        return report.fail(f"refused: {refusal.reason} ({refusal.detail})")
    report.url = article.url
    present = fields_present(article)
    for name, attr in ARTICLE_FIELDS:
        value = getattr(article, attr)
        found = present.get(name, bool(value))
        if name in ("published", "section", "title", "id", "url"):
            found = bool(value)
        way = article.ways.get(name, "")
        report.lines.append(
            Line(
                name,
                _value(name, article) if found else "",
                way,
                found,
                name in REQUIRED_FIELDS,
                _disagreement_lines(article, name),
                way in WARNING_WAYS.get(name, ()),
            )
        )
    missing = [line.name for line in report.lines if line.required and not line.found]
    report.warnings = warnings(article)
    if missing:
        report.fail(f"required field(s) missing: {', '.join(missing)}")
    elif report.warnings:
        more = f" (+{len(report.warnings) - 1} more)" if len(report.warnings) > 1 else ""
        report.fail(f"suspect: {report.warnings[0]}{more}")
    return report


def read_list(report: PageReport, body: bytes, url: str) -> tuple[PageReport, list[str]]:
    """The entries of a list page, and their URLs."""
    page = parse_list(body, url)
    way = str(getattr(page, "way", "") or ("list-markup" if page.found_list else ""))
    report.lines.append(
        Line("entries", f"{len(page.entries)} articles, {page.skipped} other links skipped", way,
             bool(page.entries), True)
    )  # fmt: skip
    for entry in page.entries:
        when = entry.time.isoformat() if entry.time else "no time"
        report.lines.append(Line(entry.id, short(f"{when}  {entry.title}", 60), "", True))
    if not page.found_list:
        report.fail("no list markup (ul#jsMainList / ul#myMainList) on the page")
    elif not page.entries:
        report.fail("the list has no article links")
    return report, [entry.url for entry in page.entries]


def read_robots(report: PageReport, body: bytes, url: str, user_agent: str) -> PageReport:
    """What robots.txt forbids, which sitemaps it lists, what it lets us fetch."""
    text = body.decode("utf-8", "replace")
    robots = Protego.parse(text)
    group = "*"
    for raw in text.splitlines():
        key, _, value = raw.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            group = value
        elif key in ("disallow", "allow") and value:
            report.lines.append(Line(key, f"{value}  (User-agent: {group})"))
    sitemaps = list(robots.sitemaps)
    report.lines.append(Line("sitemaps", f"{len(sitemaps)} listed", found=True))
    report.lines += [Line("sitemap", s) for s in sitemaps]
    origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    for path in (
        "/list/headlines.aspx",
        "/news/aipl/202601010001.aspx",
        "/cna2018api/api/WNewsList",
    ):
        allowed = robots.can_fetch(origin + path, user_agent)
        report.lines.append(Line("may fetch", f"{path}: {'yes' if allowed else 'NO'}"))
    delay = robots.crawl_delay(user_agent)
    if delay:
        report.lines.append(Line("crawl-delay", f"{delay} s"))
    return report


def read_sitemap(report: PageReport, body: bytes) -> PageReport:
    """A sitemap index or URL set: how many URLs, how many are articles, the newest date."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return report.fail(f"not XML: {exc}")
    kind = etree.QName(root).localname
    locs = [str(x).strip() for x in root.xpath("//*[local-name()='loc']/text()")]
    report.lines.append(Line("type", kind))
    if kind == "sitemapindex":
        report.lines.append(
            Line("sitemaps", f"{len(locs)} listed", found=bool(locs), required=True)
        )
        report.lines += [Line("sitemap", loc) for loc in locs]
    else:
        articles = sum(1 for loc in locs if normalize_article_url(loc))
        report.lines.append(
            Line("urls", f"{len(locs)} URLs, {articles} CNA articles", found=bool(locs),
                 required=True)
        )  # fmt: skip
        for name in ("lastmod", "publication_date", "title"):
            values = [str(x).strip() for x in root.xpath(f"//*[local-name()='{name}']/text()")]
            if values:
                newest = max(values) if name != "title" else values[0]
                label = "newest" if name != "title" else "first"
                report.lines.append(Line(name, f"{len(values)}, {label}: {short(newest, 50)}"))
    if not locs:
        report.fail("the sitemap lists no URL")
    return report


# --- the command ------------------------------------------------------------------------


@dataclass
class Probe:
    """One probe session: where pages come from and where raw copies go."""

    base_url: str
    fetcher: PoliteFetcher
    save_dir: Path | None = None
    reports: list[PageReport] = field(default_factory=list)

    def probe_url(self, url: str, *, optional: bool = False) -> tuple[PageReport, list[str]]:
        site_url = url if urlsplit(url).scheme else SITE_URL + url
        fetch_url = to_fetch_url(site_url, self.base_url) if "cna.com.tw" in site_url else site_url
        site_url = to_site_url(fetch_url, self.base_url)
        fetched = self.fetcher.fetch(fetch_url)
        report = PageReport(url, site_url, guess_kind(site_url, fetched.body), fetched.status)
        report.optional = optional
        if fetched.status is None or (fetched.status != 200 and report.kind != "robots"):
            self.reports.append(report.fail(fetched.error or f"HTTP {fetched.status}"))
            return report, []
        if report.kind == "robots" and fetched.status != 200:
            report.lines.append(Line("robots.txt", f"HTTP {fetched.status}: everything allowed"))
            self.reports.append(report)
            return report, []
        if self.save_dir is not None:
            report.saved = str(self._save(site_url, report.kind, fetched.body))
        return self._read(report, fetched.body, site_url)

    def probe_file(self, path: Path) -> PageReport:
        body = read_page_file(path)
        match = re.search(r"([a-z]+)-(\d{12})", path.name)
        url = f"{SITE_URL}/news/{match.group(1)}/{match.group(2)}.aspx" if match else ""
        kind = guess_kind(str(path), body)
        report = PageReport(str(path), url, kind)
        self._read(report, body, url or f"{SITE_URL}/list/{path.stem}.aspx")
        return report

    def _read(self, report: PageReport, body: bytes, url: str) -> tuple[PageReport, list[str]]:
        entries: list[str] = []
        if report.kind == "article":
            read_article(report, body, url)
        elif report.kind == "list":
            report, entries = read_list(report, body, url)
        elif report.kind == "robots":
            read_robots(report, body, url, self.fetcher.user_agent)
        else:
            read_sitemap(report, body)
        self.reports.append(report)
        return report, entries

    def _save(self, url: str, kind: str, body: bytes) -> Path:
        assert self.save_dir is not None
        path = urlsplit(url).path
        match = re.search(r"/news/([a-z]+)/(\d{12})", path)
        if match:
            name = f"{match.group(1)}-{match.group(2)}.html"
        elif kind == "list":
            name = path.strip("/").replace("/", "-").removesuffix(".aspx") + ".html"
        else:
            name = Path(path).name or "index.html"
        self.save_dir.mkdir(parents=True, exist_ok=True)
        target = self.save_dir / name
        target.write_bytes(body)
        return target

    def run_default(self) -> None:
        """robots.txt, the lists, the sitemaps, then the first articles of the headlines list."""
        articles: list[str] = []
        for path in DEFAULT_PATHS:
            _, entries = self.probe_url(path, optional=path in OPTIONAL_PATHS)
            if path == "/list/headlines.aspx":
                articles = entries[:DEFAULT_ARTICLES]
        for url in articles:
            self.probe_url(url)

    @property
    def ok(self) -> bool:
        return all(r.ok or r.optional for r in self.reports)


def read_page_file(path: Path) -> bytes:
    """The bytes of a saved page; :class:`UsageError` for what cannot be one."""
    try:
        if not path.exists():
            raise UsageError(f"no such file: {path}")
        if path.is_dir():
            raise UsageError(f"{path} is a directory; give a saved page (an .html file)")
        if not path.is_file():
            # Opening a FIFO would wait for a writer forever.
            raise UsageError(f"{path} is not a regular file; give a saved page (an .html file)")
        body = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if _binary(body):
        raise UsageError(f"{path} is not HTML (binary data); give a page saved from CNA")
    return body


def _binary(body: bytes) -> bool:
    """Whether ``body`` is not text: a NUL byte, or not UTF-8, in its first 8 kB."""
    head = body[:8192]
    if b"\0" in head:
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(body) <= len(head))  # a cut character is not an error
    except UnicodeDecodeError:
        return True
    return False


def is_site_path(page: str) -> bool:
    """Whether ``page`` is a path on CNA's site (``/list/headlines.aspx``), not a local file.

    A path to a file that does not exist (``/tmp/saved.html``) must not be requested from
    www.cna.com.tw: CNA's pages are ``.aspx``, ``.xml`` or ``.txt``, and their folders
    (``/list``, ``/news``) are not folders on this machine.
    """
    path = Path(page)
    if not page.startswith("/") or path.exists():
        return False
    if path.suffix.lower() in (".html", ".htm"):
        return False
    return path.parent == Path("/") or not path.parent.exists()


def render_text(reports: list[PageReport]) -> str:
    """The human-readable report."""
    out: list[str] = []
    for r in reports:
        where = f"{r.source}" + (f" = {r.url}" if r.url and r.url != r.source else "")
        status = f" HTTP {r.status}" if r.status is not None else ""
        out.append(f"== {r.kind}: {where}{status}")
        for line in r.lines:
            if line.found:
                last = ", last resort" if line.warning else ""
                way = f"  [{line.way}{last}]" if line.way else ""
                out.append(f"  {line.name:<16} {line.value}{way}")
            else:
                need = " (required)" if line.required else ""
                out.append(f"  {line.name:<16} MISSING{need}")
            out += [f"  {'':<16} disagree: {d}" for d in line.disagreements]
        if r.saved:
            out.append(f"  saved to {r.saved}")
        if r.error:
            out.append(f"  {'NOTE' if r.optional else 'FAILED'}: {r.error}")
        out += [f"  suspect: {w}" for w in r.warnings[1:]]
    failed = [r for r in reports if not r.ok and not r.optional]
    out.append(
        f"probe: {len(reports)} page(s), "
        + (
            "every required field found, nothing suspect"
            if not failed
            else f"{len(failed)} with a problem"
        )
    )
    return "\n".join(out)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: scripts and people both read it.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


EXIT_STATUS = """\
exit status:
  0    every page probed has every required field
  1    a page failed, or a required field is MISSING (see the report)
  2    a bad argument"""


def build_parser(prog: str = "python -m cnaspider.probe") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Show what cnaspider reads from CNA pages: each field, its value and the "
        "way it was found, or MISSING. With no PAGE, probes robots.txt, the lists, the "
        "sitemaps and the first three headlines.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pages", nargs="*", metavar="URL|FILE", help="pages to probe")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--save", type=Path, metavar="DIR", help="keep the raw fetched pages here")
    parser.add_argument(
        "--base-url",
        default=SITE_URL,
        help="fetch www.cna.com.tw paths from here instead (a local copy); default %(default)s",
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=float(project.DOWNLOAD_DELAY),
        help="seconds between requests (default: the crawl's DOWNLOAD_DELAY, %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=float(project.DOWNLOAD_TIMEOUT))
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m cnaspider.probe") -> int:
    """Entry point; returns the exit status (a closed standard output is no traceback)."""
    return reader_gone_quietly(_main, argv, prog)


def _main(argv: Sequence[str] | None, prog: str) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
        parser.error(f"--base-url must be an http(s) URL, not {args.base_url!r}")
    if args.delay < 0 or args.timeout <= 0:
        parser.error("--delay must be >= 0 and --timeout > 0")
    fetcher = PoliteFetcher(
        project.USER_AGENT, args.delay, args.timeout, int(project.DOWNLOAD_MAXSIZE)
    )
    probe = Probe(base, fetcher, args.save)
    try:
        if args.save is not None and args.save.exists() and not args.save.is_dir():
            raise UsageError(f"--save {args.save} is not a directory")
        if not args.pages:
            probe.run_default()
        for page in args.pages:
            if re.match(r"^https?://", page):
                probe.probe_url(page)
            elif is_site_path(page):
                probe.probe_url(page)  # a site path such as /list/headlines.aspx
            else:
                probe.probe_file(Path(page))
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        data = {"ok": probe.ok, "pages": [asdict(r) for r in probe.reports]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_text(probe.reports))
    return EXIT_OK if probe.ok else EXIT_MISSING
