"""Scrapy contracts of the ``firstnews`` spider's callbacks (``scrapy check firstnews``).

The contracts name real www.cna.com.tw pages, so ``scrapy check firstnews`` is a
live check of today's site; ``-a base_url=http://127.0.0.1:PORT`` points it at a
copy (the local CNA in the tests). Registered in ``SPIDER_CONTRACTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itemadapter import ItemAdapter
from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail

from cnaspider.extraction.urls import to_fetch_url


class BaseUrlContract(Contract):
    """``@cna_base``: fetch the ``@url`` page from the spider's ``base_url`` (after ``@url``)."""

    name = "cna_base"

    def __init__(self, method: Callable[..., Any], *args: Any) -> None:
        super().__init__(method, *args)
        self.spider = getattr(method, "__self__", None)

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        base = str(getattr(self.spider, "base_url", "") or "")
        if base and "url" in args:
            args["url"] = to_fetch_url(args["url"], base)
        return args


class FoundContract(Contract):
    """``@found field ...``: every item has a non-empty value for each field.

    ``@scrapes`` only checks that an item *has* a field, which a dataclass item
    always has; a page whose markup moved gives empty values, which this catches.
    """

    name = "found"

    def post_process(self, output: list[Any]) -> None:
        for item in output:
            if not ItemAdapter.is_item(item):
                continue
            adapter = ItemAdapter(item)
            empty = [name for name in self.args if not adapter.get(name)]
            if empty:
                raise ContractFail(f"empty field(s): {', '.join(empty)}")
