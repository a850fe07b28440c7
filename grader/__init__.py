"""Instructor side of the course: reference implementations, grading checks, command line.

Hidden tests call ``grader.check(name, student_object, part)``. Students never get
this package; it imports the student toolkit, never the other way round.
"""
from grader.checks import check, parts

__all__ = ["check", "parts"]
