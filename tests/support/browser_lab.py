"""JupyterLab in headless Chromium, as a student sees it (used by test_browser.py, test_binder.py).

`running_lab` starts JupyterLab from a given environment on 127.0.0.1 with every piece of
per-user Jupyter state (config, data, runtime, IPython) in a temporary folder, serving the
student edition built into a temporary folder (`student_edition`, by
scripts/student_edition.py), so the repository is never modified.
`chromium` drives Debian's chromium through Playwright's Python package (never a
Playwright-downloaded browser). `Notebook` wraps one open notebook tab: run all, wait for the
kernel, read outputs, type into a cell, press Validate.

Waits poll the page for a state (kernel idle, no `[*]` prompt, an output present), never sleep
for a fixed time; their limits are generous because the machine is shared.
"""

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SERVER_START = 120  # s: a JupyterLab server start on a loaded 2-core machine
KERNEL_WORK = 180_000  # ms: kernel start, a notebook's run-all, a Validate run
UI = 60_000  # ms: a menu, a tab, a dialog to appear
STDERR = "application/vnd.jupyter.stderr"  # JupyterLab renders both stderr and errors with it
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


# --------------------------------------------------------------------------- the course, copied


def student_edition(dest: Path, python: str = sys.executable) -> Path:
    """The student edition (what students, Binder and `make lab` get), built into `dest` by
    scripts/student_edition.py with `python` (whose kernel metadata the notebooks then carry)."""
    done = subprocess.run(
        [python, str(ROOT / "scripts" / "student_edition.py"), "build", "--out", str(dest)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dest


def fresh_clone(dest: Path, repo: Path = ROOT) -> Path:
    """The working tree as a fresh clone would have it (plus new files that git does not ignore)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        src = repo / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@dataclass
class Exercise:
    """The first exercise of a notebook: its solution cell and the first test cell after it."""

    solution_id: str
    solution: str  # the reference answer: the source cell with the solution markers removed
    test_id: str
    test_docstring: str  # the test cell's first line, to recognise it in Validate's report


def first_exercise(source_notebook: Path) -> Exercise:
    nb = nbformat.read(source_notebook, as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    code = [c.cell_type == "code" for c in nb.cells]
    i = next(k for k, m in enumerate(meta) if code[k] and m.get("solution"))
    j = next(k for k in range(i + 1, len(nb.cells)) if code[k] and meta[k].get("grade"))
    return Exercise(
        solution_id=meta[i]["grade_id"],
        solution=SOLUTION_MARKER.sub("", nb.cells[i].source),
        test_id=meta[j]["grade_id"],
        test_docstring=nb.cells[j].source.splitlines()[0],
    )


def cell_index(notebook: Path, grade_id: str) -> int:
    nb = nbformat.read(notebook, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    return ids.index(grade_id)


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    base_url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def url(self, path: str, workspace: str) -> str:
        """A fresh workspace per test: no tab of an earlier test is restored."""
        return f"{self.base_url}lab/workspaces/{workspace}/tree/{path}?token={self.token}"

    def api(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"{self.base_url}api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            text = reply.read()
        return json.loads(text) if text else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel a test started, so the next test has the CPU to itself."""
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def isolated_env(bin_dir: Path, state: Path) -> dict[str, str]:
    """The environment's scripts first on PATH (as after `activate`), every per-user Jupyter and
    IPython folder in `state`, nothing that would make `course` importable by accident."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (state / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(state / sub)
    return env


@contextmanager
def running_lab(bin_dir: Path, root_dir: Path, state: Path) -> Iterator[Lab]:
    """JupyterLab from `bin_dir`'s environment on 127.0.0.1, serving `root_dir`, started in it
    (so Validate finds nbgrader_config.py), with its Jupyter state isolated in `state`."""
    token = uuid.uuid4().hex
    env = isolated_env(bin_dir, state)
    cmd = [
        str(bin_dir / "jupyter-lab"),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={free_port()}",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = state / "jupyter-lab.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            cmd, cwd=root_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base_url = _wait_for_server(process, Path(env["JUPYTER_RUNTIME_DIR"]), token, log)
        yield Lab(base_url, token, root_dir, log, process)
    finally:
        process.terminate()  # SIGTERM: the server shuts its kernels down
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_server(process, runtime: Path, token: str, log: Path) -> str:
    """The server's URL once /api/status answers (the port is read back from its runtime file,
    in case the free port was taken meanwhile and the server moved on to the next one)."""
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()}")
        for info in runtime.glob("jpserver-*.json"):
            try:
                url = json.loads(info.read_text())["url"]
                request = urllib.request.Request(
                    f"{url}api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(request, timeout=10):
                    return url
            except (ValueError, KeyError, OSError, urllib.error.URLError):
                pass
        time.sleep(0.25)
    raise TimeoutError(f"jupyter lab did not answer in {SERVER_START} s:\n{log.read_text()}")


def run_in_kernels(lab: Lab, paths: list[str], code: str) -> list[tuple[str, str]]:
    """Run `code` in a fresh kernel for each notebook path (sessions started as JupyterLab starts
    them, all at once); return (stdout, error text) per path."""
    with ThreadPoolExecutor(1) as pool:  # its own event loop, away from Playwright's
        return pool.submit(asyncio.run, _run_in_kernels_async(lab, paths, code)).result()


async def _run_in_kernels_async(lab: Lab, paths: list[str], code: str) -> list[tuple[str, str]]:
    return list(await asyncio.gather(*(_run_in_kernel(lab, p, code) for p in paths)))


async def _run_in_kernel(lab: Lab, path: str, code: str) -> tuple[str, str]:
    """Start a session for `path` as JupyterLab does, execute `code` over the kernel websocket,
    return (stdout, error text), stop the session."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    loop = asyncio.get_running_loop()
    body = {"path": path, "type": "notebook", "name": "", "kernel": {"name": "python3"}}
    session = await loop.run_in_executor(None, lab.api, "POST", "sessions", body)
    try:
        url = (
            lab.base_url.replace("http", "ws", 1)
            + f"api/kernels/{session['kernel']['id']}/channels"
        )
        request = HTTPRequest(url, headers={"Authorization": f"token {lab.token}"})
        ws = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "session": uuid.uuid4().hex,
            "username": "test",
            "version": "5.3",
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        ws.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                }
            )
        )
        stdout, error = "", ""
        while True:
            raw = await asyncio.wait_for(ws.read_message(), timeout=KERNEL_WORK / 1000)
            if raw is None:
                return stdout, error or "websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                if msg["content"]["name"] == "stdout":
                    stdout += msg["content"]["text"]
                else:
                    error += msg["content"]["text"]
            elif kind == "error":
                error += f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                ws.close()
                return stdout, error
    finally:
        await loop.run_in_executor(None, lab.api, "DELETE", f"sessions/{session['id']}")


