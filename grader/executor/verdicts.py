"""The trusted side of grading: a Unix-socket server that hidden-test cells talk to,
and the record of what it decided.

The executor (grader/executor/execute.py) tells the server which cell the kernel is
running (``begin_cell`` / ``end_cell``). A request that arrives while a graded test cell
runs is attributed to that cell, and only for what the instructor's source of that cell
grades (its *plan*, read from the cell's code, never from the kernel). For each planned
item the server runs the check here, in the grader's process, with the student's answer
as a ``RemoteAnswer``: every call becomes a request to the kernel, which computes the
student's outputs and sends them back. The verdict is recorded once per (cell, item);
a second request for the same item is refused. A cell's score comes only from this
record (fail closed): an item never asked for, interrupted, or answered wrongly scores
zero, whatever the cell printed.
"""
import ast
import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field

from gradeclient import wire
from grader import timings
from grader.checks.answer import Answer, AnswerGone

CHECK_NAMES = {"check": "check", "check_answer": "answer"}


# ------------------------------------------------------------------ what a cell grades

def plan(source):
    """The items a test cell's source grades, in order: ("check", name, part) for
    ``check(name, obj, part)`` and ("answer", key) for ``check_answer(key, value)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    items = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        kind = CHECK_NAMES.get(fname)
        consts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if kind == "check" and len(consts) >= 3 and consts[0] and consts[2]:
            items.append(("check", consts[0], consts[2]))
        elif kind == "answer" and len(consts) >= 1 and consts[0]:
            items.append(("answer", consts[0]))
    return sorted(set(items), key=items.index)


def clean(text, limit=80):
    """``text`` safe to print on one line of a summary: printable, no newlines, short."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_item(item):
    """An item's name for messages; names the kernel made up are cut and cleaned."""
    if item[0] == "check":
        return f"{clean(item[1], 40)} ({clean(item[2], 20)})"
    return f"question {clean(item[1], 40)}"


# ------------------------------------------------------------------ the record

@dataclass
class Verdict:
    passed: bool
    message: str = ""


@dataclass
class CellRecord:
    grade_id: str
    items: list
    verdicts: dict = field(default_factory=dict)    # item -> Verdict
    asked: set = field(default_factory=set)         # items whose check has started

    def outcome(self):
        """(passed, message): passed only when every planned item passed."""
        if not self.items:
            return False, "this test cell grades nothing the grader knows"
        for item in self.items:
            v = self.verdicts.get(item)
            if v is None:
                return False, (f"{describe_item(item)} was not graded: the cell never asked the grader "
                               f"(it stopped before the check, or the check did not run)")
            if not v.passed:
                return False, v.message
        return True, ""


class Record:
    """grade_id -> CellRecord, plus what the kernel tried that it should not have."""

    def __init__(self):
        self.cells = {}
        self.flags = []
        self._lock = threading.Lock()

    MAX_FLAGS = 12

    def flag(self, text):
        text = clean(text, 300)
        with self._lock:
            if text in self.flags or len(self.flags) > self.MAX_FLAGS:
                return
            self.flags.append(text if len(self.flags) < self.MAX_FLAGS
                              else "... and more requests of the same kinds (not listed)")


# ------------------------------------------------------------------ the remote answer

class RemoteAnswer(Answer):
    """The student's answer inside the kernel, reached through one session's socket."""

    def __init__(self, session, description, target=None):
        super().__init__(description, target)
        self.session = session

    def helper(self, name):
        return RemoteAnswer(self.session, {"callable": True}, target=str(name))

    def _exchange(self, message):
        return self.session.exchange(message)


