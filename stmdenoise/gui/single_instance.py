"""One running app per user: a second start hands its files to the first window and exits.

Explorer / a file manager starts ``stmdenoise-gui FILE`` for every double-clicked scan. The first
instance listens on a ``QLocalServer`` (a named pipe on Windows, a Unix socket elsewhere); a later
start connects, sends its files as one line of JSON and exits, and the running window opens them
and comes to the front.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMainWindow

from stmdenoise.paths import user_data_dir

__all__ = ["server_name", "send_to_running", "InstanceServer"]

log = logging.getLogger(__name__)


def server_name() -> str:
    """Name of the local server: one per user and per user data folder (tests isolate theirs)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a stripped-down container
        user = "user"
    digest = hashlib.sha1(str(user_data_dir().resolve()).encode()).hexdigest()[:12]
    return f"stmdenoise-{user}-{digest}"


def send_to_running(files: list[str], *, name: str | None = None, timeout_ms: int = 2000) -> bool:
    """Hand ``files`` to a running instance; True when one took them (then this start should exit).

    Needs no QApplication (blocking socket calls). Relative paths are made absolute first: the
    running instance has another working folder.
    """
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    payload = json.dumps({"files": [str(Path(f).resolve()) for f in files]}).encode() + b"\n"
    socket.write(payload)
    ok = socket.waitForBytesWritten(timeout_ms)
    # wait for the server's one-byte acknowledgement: the files arrived before this process exits
    ok = ok and socket.waitForReadyRead(timeout_ms) and bytes(socket.readAll().data()).startswith(b"ok")
    socket.disconnectFromServer()
    return bool(ok)


class InstanceServer(QObject):
    """Listens for later starts; emits ``files_received`` with each one's files (possibly none)."""

    files_received = Signal(list)

    def __init__(self, parent: QObject | None = None, *, name: str | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._connection)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self._window: QMainWindow | None = None

    def listen(self) -> bool:
        """Start listening; False when another instance already listens (hand the files to it).

        A socket file left by a crashed instance (Unix) answers no connection: it is removed
        and listening retried. A live instance's socket is never taken over.
        """
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(500):  # someone started in the meantime (Explorer, several files)
            probe.abort()
            return False
        QLocalServer.removeServer(self.name)  # nobody answers: at most a stale socket file
        if self._server.listen(self.name):
            return True
        log.warning("single instance: cannot listen on %s: %s", self.name, self._server.errorString())
        return False

    def attach(self, window: QMainWindow) -> None:
        """Open the handed-over files in ``window`` (a MainWindow) and bring it to the front."""
        self._window = window
        self.files_received.connect(self._deliver)

    @Slot(list)
    def _deliver(self, files: list[str]) -> None:
        window = self._window
        if window is None:
            return
        if files:
            window.open_paths(files)  # type: ignore[attr-defined]
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()

    def close(self) -> None:
        """Stop listening."""
        self._server.close()

    @Slot()
    def _connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(self._forget)
            if socket.bytesAvailable():
                self._read_socket(socket)

    @Slot()
    def _forget(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._buffers.pop(socket, None)
            socket.deleteLater()

    def full_name(self) -> str:
        """Path of the socket file (Unix) or the pipe name (Windows) while listening."""
        return str(self._server.fullServerName())

    @Slot()
    def _read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read_socket(socket)

    def _read_socket(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if b"\n" not in data:
            self._buffers[socket] = data
            return
        self._buffers.pop(socket, None)
        line = data.split(b"\n", 1)[0]
        try:
            message = json.loads(line.decode("utf-8"))
            files = [str(f) for f in message.get("files", [])]
        except (ValueError, AttributeError, TypeError) as exc:
            log.warning("single instance: ignoring a malformed message (%s)", exc)
            socket.disconnectFromServer()
            return
        socket.write(b"ok\n")
        socket.flush()
        log.info("single instance: another start handed over %d file(s)", len(files))
        self.files_received.emit(files)
