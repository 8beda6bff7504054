"""An Alipay OpenAPI simulator: the real gateway protocol, a control API, a payer page, faults."""

from .app import create_alipay_simulator
from .notify import ALIPAY_NOTIFY_SCHEDULE_S
from .state import AlipaySimulator

__all__ = ["ALIPAY_NOTIFY_SCHEDULE_S", "AlipaySimulator", "create_alipay_simulator"]
