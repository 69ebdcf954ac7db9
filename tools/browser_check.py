"""What a student sees in JupyterLab, checked in a real browser (``make browser-check``).

Starts JupyterLab (the course's settings overrides, a fresh user-settings folder, a free local
port, a random token), opens a chapter (``.md``, through jupytext) and a handout notebook in
headless Chromium driven by Selenium, runs their first code cells, saves screenshots in
``_build/browser-check/`` and fails if

* the rendered text of a markdown cell shows MyST markup (``{cite}``, ``{ref}``, a label
  ``(name)=``, a directive fence ```` ```{ ````, ``:::{``) or a rendering error of jupyterlab-myst;
* a cell that ran raised an error (cells tagged ``raises-exception`` excepted);
* a dialog or a notification greets the student on first open (the news prompt, a kernel picker).

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``) and the
``browser`` extra (``pip install -e ".[browser]"``: Selenium). Without a browser it prints why
and exits with status 0 when ``--skip-without-browser`` is given (CI), else 1.

Usage: ``python tools/browser_check.py [--chapter chapters/06_ann_search.md]
[--handout 04_convnet_cold_start] [--cells 3] [--out _build/browser-check]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
#: Raw MyST in rendered text: a role, a label line, a directive fence, or what jupyterlab-myst
#: leaves of a {glue:text} role it cannot resolve (the name and format: "bin_hz:.1f").
RAW_MYST = re.compile(
    r"\{(cite|ref|numref|eq|doc|glue|term)(:\w+)?\}`|^\s*\([\w:.-]+\)=\s*$|```\{|:::\{"
    r"|\b[a-z_]\w*:\.\d+[f%e]\b",
    re.MULTILINE,
)
#: Settings of the check only (not the students'): every cell in the page, so all are checked.
CHECK_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

JS_CELLS = """
const panel = window.jupyterapp.shell.currentWidget;
if (!panel || !panel.content || !panel.content.model) { return null; }
const notebook = panel.content;
// typeset math reads "X(k)=" on a line of its own, like a label: leave it out of the text
const math = Array.from(notebook.node.querySelectorAll('.katex, mjx-container'));
math.forEach(e => { e.dataset.checkDisplay = e.style.display; e.style.display = 'none'; });
const cells = notebook.widgets.map((cell, index) => {
  const model = cell.model;
  const json = model.toJSON();
  const node = cell.node.querySelector('.jp-RenderedMarkdown, .jp-MarkdownOutput, .myst');
  return {
    index: index, type: model.type, height: cell.node.offsetHeight,
    tags: (json.metadata && json.metadata.tags) || [],
    rendered: node ? node.innerText : (cell.rendered ? cell.node.innerText : ''),
    mystErrors: Array.from(cell.node.querySelectorAll(
      '[class*="error"], [data-myst-error], .myst-error')).map(e => e.innerText).slice(0, 3),
    outputs: (json.outputs || []).map(o => ({type: o.output_type, ename: o.ename || '',
      evalue: o.evalue || ''})),
    count: json.execution_count === undefined ? null : json.execution_count,
  };
});
math.forEach(e => { e.style.display = e.dataset.checkDisplay; delete e.dataset.checkDisplay; });
return cells;
"""
JS_RUN = """
const done = arguments[arguments.length - 1];
const app = window.jupyterapp;
const panel = app.shell.currentWidget;
const notebook = panel.content;
const codeCells = notebook.widgets.map((c, i) => [c, i]).filter(([c]) => c.model.type === 'code');
const wanted = codeCells.slice(0, arguments[0]).map(([c, i]) => i);
(async () => {
  await panel.sessionContext.ready;
  for (const index of wanted) {
    notebook.activeCellIndex = index;
    await app.commands.execute('notebook:run-cell');
    const deadline = Date.now() + arguments[1] * 1000;
    while (panel.sessionContext.session.kernel.status !== 'idle' || notebook.widgets[index]
           .model.executionState === 'running') {
      if (Date.now() > deadline) { done('timeout in cell ' + index); return; }
      await new Promise(r => setTimeout(r, 250));
    }
  }
  done('ok');
})().catch(e => done('error: ' + e));
"""
JS_OPEN_AS_NOTEBOOK = """
window.jupyterapp.commands.execute('docmanager:open',
  {path: decodeURIComponent(arguments[0]), factory: 'Jupytext Notebook'});
"""
JS_NOISE = """
return Array.from(document.querySelectorAll(
  '.jp-Dialog, .jp-Notification-Toast, .Toastify__toast, .jp-toast-message'))
  .map(e => e.innerText.trim()).filter(t => t);
"""


def _which(names: tuple[str, ...]) -> str | None:
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(port: int, token: str, settings_dir: Path, log: Path) -> subprocess.Popen:
    """JupyterLab on ``port``, with the course's overrides and a fresh user-settings folder."""
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    overrides.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tools" / "jupyterlab_overrides.json", overrides / "overrides.json")
    for name, values in CHECK_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={settings_dir / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    handle = log.open("w")
    return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)


def wait_for_server(port: int, token: str, process: subprocess.Popen, seconds: float) -> float:
    start = time.monotonic()
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    while time.monotonic() - start < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - start
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer on port {port} within {seconds:.0f} s")


def make_driver(browser: str, driver: str, timeout: float):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.command_executor.client_config.timeout = timeout  # a busy machine answers slowly
    return chrome


