"""Loose ends: deploy links, what the README promises, dependencies."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from cnaspider.archive.store import Store
from cnaspider.publishing.paths import LAST_CRAWL_NAME, LOCK_NAME, STATE_DB_NAME
from cnaspider.publishing.post import import_existing_posts
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
INSTALL_ROOT = "/opt/cnaspider"


# --- the deploy units' documentation links --------------------------------------------


def test_deploy_files_name_only_documents_that_exist() -> None:
    for unit in sorted((REPO / "deploy").iterdir()):
        text = unit.read_text(encoding="utf-8")
        for uri in re.findall(r"file://(\S+)", text):
            assert uri.startswith(INSTALL_ROOT + "/"), (unit.name, uri)
            assert (REPO / uri[len(INSTALL_ROOT) + 1 :]).is_file(), (unit.name, uri)
        for anchor in re.findall(r"github\.com/cnaspider/cnaspider#([\w-]+)", text):
            headings = [h.lower().replace(" ", "-") for h in re.findall(r"(?m)^#+ (.+)$", README)]
            assert anchor in headings, (unit.name, anchor)
        for doc in re.findall(r"(?<![\w/.-])([\w.-]+(?:/[\w.-]+)*\.md)\b", text):
            assert (REPO / doc).is_file(), (unit.name, doc)


# --- the README tells the truth about commands and files ------------------------------


def runnable_modules() -> list[str]:
    """Every ``python -m`` command the installed packages offer."""
    found = []
    for package in ("cnaspider", "scheduler", "localcna"):
        for path in sorted((REPO / package).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            text = path.read_text(encoding="utf-8")
            if path.name == "__main__.py":
                found.append(module.removesuffix(".__main__"))
            elif re.search(r'^if __name__ == "__main__":', text, re.MULTILINE):
                found.append(module)
    return found


def test_every_command_is_documented_in_the_readme() -> None:
    modules = runnable_modules()
    assert "localcna" in modules and "scheduler" in modules
    missing = [m for m in modules if f"python -m {m}" not in README]
    assert not missing, f"README does not document: {missing}"


def test_every_file_cnaspider_keeps_in_state_is_named_and_no_other() -> None:
    # The names the code writes into OUTPUT/.state (the locked crawl's report is separate,
    # so a locked crawl cannot overwrite the running crawl's).
    written = {STATE_DB_NAME, LOCK_NAME, LAST_CRAWL_NAME, "last-locked-crawl.json"}
    written.add("last-crawl.log")  # scheduler runs only
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for d in ("cnaspider", "scheduler")
        for p in (REPO / d).rglob("*.py")
    )
    for name in written:
        assert name in sources
        assert name in README, f"README does not name .state/{name}"
    named = set(re.findall(r"\.state/([\w.-]+\.(?:json|log|lock|sqlite3))", README))
    assert named <= written | {"cron.log"}, named - written
    # The log is the scheduler's: the README must not promise it after a manual crawl.
    assert "only scheduler runs write" in README or "scheduler runs only" in README


# --- python-frontmatter is a runtime dependency, and the runtime uses it ----------------


def test_every_runtime_dependency_is_imported_by_the_runtime() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dists = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    imported: set[str] = set()
    for package in ("cnaspider", "scheduler", "localcna"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module.split(".")[0])
    by_dist = packages_distributions()
    used = {dist.lower() for module in imported for dist in by_dist.get(module, [])}
    assert dists <= used, f"runtime dependencies the runtime never imports: {dists - used}"


def test_foreign_posts_are_read_with_a_yaml_parser(tmp_path: Path) -> None:
    posts = tmp_path / "_posts"
    posts.mkdir()
    heads = {
        "double-quoted": 'from: "https://www.cna.com.tw/news/aipl/202308230192.aspx"',
        "single-quoted": "from: 'https://www.cna.com.tw/news/acn/202308230179.aspx'",
        "commented": "from: https://www.cna.com.tw/news/ait/202308230354.aspx  # the original",
        "broken-yaml": "from: [https://www.cna.com.tw/news/aopl/202308230370.aspx",
        "not-a-string": "from: 202308230371",
    }
    for name, head in heads.items():
        (posts / f"2023-08-23-{name}.md").write_text(
            f"---\nlayout: post\n{head}\ntitle: x\n---\nbody\n", encoding="utf-8"
        )
    with Store(tmp_path / "s.sqlite3") as store:
        # A quoted or commented URL names the same article: it must not be posted twice.
        assert import_existing_posts(store, tmp_path) == 3
        for ident in ("202308230192", "202308230179", "202308230354"):
            assert store.is_known(ident)
        assert not store.is_known("202308230370") and not store.is_known("202308230371")
