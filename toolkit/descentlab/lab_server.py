"""The course's JupyterLab server: kernel websockets that send each frame at once.

Tornado leaves Nagle's algorithm on for websockets (its docs warn of the delays) and the
Jupyter server does not turn it off. An interactive plot's frame is one large message
(a PNG): its last partial TCP segment then waits for the browser's acknowledgement of
the ones before, and Linux delays that acknowledgement by 40 ms. Measured on the course's
plots, key press to repainted canvas: 68-71 ms median with Nagle, 45-50 ms without, for
a figure that does almost nothing (docs/performance.md).

Used by ``make lab`` and ``make author`` (and by the browser tests and the benchmark,
which measure what a student gets):

    jupyter lab --ServerApp.kernel_websocket_connection_class=descentlab.lab_server.NoDelayConnection

Only the Jupyter server imports this module; a kernel never does.
"""
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

# the option that makes a Jupyter server use it (one place: the Makefile's and the tests' servers)
SERVER_FLAG = "--ServerApp.kernel_websocket_connection_class=descentlab.lab_server.NoDelayConnection"


class NoDelayConnection(ZMQChannelsWebsocketConnection):
    """Jupyter's own kernel websocket connection, with TCP_NODELAY on its socket."""

    def connect(self):
        # called from the handler's open(): the websocket is established, its stream exists
        self.websocket_handler.set_nodelay(True)
        return super().connect()
