"""The deployment as shipped: deploy/cnaspider.service and deploy/crontab, run as they are.

Each runs its exact command lines (the install paths substituted, and the local CNA's
address added) in the environment cron and systemd give: ``env -i PATH=/usr/bin:/bin``,
no ``LANG``, and a ``$HOME`` where nothing can be written. The run must be ``ok``, exit
0, and the site it leaves must build with Jekyll (whose CJK tag paths need the UTF-8
locale the deploy files set). Also: the ``cnaspider`` command and ``python -m localcna``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cnaspider.publishing.skeleton import copy_skeleton
from localcna.httpd import LocalCNA
from tests.helpers import FAST, REPO, needs_program, run_crawl

DEPLOY = REPO / "deploy"
INSTALL = "/opt/cnaspider"
CNASPIDER = Path(sys.executable).parent / "cnaspider"


def unwritable_home(tmp_path: Path) -> Path:
    """A $HOME under which nothing can be created, even by root: a regular file."""
    home = tmp_path / "home"
    home.write_text("not a directory: nothing can be written under $HOME\n")
    return home


def bare_environment(home: Path, *assignments: str) -> dict[str, str]:
    """``env -i PATH=/usr/bin:/bin HOME=…`` plus the deploy file's own assignments."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        env[name] = value
    return env


def substitute(line: str, out: Path) -> str:
    """The install paths of a deploy file replaced by this checkout and ``out``."""
    line = line.replace(f"{INSTALL}/output", str(out))
    line = line.replace(f"{INSTALL}/.venv/bin/cnaspider", str(CNASPIDER))
    line = re.sub(r"(?<=\s)\.venv/bin/cnaspider", shlex.quote(str(CNASPIDER)), line)
    return line.replace(INSTALL, str(REPO))


def local(base_url: str) -> str:
    """Point the crawl at the local CNA, politeness off (the only arguments added)."""
    return f"--base-url {base_url} {' '.join(FAST)}"