def wait_for_markdown(browser, timeout: float) -> None:
    """Wait until every markdown cell shows rendered text: jupyterlab-myst renders them one by one,
    seconds apart on a busy machine. Cells still blank after ``timeout`` are reported by the
    caller."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def rendered(driver) -> bool:
        markdown = [c for c in driver.execute_script(JS_CELLS) or [] if c["type"] == "markdown"]
        # the first cell (title, front matter) is laid out last: blank but for its frame until then
        return (
            bool(markdown)
            and markdown[0]["height"] > 40
            and all(c["rendered"].strip() for c in markdown)
        )

    try:
        WebDriverWait(browser, timeout, poll_frequency=1).until(rendered)
    except TimeoutException:
        pass
    time.sleep(1)  # the last cell's layout, for the screenshot


def check_page(browser, url: str, name: str, out: Path, cells: int, timeout: float) -> list[str]:
    """Open ``url``, run its first ``cells`` code cells; return the problems found."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    problems = []
    start = time.monotonic()
    browser.get(url)
    try:
        WebDriverWait(browser, timeout).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, ".jp-Notebook .jp-Cell, .jp-FileEditor")
            )
        )
        if browser.find_elements(By.CSS_SELECTOR, ".jp-FileEditor"):
            # the default viewer was not "Jupytext Notebook": say so, then check the notebook view
            browser.save_screenshot(str(out / f"{name}-as-text.png"))
            problems.append(f"{name}: opened in the text editor, not as a notebook")
            browser.execute_script(JS_OPEN_AS_NOTEBOOK, url.split("/lab/tree/")[1].split("?")[0])
        WebDriverWait(browser, timeout).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")
            )
        )
        WebDriverWait(browser, timeout).until(
            lambda b: b.execute_script(
                "return !!(window.jupyterapp && "
                "window.jupyterapp.shell.currentWidget && "
                "window.jupyterapp.shell.currentWidget.content.widgets)"
            )
        )
    except TimeoutException:
        browser.save_screenshot(str(out / f"{name}-timeout.png"))
        shown = " ".join(browser.find_element(By.TAG_NAME, "body").text.split())[:300]
        return [*problems, f"{name}: no notebook within {timeout:.0f} s (shows: {shown!r})"]
    wait_for_markdown(browser, timeout)
    print(f"  {name}: notebook shown {time.monotonic() - start:.1f} s after opening the URL")
    noise = browser.execute_script(JS_NOISE)
    if noise:
        problems.append(f"{name}: shown on first open: {noise}")
    browser.save_screenshot(str(out / f"{name}-opened.png"))
    browser.set_script_timeout(timeout * (cells + 1))
    status = browser.execute_async_script(JS_RUN, cells, timeout)
    if status != "ok":
        problems.append(f"{name}: running the first {cells} code cells: {status}")
    wait_for_markdown(browser, timeout)
    browser.save_screenshot(str(out / f"{name}-ran.png"))
    for cell in browser.execute_script(JS_CELLS) or []:
        if cell["type"] == "markdown":
            raw = RAW_MYST.search(cell["rendered"])
            if raw:
                problems.append(f"{name}, cell {cell['index']}: raw MyST {raw.group(0)!r}")
            if not cell["rendered"].strip():
                problems.append(f"{name}, cell {cell['index']}: markdown cell not rendered")
        errors = [o for o in cell["outputs"] if o["type"] == "error"]
        if errors and "raises-exception" not in cell["tags"]:
            problems.append(
                f"{name}, cell {cell['index']}: {errors[0]['ename']}: {errors[0]['evalue'][:200]}"
            )
    ran = sum(1 for c in browser.execute_script(JS_CELLS) if c["count"])
    print(f"  {name}: {ran} code cells ran; screenshots {name}-opened.png, {name}-ran.png")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="chapters/06_ann_search.md")
    parser.add_argument("--handout", default="04_convnet_cold_start")
    parser.add_argument("--cells", type=int, default=3, help="code cells to run in each")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per step")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "browser-check")
    parser.add_argument("--skip-without-browser", action="store_true")
    args = parser.parse_args(argv)

    browser_path, driver_path = _which(BROWSERS), _which(DRIVERS)
    try:
        import selenium  # noqa: F401
    except ImportError:
        browser_path = None
    if not browser_path or not driver_path:
        print(
            "browser-check: SKIPPED: needs Chromium, its driver and Selenium "
            "(Debian: apt-get install chromium chromium-driver; pip install -e '.[browser]')"
        )
        return 0 if args.skip_without_browser else 1

    args.out.mkdir(parents=True, exist_ok=True)
    handout_dir = args.out / "handout"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "handout.py"),
            str(handout_dir),
            str(ROOT / "chapters" / f"{args.handout}.md"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port, token = free_port(), os.urandom(16).hex()
    with tempfile.TemporaryDirectory(prefix="course-lab-settings-") as settings:
        started = time.monotonic()
        lab = start_lab(port, token, Path(settings), args.out / "jupyterlab.log")
        problems: list[str] = []
        browser = None
        try:
            ready = wait_for_server(port, token, lab, args.timeout)
            print(f"browser-check: JupyterLab answered on port {port} after {ready:.1f} s")
            browser = make_driver(browser_path, driver_path, args.timeout)
            browser.set_page_load_timeout(args.timeout)
            base = f"http://127.0.0.1:{port}/lab/tree"
            handout_path = handout_dir.resolve().relative_to(ROOT) / "notebooks"
            pages = [
                ("chapter", f"{base}/{args.chapter}?token={token}&reset"),
                ("handout", f"{base}/{handout_path}/{args.handout}.ipynb?token={token}&reset"),
            ]
            for name, url in pages:
                problems += check_page(browser, url, name, args.out, args.cells, args.timeout)
            print(f"browser-check: {time.monotonic() - started:.1f} s in all")
        finally:
            if browser is not None:
                browser.quit()
            lab.terminate()
            lab.wait(timeout=30)
    for problem in problems:
        print(f"browser-check: FAIL: {problem}")
    print(f"browser-check: {'FAILED' if problems else 'passed'}; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
