"""Every spider argument and cnaspider setting in one table: name, type, range, default, help.

The spider checks its ``-a`` arguments and the settings when it is created, the ``scrapy
crawl`` command checks them before the crawl starts, and ``python -m scheduler`` checks its
``-a``/``-s`` options when it parses its command line: all three refuse the same input with
the same one-line message (:class:`BadOption`). Adding an option is one line in
:data:`SPIDER_ARGUMENTS` or :data:`SETTINGS`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cnaspider.archive.revisits import DEFAULT_MAX_PER_RUN, DEFAULT_SCHEDULE, RevisitSchedule
from cnaspider.extraction.urls import SITE_URL


class BadOption(ValueError):
    """A spider argument or setting that cannot be used; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Check:
    """Turns a raw value (a command-line string or a typed value) into the typed one.

    ``convert`` raises ValueError or TypeError on bad input; ``expects`` says what is
    accepted, in words that tell the user what to type instead.
    """

    convert: Callable[[Any], Any]
    expects: str


def whole(lo: int, hi: int) -> Check:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError(value)
        number = value if isinstance(value, int) else int(str(value).strip())
        if not lo <= number <= hi:
            raise ValueError(value)
        return number

    return Check(convert, f"a whole number from {lo} to {hi:,}")


def number(lo: float, hi: float) -> Check:
    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise TypeError(value)
        number = float(value if isinstance(value, int | float) else str(value).strip())
        # NaN compares false with everything, so it fails the range test too.
        if not (math.isfinite(number) and lo <= number <= hi):
            raise ValueError(value)
        return number

    return Check(convert, f"a number from {lo:g} to {hi:,.0f}")


def _boolean(value: Any) -> bool:
    # Exactly what Scrapy's Settings.getbool() accepts, so other readers agree.
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    return bool(int(text))


BOOLEAN = Check(_boolean, "1 or 0 (or True/False)")


def _http_url(value: Any, *, empty_ok: bool) -> str:
    text = str(value).strip()
    if not text and empty_ok:
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(value)
    parts.port  # noqa: B018 (raises ValueError on a port that is not a number or out of range)
    return text


HTTP_URL = Check(lambda v: _http_url(v, empty_ok=False), "an http:// or https:// URL with a host")
HTTP_URL_OR_EMPTY = Check(
    lambda v: _http_url(v, empty_ok=True), "an http:// or https:// URL with a host, or empty"
)

_OFF = ("", "0", "off", "none", "false", "False")


def _image_proxy(value: Any) -> str:
    if value is None or value is False or str(value).strip() in _OFF:
        return ""
    return _http_url(value, empty_ok=False)


IMAGE_PROXY = Check(_image_proxy, "an http(s) URL prefix, or empty (or 0/off) for none")

_LIST_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _list_names(value: Any) -> tuple[str, ...]:
    raw = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in raw]
    names = [n for n in names if n]
    if not names or not all(_LIST_NAME.fullmatch(n) for n in names):
        raise ValueError(value)
    return tuple(dict.fromkeys(names))  # each list once, in the order given


LIST_NAMES = Check(
    _list_names,
    "comma-separated CNA list names of letters, digits, - and _ (e.g. headlines,aipl)",
)


def _line(value: Any) -> str:
    text = str(value).strip()
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValueError(value)
    return text


ONE_LINE = Check(_line, "non-empty text on one line")


def _path(value: Any, *, empty_ok: bool) -> str:
    text = str(value)
    if "\0" in text or (not text.strip() and not empty_ok):
        raise ValueError(value)
    return text


PATH = Check(lambda v: _path(v, empty_ok=False), "a directory path")
PATH_OR_EMPTY = Check(lambda v: _path(v, empty_ok=True), "a file path, or empty for the default")


REVISIT_SCHEDULE = Check(
    lambda v: RevisitSchedule.parse(str(v)),
    "comma-separated ages after the first fetch like 15m,1h,3h,8h,24h (s, m, h, d);"
    " empty for no revisits, 0s for every article at every run",
)


@dataclass(frozen=True)
class Option:
    """One spider argument (``-a``) or setting (``-s``)."""

    name: str
    check: Check
    default: Any
    help: str


# firstnews (重點新聞) looks retired since 2022 (a guess: docs/cna-site.md#list-pages);
# headlines (聚焦) is its nearest living successor, so both are read by default.
DEFAULT_LISTS = ("firstnews", "headlines")

