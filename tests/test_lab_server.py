"""The course's JupyterLab server sends plot frames without Nagle's delay
(toolkit/descentlab/lab_server.py): ``make lab`` and ``make author`` start it that way, the
browser tests and the benchmark too, and the kernel websocket of a real server then has
TCP_NODELAY set (read from the server's own socket), which a plain server's has not."""
import ctypes
import json
import os
import pathlib
import re
import secrets
import socket
import subprocess

import pytest

from tests.e2e.browser import Lab

ROOT = pathlib.Path(__file__).resolve().parents[1]
SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture (since 5.6)


def test_make_lab_and_author_start_the_course_server():
    dry = subprocess.run(["make", "-n", "lab", "author", "STAMP=Makefile"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    commands = [line for line in dry.splitlines() if " lab " in line and "jupyter" in line]
    assert len(commands) == 2, dry
    for command in commands:
        for flag in Lab.COURSE_FLAGS:
            assert flag in command.split(), f"`make` starts JupyterLab without {flag}:\n{command}"


def _server_socket_nodelay(server_pid, server_port, client_port):
    """TCP_NODELAY of the server's end of the connection from ``client_port``, read from the
    server's own socket (a duplicate of its descriptor, through pidfd_getfd)."""
    inode = None
    for table in ("tcp", "tcp6"):
        for line in pathlib.Path(f"/proc/{server_pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if local == server_port and remote == client_port:
                inode = fields[9]
    assert inode, f"no server socket for the client port {client_port}"
    fds = [fd for fd in os.listdir(f"/proc/{server_pid}/fd")
           if os.readlink(f"/proc/{server_pid}/fd/{fd}") == f"socket:[{inode}]"]
    assert fds, f"the server holds no descriptor of socket {inode}"
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(server_pid)
    try:
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fds[0]), 0)
        if fd < 0:
            pytest.skip(f"pidfd_getfd is not allowed here: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(pidfd)
    with socket.socket(fileno=fd) as s:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def _kernel_websocket_nodelay(lab):
    """Start a kernel on ``lab``, open its websocket as JupyterLab does, and read the flag."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    kernel = lab.api("POST", "/api/kernels")["id"]

    async def probe():
        url = f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel}/channels?session_id={secrets.token_hex(8)}"
        ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {lab.token}"}))
        try:
            ws.write_message(json.dumps({"header": {"msg_id": "1", "msg_type": "kernel_info_request",
                                                    "username": "", "session": "", "version": "5.3"},
                                         "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
            while True:  # the kernel answers: the connection is up on both ends
                reply = await ws.read_message()
                assert reply is not None, "the server closed the kernel websocket"
                if isinstance(reply, str) and re.search(r'"msg_type":\s*"kernel_info_reply"', reply):
                    break
            client_port = ws.protocol.stream.socket.getsockname()[1]
            return _server_socket_nodelay(lab.proc.pid, lab.port, client_port)
        finally:
            ws.close()

    # A loop of its own in a thread of its own: the browser tests' Playwright keeps an event loop
    # running in this worker's main thread, which this probe must neither borrow nor stop.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, asyncio.wait_for(probe(), timeout=120)).result()


@pytest.mark.parametrize("flags, nodelay", [(Lab.COURSE_FLAGS, True), ((), False)],
                         ids=["course server", "plain server"])
def test_a_real_server_kernel_websocket(tmp_path, flags, nodelay):
    lab = Lab(tmp_path, flags=flags).start()
    try:
        assert _kernel_websocket_nodelay(lab) is nodelay
    finally:
        lab.stop()
