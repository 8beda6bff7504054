"""The tests' in-thread server is the harness's."""

from tongbao.harness.threaded_server import LiveServer

__all__ = ["LiveServer"]