SPIDER_ARGUMENTS: tuple[Option, ...] = (
    Option("lists", LIST_NAMES, DEFAULT_LISTS, "CNA list pages to read (/list/<name>.aspx)"),
    Option("related_depth", whole(0, 10), 1, "延伸閱讀 hops to follow; 0 turns following off"),
    Option("base_url", HTTP_URL, SITE_URL, "where the whole crawl goes (e.g. a local copy)"),
    Option("api_pages", whole(0, 50), 0, "extra list pages through the WNewsList API"),
    # Folded into REVISIT_SCHEDULE (README: Edits): accepted, warned about, ignored.
    Option("refresh_hours", number(0, 1_000_000), 0.0, "replaced by REVISIT_SCHEDULE; ignored"),
    Option("recover", BOOLEAN, False, "fetch only the articles of posts the store lacks"),
)
# Set by Scrapyd on every job; not ours, but never a mistake.
PASSED_THROUGH = frozenset({"_job"})

SETTINGS: tuple[Option, ...] = (
    Option("OUTPUT_DIR", PATH, "output", "the Jekyll site: _posts/, feeds, .state/"),
    Option("STATE_DB", PATH_OR_EMPTY, "", "the SQLite store (default OUTPUT_DIR/.state/…)"),
    Option("SOURCE_LABEL", ONE_LINE, "(臺)中央社CNA", "author, tags and categories of posts"),
    Option("IMAGE_PROXY", IMAGE_PROXY, "https://images.weserv.nl/?url=", "image URL prefix"),
    Option("CNASPIDER_LOCK", BOOLEAN, True, "take the run lock"),
    Option("FEED_LIMIT", whole(1, 10_000), 50, "entries per feed"),
    Option("SITE_URL", HTTP_URL_OR_EMPTY, "", "public URL of the Jekyll site"),
    Option("WRITE_FEEDS", BOOLEAN, True, "regenerate the feeds after every crawl"),
    Option(
        "REVISIT_SCHEDULE",
        REVISIT_SCHEDULE,
        DEFAULT_SCHEDULE,
        "when stored articles are fetched again",
    ),
    Option(
        "REVISIT_MAX_PER_RUN", whole(0, 100_000), DEFAULT_MAX_PER_RUN, "revisits per run at most"
    ),
)

_BY_ARGUMENT = {o.name: o for o in SPIDER_ARGUMENTS}
_BY_SETTING = {o.name: o for o in SETTINGS}


def _convert(option: Option, value: Any, flag: str) -> Any:
    try:
        return option.check.convert(value)
    except (ValueError, TypeError):
        shown = value if isinstance(value, str) else str(value)
        raise BadOption(
            f"bad {flag} {option.name}={shown!r}: use {option.check.expects}"
            f" (default {_shown_default(option)})"
        ) from None


def _shown_default(option: Option) -> str:
    default = option.default
    if isinstance(default, tuple):
        return ",".join(default)
    return repr(default) if isinstance(default, str) else str(default)


def spider_arguments(given: Mapping[str, Any]) -> dict[str, Any]:
    """Every spider argument, typed: ``given`` checked, defaults for the rest.

    Raises :class:`BadOption` naming the first bad or unknown argument.
    """
    unknown = sorted(set(given) - set(_BY_ARGUMENT) - PASSED_THROUGH)
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(_BY_ARGUMENT), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise BadOption(
            f"unknown spider argument -a {name}{hint}; known: {', '.join(sorted(_BY_ARGUMENT))}"
        )
    return {
        o.name: _convert(o, given[o.name], "-a") if o.name in given else o.default
        for o in SPIDER_ARGUMENTS
    }


def check_settings(settings: Any, names: Iterable[str] | None = None) -> dict[str, Any]:
    """cnaspider's settings, typed (Scrapy ``Settings`` or a plain dict).

    Also checks the Scrapy settings that ``names`` lists (those given on a command
    line) against the type of Scrapy's default, so ``-s DOWNLOAD_DELAY=abc`` is one
    line too. Raises :class:`BadOption`.
    """
    values = {o.name: _convert(o, _get(settings, o.name, o.default), "-s") for o in SETTINGS}
    for name in names or ():
        if name not in _BY_SETTING:
            check_setting_name(name, settings)
            _check_scrapy_setting(name, _get(settings, name, None))
    return values


def _get(settings: Any, name: str, default: Any) -> Any:
    value = settings.get(name, default)
    return default if value is None else value


def _scrapy_defaults() -> dict[str, Any]:
    from scrapy.settings import default_settings

    return {k: getattr(default_settings, k) for k in dir(default_settings) if k.isupper()}


# Scrapy reads some int-defaulted settings as floats (DOWNLOAD_DELAY = 0), so any
# number passes for either: a false refusal would be worse than a missed one.
_SCRAPY_NUMBER = Check(lambda v: float(str(v).strip()), "a number")
_SCRAPY_TYPES = {bool: BOOLEAN, int: _SCRAPY_NUMBER, float: _SCRAPY_NUMBER}


def _check_scrapy_setting(name: str, value: Any) -> None:
    if not isinstance(value, str):
        return
    default = _scrapy_defaults().get(name)
    check = _SCRAPY_TYPES.get(type(default))
    if check is None:
        return
    try:
        check.convert(value)
    except ValueError:
        raise BadOption(
            f"bad -s {name}={value!r}: use {check.expects} (default {default})"
        ) from None


