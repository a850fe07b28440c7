"""What the student sees in feedback: built only from what the trusted grader decided
and what the student's own answer cells printed.

- Test cells show no source at all (not even the visible line above the hidden tests)
  and, as output, only the grader's verdict (an error written by the executor from
  the trusted record; grader/executor/execute.py), cut to its message.
- The student's answer cells keep their source and what they printed (errors cut to
  their last line; only text and pictures, never HTML or JavaScript, which would run
  in the reader's browser).
- Every other code cell (the lesson's setup, experiments, plots) keeps its source,
  which the student received anyway, but no outputs: they were computed by the
  student's kernel, which may print anything.
"""
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

INERT = {"text/plain", "image/png", "image/jpeg"}
TEST_PLACEHOLDER = "# hidden tests: graded by the course's grader (its verdict is below)"
TRUSTED_ERRORS = {"GradingFailed", "CellTimeoutError", "KernelDied", "NotebookTimeout", "KeyboardInterrupt",
                  "MemoryError"}


class TrustedFeedback(NbGraderPreprocessor):  # enabled by default, unlike nbconvert's base

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if utils.is_grade(cell) and not utils.is_solution(cell):
            cell.source = TEST_PLACEHOLDER
            cell.outputs = [o for o in cell.get("outputs", [])
                            if o.get("output_type") == "error" and o.get("ename") in TRUSTED_ERRORS]
        elif not utils.is_solution(cell):
            cell.outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out.traceback = [f"{out.ename}: {out.evalue}"]
            if isinstance(out.get("data"), dict):
                # text and pictures only: no HTML, JavaScript or widgets of the kernel's in the page
                out.data = {k: v for k, v in out.data.items() if k in INERT}
        return cell, resources

