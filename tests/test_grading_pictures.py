"""A failed race trial is drawn below its message: the student's own threads, their reads and
writes, and the first lost update. A passing check draws nothing."""

import json
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course.grading import racy, run_isolated, stress
from course.grading.pictures import png_for, race_png
from course.timeline.pictures import lost_updates

ROOT = str(Path(__file__).resolve().parent.parent)


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = 0

    def unsafe(self):
        self.value = self.value + 1

    def safe(self):
        with self.lock:
            self.value = self.value + 1


def together(method, n_threads=4, times=10):
    counter = racy(Counter, "value")()
    start = threading.Barrier(n_threads)

    def work():
        start.wait()
        for _ in range(times):
            getattr(counter, method)()

    workers = [threading.Thread(target=work) for _ in range(n_threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return n_threads * times, counter.value


def test_a_failed_trial_carries_its_accesses_from_the_child():
    with pytest.raises(AssertionError) as info:
        run_isolated(stress, lambda: together("unsafe"), repeat=2, name="race", timeout=10)
    facts = info.value.grading_facts
    assert facts["kind"] == "race" and facts["title"].startswith("race: trial 1 of 2: expected 40")
    accesses = facts["accesses"]
    threads = {a[1] for a in accesses} - {"MainThread"}
    assert len(threads) == 4 and {a[3] for a in accesses} == {"read", "write"}
    value = [(t, op, v) for _, t, attr, op, v in accesses if attr == "value" and t != "MainThread"]
    j = lost_updates(value)[0]
    i = next(k for k in range(j + 1, len(value)) if value[k][1] == "write")
    assert value[i][1] == value[j][1] == "write" and value[i][0] != value[j][0]
    assert race_png(facts).startswith(b"\x89PNG")


def test_passing_trials_carry_nothing_and_record_nothing_after():
    import course.grading.races as races

    stats = stress(lambda: together("safe"), repeat=2, name="safe")
    assert stats.trials == 2 and races._LOG.entries is None


def test_lost_update_names_the_overwritten_write():
    accesses = [
        (0.0, "A", "v", "read", "0"),
        (0.1, "B", "v", "read", "0"),
        (0.2, "B", "v", "write", "1"),
        (0.3, "A", "v", "write", "1"),  # A read 0 before B wrote: B's update is lost
    ]
    assert lost_updates([(t, op, v) for _, t, _, op, v in accesses]) == [2]
    assert race_png({"kind": "race", "accesses": accesses}).startswith(b"\x89PNG")
    assert png_for({"kind": "race", "accesses": []}) is None


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec that runs THIS interpreter (not whatever `python` is on PATH)."""
    spec = tmp_path / "jupyter" / "kernels" / "pictures-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "pictures-test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return tmp_path


def test_the_picture_follows_the_error_in_a_real_kernel(kernel_env):
    setup = f"""
        import sys, threading
        sys.path.insert(0, {ROOT!r})
        from course.grading import racy, run_isolated, stress
        from tests.test_grading_pictures import together
    """
    failing = 'stress(lambda: together("unsafe"), repeat=2, name="no lock", timeout=10)'
    passing = 'print(stress(lambda: together("safe"), repeat=2, name="lock", timeout=10).trials)'
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in (setup, failing, passing)]
    NotebookClient(
        nb,
        kernel_name="pictures-test",
        timeout=60,
        allow_errors=True,
        resources={"metadata": {"path": ROOT}},
    ).execute()
    _, fail, ok = (cell.outputs for cell in nb.cells)
    kinds = [o.output_type for o in fail]
    assert kinds[0] == "error" and "display_data" in kinds, fail
    image = next(o for o in fail if o.output_type == "display_data")
    assert "image/png" in image["data"]
    assert not [o for o in fail if o.get("name") == "stderr"], fail
    assert [o.output_type for o in ok] == ["stream"] and ok[0]["text"] == "2\n", ok
