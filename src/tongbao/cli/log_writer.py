"""Log lines written from a thread of their own, so a slow stderr never stalls the event loop."""

from __future__ import annotations

import atexit
import queue
import sys
import threading
from typing import TextIO


class BackgroundLogWriter:
    """A file-like ``write`` that queues; one thread writes and flushes in order.

    ``stream=None`` writes to whatever ``sys.stderr`` is at the time of writing.
    """

    def __init__(self, stream: TextIO | None = None, capacity: int = 10_000) -> None:
        self._stream = stream
        # Bounded: if the reader of stderr is gone for good, writers wait instead of eating memory.
        self._queue: queue.Queue[str | None] = queue.Queue(capacity)
        self._thread = threading.Thread(target=self._drain, name="tongbao-log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def write(self, text: str) -> int:
        if self._thread.is_alive():
            self._queue.put(text)
        else:  # closed (at exit): write it here rather than queue it for nobody
            self._write(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to do here: the writing thread flushes after every line."""

    def wait(self) -> None:
        """Until every line queued so far is written."""
        self._queue.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _drain(self) -> None:
        while True:
            text = self._queue.get()
            try:
                if text is None:
                    return
                self._write(text)
            finally:
                self._queue.task_done()

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stderr
        try:
            try:
                stream.write(text)
            except UnicodeEncodeError:
                stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed or broken: there is nowhere left to say so
