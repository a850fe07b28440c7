"""nbgrader configuration of the course, read by every nbgrader command run from here.

Gradebook: SQLite at the repository root unless NBGRADER_DB_URL holds another
SQLAlchemy URL (for example postgresql://user@localhost/gradebook).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "optim-dl"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db"))

# Never copied into a release: the lessons' text twins (NAME.py beside NAME.ipynb hold
# the solutions and hidden tests, grader/twins.py), caches and feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "*.py"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# nbgrader gives a test cell zero points for any output on stderr. In this course a
# check's verdict is its exception; stderr only ever carries library warnings (torch,
# matplotlib, numpy overflow in a student's diverging run) or progress bars, so it is
# dropped before grading instead of costing a correct answer its points.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"

# Feedback is built from the trusted verdicts and the student's own answer cells only:
# no test cell source (nbgrader issue 917), no outputs of the lesson's other cells.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.feedback.TrustedFeedback",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# A notebook runs in seconds; a generous bound still ends a student's infinite loop
# (the cell is interrupted, the rest of the notebook still runs). TrustedExecute runs
# every kernel in a sandbox, takes each test cell's score from the grader's own verdict,
# adds a budget for the whole notebook and survives a cell that kills its kernel.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.TrustedExecute.notebook_timeout = 600
# nbclient waits 4 s for a cell's last output after its reply; a busy grading machine
# needs longer, or a correct cell fails with "Timeout waiting for IOPub output".
c.Execute.iopub_timeout = 60

# Autograding grades the instructor's notebook with only the student's answers in it
# (grader/executor/rebuild.py), every kernel in a sandbox and every verdict decided
# outside it (grader/executor/execute.py, verdicts.py, sandbox.py).
c.Autograde.sanitize_preprocessors = [
    "grader.executor.rebuild.RebuildFromSource",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "grader.executor.execute.TrustedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "grader.executor.execute.LimitOutputSize",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
