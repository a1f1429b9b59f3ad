"""The Jekyll post writer: one article -> one post in the golden format.

The format is that of ``firstnews-202101140136.md``: front matter with fixed
keys and quoting, an ``<!--ms-->`` line, a title link, ``------`` and a
``<div>`` body in CNA's own markup (lead image, paragraphs, 延伸閱讀).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from cnaspider.archive.store import Store
from cnaspider.extraction.items import Article, Image
from cnaspider.extraction.parsing import TAIPEI
from cnaspider.extraction.urls import article_id
from cnaspider.publishing.atomic import StagedWrite, stage_write
from cnaspider.publishing.existing_posts import post_files, read_post_origin

logger = logging.getLogger(__name__)

DEFAULT_SOURCE_LABEL = "(臺)中央社CNA"
DEFAULT_IMAGE_PROXY = "https://images.weserv.nl/?url="

# YAML forbids these characters raw (PyYAML's and Psych's printable set), and
# U+0085/U+2028/U+2029 are line breaks to YAML: all must be escaped in a title.
_YAML_UNSAFE = re.compile(
    "[^\x09\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# Characters that Markdown (kramdown) or Liquid would read as syntax inside the
# title link; each becomes a numeric character reference, which renders as itself.
_MARKDOWN_SPECIALS = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]<>&{}|$!#"})


def _neutralise_liquid(text: str) -> str:
    """Jekyll runs Liquid over the whole file: a brace in article text must not
    open a ``{{ }}`` or ``{% %}`` tag. A character reference renders identically."""
    return text.replace("{", "&#123;").replace("}", "&#125;")


@dataclass(frozen=True)
class PostStyle:
    """Settings that change how posts look."""

    source_label: str = DEFAULT_SOURCE_LABEL
    image_proxy: str = DEFAULT_IMAGE_PROXY

    @functools.cached_property
    def yaml_labels(self) -> tuple[str, str]:
        """The label as a YAML block scalar and as a flow item (parsed once per style)."""
        return _yaml_plain(self.source_label, flow=False), _yaml_plain(self.source_label, flow=True)


def yaml_double_quoted(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly ``text``."""

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in _YAML_ESCAPES:
            return _YAML_ESCAPES[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    text = _SURROGATES.sub("\ufffd", text)
    body = re.sub(r'[\\"]', lambda m: _YAML_ESCAPES[m.group(0)], text)
    return '"' + _YAML_UNSAFE.sub(escape, body) + '"'


def _yaml_plain(text: str, flow: bool) -> str:
    """``text`` unquoted when YAML reads it back unchanged, else double-quoted."""
    probe = f"[ {text} ]" if flow else text
    try:
        loaded = yaml.safe_load(probe)
    except yaml.YAMLError:
        loaded = None
    ok = loaded == [text] if flow else loaded == text
    return text if ok and "\n" not in text else yaml_double_quoted(text)


def utc_stamp(when: dt.datetime) -> str:
    """``2021-01-14T06:58:18.000Z``: the golden post's date format."""
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def epoch_ms(when: dt.datetime) -> int:
    """The instant in epoch milliseconds (the ``<!--…-->`` line)."""
    return int(when.timestamp() * 1000)


def post_filename(article: Article) -> str:
    """``YYYY-MM-DD-<id>.md``, the date being the published day in Taipei."""
    return f"{article.published.astimezone(TAIPEI):%Y-%m-%d}-{article.id}.md"


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _image_url(src: str, proxy: str) -> str:
    if not proxy:
        return src
    return proxy + re.sub(r"^https?://", "", src)


def _image_block(image: Image, style: PostStyle) -> str:
    caption = image.caption or image.alt
    return (
        '<div class="floatImg center"><div class="wrap">'
        f'<img src="{_attr(_image_url(image.src, style.image_proxy))}" alt="{_attr(image.alt or caption)}">'
        f'</div><div class="picinfo">{html.escape(caption, quote=False)}</div></div>'
    )


def _related_block(article: Article) -> str:
    if not article.related:
        return ""
    links = "".join(
        f"<a class='moreArticle-link{' autoTag' if link.auto else ''}' href='{_attr(link.url)}'>"
        f"<i class='icon-dot'></i><span>{html.escape(link.title, quote=False)}</span></a>"
        for link in article.related
    )
    return (
        "<div class='paragraph moreArticle'><div class='moreArticle-title'>延伸閱讀</div>"
        f"{links}</div>"
    )


def render_body(article: Article, style: PostStyle) -> str:
    """The ``<div>`` … ``</div>`` part of a post (without Liquid protection)."""
    parts: list[str] = []
    if article.image:
        parts.append(f'<div class="fullPic">{_image_block(article.image, style)}</div>')
    inline: dict[int, list[Image]] = {}
    for item in article.inline_images:
        inline.setdefault(item.after, []).append(item.image)
    body: list[str] = []
    for index, paragraph in enumerate(article.paragraphs):
        body.extend(
            f'<div class="media">{_image_block(i, style)}</div>' for i in inline.get(index, [])
        )
        body.append(f"<p>{paragraph}</p>")
    for index in sorted(k for k in inline if k >= len(article.paragraphs)):
        body.extend(f'<div class="media">{_image_block(i, style)}</div>' for i in inline[index])
    body.append(_related_block(article))
    parts.append('<div class="paragraph">' + "".join(body) + "</div>")
    return "<div>\n" + "".join(parts) + "\n</div>\n"


def render_post(article: Article, style: PostStyle | None = None) -> str:
    """The complete post file for ``article``."""
    style = style or PostStyle()
    label, label_item = style.yaml_labels
    title_link = article.title.translate(_MARKDOWN_SPECIALS)
    title_link = re.sub(r"\s+", " ", title_link).strip()
    front = "\n".join(
        [
            "---",
            "layout: post",
            f"title: {yaml_double_quoted(article.title)}",
            f"date: {utc_stamp(article.published)}",
            f"author: {label}",
            f"from: {article.url}",
            f"tags: [ {label_item} ]",
            f"categories: [ {label_item} ]",
            "---",
        ]
    )
    return (
        f"{front}\n"
        f"<!--{epoch_ms(article.published)}-->\n"
        f"[{title_link}]({article.url})\n"
        "------\n\n" + _neutralise_liquid(render_body(article, style))
    )


def _holds(path: Path, text: str) -> bool:
    """Whether the file at ``path`` already holds ``text``."""
    if path.exists() and not path.is_file():
        return False  # reading a FIFO would wait forever; the new post replaces it
    try:
        return path.read_text(encoding="utf-8") == text
    except FileNotFoundError:
        return False


def stage_post_text(path: Path, text: str) -> StagedWrite | None:
    """A rendered post staged to replace ``path`` (see :mod:`cnaspider.publishing.atomic`), or None
    when the file already holds it."""
    return None if _holds(path, text) else stage_write(path, text.encode("utf-8"))


def read_post_source(path: Path) -> str | None:
    """The ``from:`` URL in a post's front matter, or None.

    Posts cnaspider did not write are read as Jekyll reads them, with a YAML parser
    (python-frontmatter): a quoted or commented ``from:`` is still the same URL, and a
    post that is not recognised would be written a second time. Front matter that does
    not parse still names its article by its ``from:`` line or its file name
    (:mod:`cnaspider.publishing.existing_posts`).
    """
    return read_post_origin(path).url


def import_existing_posts(store: Store, output_dir: Path) -> int:
    """Record posts already in ``_posts/`` that the store does not know; return how many.

    A repository that has published for years keeps its posts: their ids come
    from the ``from:`` URL, so those articles are never fetched or written again.
    A post whose front matter does not parse is recognised all the same and named in
    a warning; a ``*.md`` that is not a regular file (a FIFO) is skipped and named.
    """
    posts_dir = output_dir / "_posts"
    regular, other = post_files(posts_dir)
    for path in other:
        logger.warning("skipped %s: not a regular file, so not a post", path)
    known_paths = store.post_paths()
    added = 0
    for path in regular:
        relative = str(path.relative_to(output_dir))
        if relative in known_paths:
            continue
        origin = read_post_origin(path)
        ident = article_id(origin.url) if origin.url else None
        if origin.broken:
            logger.warning(
                "kept %s as it is: its front matter does not parse (%s)%s;"
                " fix it for Jekyll to build it",
                path,
                origin.broken,
                f"; recognised as article {ident}, which is not fetched again"
                if ident
                else "; it names no CNA article",
            )
        if ident and store.add_foreign_post(ident, relative):
            added += 1
    return added