# --------------------------------------------------------------------------- the browser


@contextmanager
def chromium(user_data_dir: Path):
    """A Playwright browser context on Debian's chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        context.set_default_timeout(UI)
        try:
            yield context
        finally:
            context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class Notebook:
    """One notebook tab of JupyterLab (the tab is found by its file name)."""

    def __init__(self, page, filename: str):
        self.page = page
        self.filename = filename
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=filename)
        tab.first.wait_for(timeout=UI)
        self.tab = tab.first
        panel_id = tab.first.get_attribute("data-id")
        self.panel = page.locator(f"[id='{panel_id}']")
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=UI)
        self.cells = self.panel.locator(".jp-Notebook .jp-Cell")

    # ---- kernel and execution state

    def state(self) -> dict:
        return self.panel.evaluate(
            """(panel) => {
                const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                const prompts = [...panel.querySelectorAll('.jp-InputArea-prompt')];
                return {status: indicator ? indicator.dataset.status : null,
                        running: prompts.some(p => p.textContent.includes('*'))};
            }"""
        )

    def wait_until_idle(self, timeout: int = KERNEL_WORK) -> None:
        """This notebook's kernel is up and idle and no cell is queued or running.

        The toolbar's execution indicator says "idle" even before a kernel exists, so the
        status bar must also show this file with its kernel "Idle" (it reads "No Kernel |
        Initializing", "... | Connecting" until then), and no prompt may show `[*]`.
        """
        self.page.wait_for_function(
            r"""([panel, filename]) => {
                const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                const prompts = [...panel.querySelectorAll('.jp-InputArea-prompt')];
                const bar = document.querySelector('#jp-main-statusbar');
                const text = bar ? bar.textContent : '';
                return indicator && indicator.dataset.status === 'idle'
                    && text.includes(filename) && /\(ipykernel\) \| Idle/.test(text)
                    && !prompts.some(p => p.textContent.includes('*'));
            }""",
            arg=[self.panel.element_handle(), self.filename],
            timeout=timeout,
            polling=250,
        )

    def run_all(self) -> None:
        """Run -> Run All Cells, through the menu bar as a student would."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    def prompt(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-InputArea-prompt").inner_text().strip()

    def run_cell(self, index: int, timeout: int = KERNEL_WORK) -> None:
        """Select a cell (click its prompt: command mode), Shift+Enter, wait for a new count."""
        before = self.prompt(index)
        self.cells.nth(index).locator(".jp-InputArea-prompt").click()
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_function(
            r"""([cell, before]) => {
                const text = cell.querySelector('.jp-InputArea-prompt').textContent.trim();
                return text !== before && /\[\d+\]/.test(text);
            }""",
            arg=[self.cells.nth(index).element_handle(), before],
            timeout=timeout,
            polling=250,
        )
        self.wait_until_idle(timeout)

    # ---- outputs

    def outputs(self) -> list[dict]:
        """Per cell in order: its prompt, stderr/error texts, other output texts, image count."""
        return self.panel.evaluate(
            """(panel, stderr) => [...panel.querySelectorAll('.jp-Cell')].map(cell => {
                const outs = [...cell.querySelectorAll('.jp-OutputArea-output')];
                const prompt = cell.querySelector('.jp-InputArea-prompt');
                return {
                    prompt: prompt ? prompt.textContent.trim() : '',
                    errors: outs.filter(o => o.dataset.mimeType === stderr).map(o => o.textContent),
                    texts: outs.filter(o => o.dataset.mimeType !== stderr).map(o => o.textContent),
                    images: cell.querySelectorAll(
                        ".jp-OutputArea-output[data-mime-type='image/png'] img").length,
                };
            })""",
            STDERR,
        )

    def images(self):
        return self.panel.locator(".jp-OutputArea-output[data-mime-type='image/png'] img")

    # ---- editing

    def set_source(self, index: int, text: str) -> None:
        """Click into the cell's editor, select everything, type `text` in (one input event, so
        the editor inserts it as is: no auto-indent, no auto-closed brackets)."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")  # back to command mode

    def save(self) -> None:
        """File -> Save Notebook, through the menu bar; wait until the tab is no longer dirty."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^File$")).click()
        self.page.locator(".lm-Menu-item[data-command='docmanager:save']").click()
        self.page.wait_for_function(
            "tab => !tab.classList.contains('jp-mod-dirty')",
            arg=self.tab.element_handle(),
            timeout=UI,
            polling=250,
        )

    def is_dirty(self) -> bool:
        """The tab shows the unsaved-changes marker."""
        return "jp-mod-dirty" in (self.tab.get_attribute("class") or "")

    def validate(self):
        """Press nbgrader's Validate toolbar button; return the results dialog once it shows."""
        self.panel.locator(".jp-Toolbar .validate-button").click()
        dialog = self.page.locator(".jp-Dialog", has=self.page.locator("#validation-message"))
        dialog.wait_for(timeout=KERNEL_WORK)
        return dialog


def open_notebook(page, lab: Lab, path: str, workspace: str) -> Notebook:
    page.goto(lab.url(path, workspace))
    return Notebook(page, Path(path).name)


def file_browser_names(page) -> list[str]:
    """The names the file browser lists in its current folder (once it lists any)."""
    items = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    items.first.wait_for(timeout=UI)
    return items.all_inner_texts()
