"""CNA article URLs: the whitelist, normalisation, ids and the base-URL mapping.

Identity is the 12-digit id; the slug and host are not (docs/cna-site.md#urls-and-ids).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

SITE_URL = "https://www.cna.com.tw"

# The whitelist of docs/cna-site.md#urls-and-ids, anchored at the end as well so that nothing can ride
# along after the id except ".aspx", a trailing slash, a query or a fragment (which are
# dropped): links without ".aspx" name the same article. ASCII only:
# a Unicode \d takes full-width and Arabic-Indic digits, and a case-blind Unicode
# [a-z] takes the Kelvin sign and the long s, all of which would reach file names.
_ARTICLE_RE = re.compile(
    r"^https?://(?:www\.|m\.)?cna\.com\.tw/news/([a-z]+)/(\d{12})(?:-\d+)?(?:\.aspx)?/?(?:[?#].*)?$",
    re.IGNORECASE | re.ASCII,
)
_ID_RE = re.compile(r"^\d{12}$", re.ASCII)


def article_id(url: str) -> str | None:
    """Return the 12-digit id of a CNA article URL, or None if it is not one."""
    match = _ARTICLE_RE.match(url.strip())
    return match.group(2) if match else None


def normalize_article_url(url: str) -> str | None:
    """Return the canonical www URL of a CNA article, or None when ``url`` is not one.

    ``m.`` becomes ``www.``, the ``-N`` revision suffix, the query and the fragment are
    dropped, and ``.aspx`` is added when the link left it out.
    """
    match = _ARTICLE_RE.match(url.strip())
    if not match:
        return None
    slug, ident = match.group(1).lower(), match.group(2)
    return f"{SITE_URL}/news/{slug}/{ident}.aspx"


def is_valid_id(ident: str) -> bool:
    """True for a 12-digit CNA id."""
    return bool(_ID_RE.match(ident))


# An absolute URL that urljoin() would only take apart and put back together unchanged:
# an ASCII host without brackets (nothing to validate or NFKC-check), no empty query or
# fragment to drop, no ;params, no tab or line break to remove.
_PLAIN_ABSOLUTE = re.compile(r"https?://[\w.:@%~!$&'()*+,=-]+(?:[/?#][^\s;]*)?(?<![?#])", re.ASCII)


def resolve(href: str, page_url: str) -> str:
    """Resolve ``href`` as the real site would, against the page's canonical URL."""
    href = href.strip()
    if _PLAIN_ABSOLUTE.fullmatch(href) and "?#" not in href and href.isprintable():
        return href  # what urljoin() returns for it, at a tenth of the cost
    return urljoin(page_url, href)


def to_site_url(url: str, base_url: str) -> str:
    """Map a URL fetched from ``base_url`` back to the same path on www.cna.com.tw."""
    base = base_url.rstrip("/")
    if url.startswith(base + "/") or url == base:
        return SITE_URL + url[len(base) :]
    return url


def to_fetch_url(url: str, base_url: str) -> str:
    """Map a www.cna.com.tw URL to the same path under ``base_url`` (where the crawl goes)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return base_url.rstrip("/") + path


def article_link(href: str, page_url: str) -> tuple[str, str] | None:
    """``(canonical URL, id)`` of the CNA article that ``href`` names on the page at
    ``page_url`` (any ordinary link form), or None when it names none."""
    canonical = normalize_article_url(resolve(href, page_url)) if href else None
    ident = article_id(canonical) if canonical else None
    return (canonical, ident) if canonical and ident else None
