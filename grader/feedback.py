"""What the student sees in feedback: their answers, their points, and the grader's
failure messages; never the hidden test code (nbgrader issue 917) nor the frames of
the grader's own source that a traceback would show."""
from nbgrader.preprocessors import NbGraderPreprocessor


class KeepOnlyFailureMessages(NbGraderPreprocessor):  # enabled by default, unlike nbconvert's base
    """In graded cells, cut each error's traceback down to its last line,
    ``ExceptionName: message``, which the grader helpers write for students."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources
