"""The course package's own tests under the other CPythons present (`make test-pythons`).

Marked slow, so `make test` leaves them to `make test-pythons` (they cost minutes of both cores).
A version that pyenv does not have here is reported as skipped.
"""

import glob
import os
import subprocess

import pytest

from tests.support.grading_run import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("other-pythons")]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_course_package_tests_pass_on(version):
    if not glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")):
        pytest.skip(f"CPython {version} is not installed (pyenv)")
    done = subprocess.run(
        ["make", "--no-print-directory", "test-pythons", f"PYTHON_VERSIONS={version}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert f"course package tests on Python {version}" in done.stdout, tail
    assert " passed" in done.stdout and " failed" not in done.stdout, tail
