"""nbgrader feedback that explains failures without showing hidden-test source.

nbgrader's `ClearHiddenTests` removes the hidden tests from a test cell's *source*, but the
cell's error output still carries IPython's traceback, which quotes the failing lines of the
hidden test. `HideTestTracebacks` keeps only the error's name and message in autograded test
cells: the message is where the grading checks put their explanation.

Used in nbgrader_config.py:

    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, HideTestTracebacks, ...]

>>> from nbformat.v4 import new_code_cell, new_output
>>> cell = new_code_cell("assert False", metadata={"nbgrader": {"grade": True, "solution": False}})
>>> cell.outputs = [new_output("error", ename="AssertionError", evalue="expected 3",
...                            traceback=["...", "secret line", "AssertionError: expected 3"])]
>>> cell, _ = HideTestTracebacks().preprocess_cell(cell, {}, 0)
>>> cell.outputs[0].traceback
['AssertionError: expected 3']
"""

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class HideTestTracebacks(Preprocessor):
    """Replace the traceback of every error in an autograded test cell by `ename: evalue`."""

    enabled = Bool(True, help="nbconvert preprocessors are off unless enabled").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