def crawl_report(out: Path) -> dict[str, object]:
    data = json.loads((out / ".state" / "last-crawl.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def assert_site_built(out: Path) -> None:
    site = out / "_site"
    assert (site / "index.html").is_file()
    tags = [p.name for p in (site / "tags").iterdir() if p.is_dir()]
    # The CJK paths are what a C locale breaks.
    assert any(re.search(r"[\u4e00-\u9fff]", name) for name in tags), tags


def service_settings() -> dict[str, list[str]]:
    """``Key=value`` lines of the unit, the commented-out ``ExecStartPost`` included."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "cnaspider.service").read_text().splitlines():
        match = re.match(r"#?(ExecStart|ExecStartPost|Environment|WorkingDirectory)=(.*)", line)
        if match:
            found.setdefault(match[1], []).append(match[2])
    return found


@needs_program("jekyll")
def test_systemd_unit_runs_clean_in_a_bare_environment(tmp_path: Path, local_cna: LocalCNA) -> None:
    unit = service_settings()
    [start] = unit["ExecStart"]
    [build] = unit["ExecStartPost"]
    [workdir] = unit["WorkingDirectory"]
    assert start.startswith(f"{INSTALL}/.venv/bin/cnaspider crawl ")
    out = tmp_path / "output"
    copy_skeleton(out)  # what the repository's output/ holds at install time
    env = bare_environment(unwritable_home(tmp_path), *unit.get("Environment", []))
    assert "LANG" not in env
    command = shlex.split(substitute(start, out)) + shlex.split(local(local_cna.base_url))
    done = subprocess.run(
        command,
        cwd=substitute(workdir, out),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = crawl_report(out)
    assert report["outcome"] == "ok" and report["errors"] == 0, report["message"]
    assert "ERROR" not in (out / ".state" / "last-crawl.log").read_text(encoding="utf-8")
    built = subprocess.run(
        shlex.split(substitute(build, out)),
        cwd=substitute(workdir, out),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    assert_site_built(out)


@needs_program("jekyll")
@needs_program("flock")
def test_crontab_lines_run_clean_in_a_bare_environment(tmp_path: Path, local_cna: LocalCNA) -> None:
    lines = (DEPLOY / "crontab").read_text().splitlines()
    assignments = [ln for ln in lines if re.match(r"[A-Z_]+=", ln)]
    entries = [ln.split(None, 5)[5] for ln in lines if re.match(r"#?\*/10 ", ln)]
    crawl, crawl_and_build = entries  # the line, and the one that also builds the site
    assert "jekyll build" in crawl_and_build and "jekyll" not in crawl
    out = tmp_path / "output"
    copy_skeleton(out)
    # cron's own environment: PATH=/usr/bin:/bin, HOME and SHELL, and the crontab's lines.
    env = bare_environment(unwritable_home(tmp_path), "SHELL=/bin/sh", *assignments)
    assert "LANG" not in env
    for command in (crawl, crawl_and_build):
        command = substitute(command, out).replace(" >>", f" {local(local_cna.base_url)} >>", 1)
        done = subprocess.run(
            ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=600
        )
        log = (out / ".state" / "cron.log").read_text(encoding="utf-8")
        assert done.returncode == 0, log[-3000:]
        report = crawl_report(out)
        assert report["outcome"] == "ok" and report["errors"] == 0, report["message"]
    assert re.search(r"run #1 ok in .*run #2 ok in ", log, re.DOTALL), log[-3000:]
    assert_site_built(out)


def test_a_read_only_home_leaves_a_manual_crawl_ok(tmp_path: Path, local_cna: LocalCNA) -> None:
    # Scrapy 2.19's remote control writes a job file under $HOME and logged an ERROR,
    # which made every deployed run `partial`: the crawl neither loads it nor counts log lines.
    home = unwritable_home(tmp_path)
    command = [
        sys.executable, "-m", "scrapy", "crawl", "firstnews", "-a", f"base_url={local_cna.base_url}",
        "-s", f"OUTPUT_DIR={tmp_path / 'site'}", *FAST,
    ]  # fmt: skip
    env = bare_environment(home, f"PYTHONPATH={REPO}")
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    report = crawl_report(tmp_path / "site")
    assert report["outcome"] == "ok" and done.returncode == 0, done.stderr[-3000:]
    enabled = done.stderr.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "RemoteControl" not in enabled and "TelnetConsole" not in enabled


def test_an_error_line_is_not_a_failed_page(tmp_path: Path, local_cna: LocalCNA) -> None:
    # A component that only logs an ERROR (here the remote control, forced back on with a
    # home it cannot write) does not make the run partial: nothing the crawl does failed.
    home = unwritable_home(tmp_path)
    done = run_crawl(
        local_cna.base_url,
        tmp_path / "site",
        "-s",
        "EXTENSIONS="
        + json.dumps(
            {
                "scrapy.extensions.remote_control.RemoteControl": 0,
                "cnaspider.crawl.extensions.CrawlReport": 500,
            }
        ),
        "-s",
        "REMOTE_CONTROL_ENABLED=1",
        "-s",
        f"REMOTE_CONTROL_JOBS_DIR={home / 'jobs'}",
    )
    assert "ERROR" in done.log and done.stats.get("log_count/ERROR", 0) >= 1, done.log[-2000:]
    assert done.report["outcome"] == "ok" and done.returncode == 0, done.report["message"]


# --- the cnaspider command -------------------------------------------------------------


def cnaspider(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CNASPIDER), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def test_cnaspider_lists_its_commands() -> None:
    assert CNASPIDER.is_file(), "pip install -e . installs the cnaspider command"
    done = cnaspider("--help")
    assert done.returncode == 0
    for name in ("crawl", "schedule", "status", "feeds", "history", "probe", "render"):
        assert re.search(rf"(?m)^  {name} ", done.stdout), name
    unknown = cnaspider("crwal")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "no command 'crwal'" in unknown.stderr


@pytest.mark.parametrize(
    ("command", "statuses"),
    [
        ("crawl", ("0 ", "1 ", "2 ", "3 ", "4 ", "75 ", "130 ")),
        ("schedule", ("0 ", "2 ")),
        ("status", ("0 ", "1 ", "2 ")),
        ("feeds", ("0 ", "1 ", "2 ", "75 ")),
        ("history", ("0 ", "1 ", "2 ")),
        ("probe", ("0 ", "1 ", "2 ")),
        ("render", ("0 ", "1 ", "2 ")),
        ("rebuild", ("0 ", "1 ", "2 ", "3 ", "75 ")),
        ("demo", ("0 ", "1 ")),
        ("serve", ("0 ", "1 ")),
    ],
)
def test_each_command_help_says_what_each_exit_status_means(
    command: str, statuses: tuple[str, ...]
) -> None:
    done = cnaspider(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: cnaspider {command} "), done.stdout[:200]
    epilog = done.stdout.split("exit status", 1)[1]
    listed = re.findall(r"(?m)^  (\d+) ", epilog)
    assert [f"{n} " for n in listed] == list(statuses), epilog


def test_cnaspider_commands_are_the_existing_ones(tmp_path: Path, local_cna: LocalCNA) -> None:
    out = tmp_path / "site"
    done = cnaspider("crawl", "--output", str(out), *local(local_cna.base_url).split())
    assert done.returncode == 0, done.stderr[-2000:]
    assert crawl_report(out)["outcome"] == "ok"
    status = cnaspider("status", "--output", str(out))
    assert status.returncode == 0 and re.search(r"#1 .* ok ", status.stdout), status.stdout
    feeds = cnaspider("feeds", "--output", str(out))
    assert feeds.returncode == 0 and "atom.xml" in feeds.stdout
    bad = cnaspider("crawl", "--output", str(out), "--timeout", "soon")
    assert bad.returncode == 2 and "usage: cnaspider crawl" in bad.stderr
    missing = cnaspider("history", "202609230336", "--output", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no store" in missing.stderr


def test_localcna_prints_the_base_url_on_a_fixed_port() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "localcna", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(2)]
            match = re.fullmatch(r"base_url: (http://127\.0\.0\.1:\d+)\n", lines[1])
            assert match, lines  # no path: what -a base_url= and --base-url take
            with urllib.request.urlopen(f"{match[1]}/list/headlines.aspx", timeout=10) as page:
                assert page.status == 200
        finally:
            server.terminate()
    help_text = subprocess.run(
        [sys.executable, "-m", "localcna", "--help"], cwd=REPO, capture_output=True, text=True
    ).stdout
    assert "default 8765" in help_text  # the port README's examples use
