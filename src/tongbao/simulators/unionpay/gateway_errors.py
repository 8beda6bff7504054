"""The gateway's refusals, in its own terms: a ``respCode`` and a ``respMsg``."""

from __future__ import annotations


class GatewayError(Exception):
    """A refusal in the gateway's own terms: ``respCode`` and ``respMsg``."""

    def __init__(self, resp_code: str, resp_msg: str) -> None:
        super().__init__(f"{resp_code}: {resp_msg}")
        self.resp_code = resp_code
        self.resp_msg = resp_msg
