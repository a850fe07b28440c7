import atexit
import logging
import os
import sys

from grader.cli import main

code = main()
# The interpreter's own teardown of torch, nbgrader and the rest takes about a second,
# longer than some commands' work: run the exit handlers (the warm-kernel template's
# close among them), flush, and end. Nothing is left open: every command has closed its
# gradebook and removed its temporary folders before it returns.
atexit._run_exitfuncs()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code if isinstance(code, int) else 0 if code is None else 1)