# Read by Scrapy's own components although Scrapy gives them no default, and read by
# cnaspider's Scrapy components (their defaults are in cnaspider/crawl/settings.py).
SCRAPY_SETTINGS_WITHOUT_DEFAULT = frozenset(
    {
        "CONCURRENT_REQUESTS_PER_IP",
        "DEFAULT_CIPHERS",
        "FILES_EXPIRES",
        "FILES_RESULT_FIELD",
        "FILES_URLS_FIELD",
        "IMAGES_EXPIRES",
        "IMAGES_MIN_HEIGHT",
        "IMAGES_MIN_WIDTH",
        "IMAGES_RESULT_FIELD",
        "IMAGES_THUMBS",
        "IMAGES_URLS_FIELD",
        "MEDIA_ALLOW_REDIRECTS",
        "META_COPY_WARN_SKIP_KEYS",
        "METHOD_TLS",
    }
)
CNASPIDER_COMPONENT_SETTINGS = frozenset({"RETRY_AFTER_MAX"})
# Settings that enable components: a component from another package may read settings
# of its own, which are then known too.
_COMPONENT_LISTS = (
    "ADDONS",
    "DOWNLOADER_MIDDLEWARES",
    "DOWNLOAD_HANDLERS",
    "EXTENSIONS",
    "FEED_EXPORTERS",
    "FEED_STORAGES",
    "ITEM_PIPELINES",
    "SPIDER_CONTRACTS",
    "SPIDER_MIDDLEWARES",
)


def known_setting_names() -> frozenset[str]:
    """Every setting name cnaspider or Scrapy reads (without other packages' components)."""
    return frozenset(
        set(_BY_SETTING)
        | set(_scrapy_defaults())
        | SCRAPY_SETTINGS_WITHOUT_DEFAULT
        | CNASPIDER_COMPONENT_SETTINGS
    )


def check_setting_name(name: str, settings: Any = None) -> None:
    """Refuse a setting name that nothing reads (a misspelt ``-s``) with :class:`BadOption`.

    Known: cnaspider's settings, Scrapy's (its defaults and the few its components read
    without one), and any name quoted in the source of a component from another package
    that ``settings`` enables (a middleware's own settings).
    """
    known = known_setting_names()
    if name in known or _read_by_other_components(name, settings):
        return
    if name.upper() in known:
        close = [name.upper()]
    else:
        close = difflib.get_close_matches(name, list(_BY_SETTING), n=1) or (
            difflib.get_close_matches(name.upper(), sorted(known), n=1)
        )
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise BadOption(
        f"unknown setting -s {name}{hint}: neither cnaspider's"
        f" ({', '.join(o.name for o in SETTINGS)}) nor Scrapy's"
    )


def _component_paths(settings: Any) -> list[Any]:
    """The components ``settings`` enables that come from neither Scrapy nor cnaspider."""
    found: list[Any] = []
    for key in _COMPONENT_LISTS:
        value = settings.get(key) if settings is not None else None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        try:
            names = list(value or ())
        except TypeError:
            continue
        for component in names:
            module = (
                component if isinstance(component, str) else getattr(component, "__module__", "")
            )
            if module and not module.startswith(("scrapy.", "cnaspider.")):
                found.append(component)
    return found


def _read_by_other_components(name: str, settings: Any) -> bool:
    """Whether ``name`` appears quoted in the source of a component ``settings`` enables."""
    import importlib.util
    import inspect

    quoted = (f'"{name}"', f"'{name}'")
    for component in _component_paths(settings):
        try:
            if isinstance(component, str):
                spec = importlib.util.find_spec(component.rpartition(".")[0] or component)
                origin = spec.origin if spec else None
            else:
                origin = inspect.getsourcefile(component)
            text = Path(origin).read_text(encoding="utf-8") if origin else ""
        except (ImportError, ValueError, TypeError, OSError):
            continue
        if any(q in text for q in quoted):
            return True
    return False


def argument_pairs(pairs: Iterable[str], flag: str = "-a") -> dict[str, str]:
    """``NAME=VALUE`` strings (given with ``flag``) as a dict; a pair without ``=`` is a
    :class:`BadOption`."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadOption(f"bad {flag} {pair!r}: use {flag} NAME=VALUE")
        out[name.strip()] = value
    return out


def command_line_names(settings: Any) -> list[str]:
    """Names of the settings given with ``-s`` (Scrapy's ``cmdline`` priority)."""
    from scrapy.settings import SETTINGS_PRIORITIES

    getpriority = getattr(settings, "getpriority", None)
    if getpriority is None:
        return []
    return [name for name in settings if getpriority(name) == SETTINGS_PRIORITIES["cmdline"]]
