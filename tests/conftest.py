import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(items):
    """Keep the tests that share one expensive module-scoped fixture instance on one xdist worker.

    test_autograde.py grades each assignment once (a module fixture parametrized by assignment);
    grouping its tests by assignment lets `--dist loadgroup` spread assignments over workers
    without grading any of them twice.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "graded" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(f"grade-{callspec.params['graded']}"))
