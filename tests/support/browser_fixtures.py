"""The pytest fixtures of the browser tests (test_browser.py, test_browser_pictures.py):
one JupyterLab serving a fresh student edition per test module, one Chromium, a page per test.

Each module gets its own lab and edition: the tests type into notebooks and save them, and a
module's notebooks must start as the edition ships them. conftest.py imports these fixtures.
"""

import re
import sys
from pathlib import Path

import pytest

from tests.support.browser_lab import (
    CHROMIUM,
    Lab,
    chromium,
    running_lab,
    screenshot,
    student_edition,
)


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory) -> Lab:
    """JupyterLab from this environment serving a student edition built for this module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    tmp = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    root = student_edition(tmp / "student")
    with running_lab(Path(sys.executable).parent, root, tmp / "state") as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser, lab, request):
    """A fresh tab; after a failed test its screenshot and the server's log; kernels stopped."""
    failed_before = request.session.testsfailed
    page = browser.new_page()
    yield page
    if request.session.testsfailed > failed_before:  # this test failed: keep what it saw
        screenshot(page, "failed-" + re.sub(r"[^\w.-]+", "-", request.node.name))
        print(f"JupyterLab log (last lines):\n{lab.log_tail()}")
    page.close()
    lab.shutdown_kernels()