class Session:
    """One connection from the kernel: one planned item of one cell."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.calls = 0

    def exchange(self, message):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise AnswerGone("the check ran out of time")
        self.sock.settimeout(remaining)
        self.calls += 1
        try:
            wire.send(self.sock, message)
            return wire.recv(self.sock, limit=VerdictServer.REPLY)
        except TimeoutError:
            raise AnswerGone("the check ran out of time (the kernel did not answer)") from None
        except (EOFError, OSError) as e:
            raise AnswerGone(f"the kernel stopped answering in the middle of the check ({e})") from None


# ------------------------------------------------------------------ the server

class VerdictServer:
    """Listens on ``path``; attributes sessions to the cell the executor says is running."""

    def __init__(self, path, check_timeout=120, open_mode=False):
        self.path = str(path)
        self.check_timeout = check_timeout
        self.open_mode = open_mode      # outside grading: any item, any time, verdict told back
        self.record = Record()
        self._current = None            # CellRecord of the test cell running now
        self._replaying = False
        self._lock = threading.Lock()
        self._sessions = set()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # bound and listening under a temporary name, then renamed: a client that waits for
        # the path to appear (gradeclient's local grader) never finds it before the server
        # listens (a connect between bind and listen is refused)
        pending = f"{self.path}.{os.getpid()}.pending"
        for stale in (self.path, pending):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        self._listener.bind(pending)
        os.chmod(pending, 0o666)       # the sandbox's user connects to it
        self._listener.listen(16)
        os.rename(pending, self.path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="verdict-server", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------- told by the executor
    def begin_cell(self, grade_id, items, timeout=None):
        with self._lock:
            rec = self.record.cells.get(grade_id)
            if rec is None:
                rec = self.record.cells[grade_id] = CellRecord(grade_id, list(items))
            self._current = rec
            self.check_timeout = timeout or self.check_timeout

    def end_cell(self):
        with self._lock:
            self._current = None
            sessions = list(self._sessions)
        for s in sessions:       # a thread the notebook left talking to the grader
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def replaying(self):
        """Cells run again after a kernel restart: nothing they ask is graded."""
        self._replaying = True
        try:
            yield
        finally:
            self._replaying = False

    def close(self):
        self._stop.set()
        with contextlib.suppress(OSError):
            # wakes the serving thread's accept (closing alone would leave it blocked, and a
            # grading process that lives on, a worker or the check server, with one thread
            # and one socket more per submission)
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.end_cell()

    # ---------------------------------------------------------- serving
    MAX_SESSIONS = 4            # at once; a kernel flooding the socket is turned away
    FIRST_MESSAGE = 1 << 20     # bytes: a request names an item and at most a small value
    REPLY = 16 << 20            # bytes: what one call of the student's function returns

    def _serve(self):
        slots = threading.BoundedSemaphore(self.MAX_SESSIONS)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if not slots.acquire(blocking=False):
                self.record.flag("the notebook opened many connections to the grader at once (turned away)")
                conn.close()
                continue
            threading.Thread(target=self._handle, args=(conn, slots), daemon=True).start()

    def _handle(self, conn, slots):
        with self._lock:
            self._sessions.add(conn)
        try:
            with conn:
                self._session(conn)
        except Exception:   # noqa: BLE001 (a broken session never stops grading)
            pass
        finally:
            with self._lock:
                self._sessions.discard(conn)
            slots.release()

    def _refuse(self, conn, why, flag=None):
        if flag:
            self.record.flag(flag)
        with contextlib.suppress(Exception):
            wire.send(conn, {"op": "refused", "why": why})

    def _session(self, conn):
        conn.settimeout(10)
        try:
            first = wire.recv(conn, limit=self.FIRST_MESSAGE)
        except (wire.ProtocolError, EOFError, OSError, ValueError) as e:
            self.record.flag(f"the notebook sent the grader something that is not a request ({e})")
            return
        item = _item(first)
        if item is None:
            return self._refuse(conn, "not a request of this course's grader",
                                "the notebook sent the grader a malformed request")
        if self.open_mode:
            verdict = self._decide(conn, first, item)
            with contextlib.suppress(Exception):
                wire.send(conn, {"op": "done", "passed": verdict.passed, "message": verdict.message})
            return
        with self._lock:
            rec = self._current
        if self._replaying:
            return self._refuse(conn, "cells replayed after a kernel restart are not graded again")
        if rec is None:
            return self._refuse(conn, "only the hidden-test cells may ask the grader",
                                f"a cell that is not a test cell asked the grader for {describe_item(item)}")
        if item not in rec.items:
            return self._refuse(conn, f"this cell does not grade {describe_item(item)}",
                                f"{rec.grade_id}: asked for {describe_item(item)}, which this cell does not grade")
        with self._lock:
            taken = item in rec.asked
            rec.asked.add(item)
        if taken:
            return self._refuse(conn, f"{describe_item(item)} has already been graded in this run",
                                f"{rec.grade_id}: asked a second time for {describe_item(item)} (refused; "
                                f"the first verdict stands)")
        verdict = self._decide(conn, first, item)
        with self._lock:
            rec.verdicts.setdefault(item, verdict)
        with contextlib.suppress(Exception):
            wire.send(conn, {"op": "done"})

    def _decide(self, conn, first, item):
        with timings.timed("the verdicts (the checks, in the grader; part of the test cells)"):
            return self._verdict(conn, first, item)

    def _verdict(self, conn, first, item):
        from grader import checks
        session = Session(conn, time.monotonic() + self.check_timeout)
        try:
            if item[0] == "check":
                answer = RemoteAnswer(session, first.get("answer") if isinstance(first.get("answer"), dict) else {})
                checks.check(item[1], answer, item[2])
            else:
                checks.check_answer(item[1], wire.decode(first.get("value")))
            return Verdict(True)
        except AnswerGone as e:
            return Verdict(False, f"{describe_item(item)}: not graded: {e}.")
        except AssertionError as e:
            return Verdict(False, str(e))
        except NotImplementedError:
            return Verdict(False, f"{item[1]} is not implemented yet (it raises NotImplementedError).")
        except wire.ProtocolError as e:
            self.record.flag(f"{describe_item(item)}: the kernel's replies broke the grading protocol ({e})")
            return Verdict(False, f"{describe_item(item)}: the grader could not read what the kernel sent back.")
        except Exception as e:   # noqa: BLE001 (fail closed on anything unexpected)
            return Verdict(False, f"{describe_item(item)}: the grader could not use what came back "
                                  f"({type(e).__name__}: {str(e)[:200]}).")


def _item(first):
    if not isinstance(first, dict) or first.get("op") != "begin":
        return None
    if first.get("kind") == "check" and isinstance(first.get("name"), str) and isinstance(first.get("part"), str):
        return ("check", first["name"], first["part"])
    if first.get("kind") == "answer" and isinstance(first.get("key"), str):
        return ("answer", first["key"])
    return None
