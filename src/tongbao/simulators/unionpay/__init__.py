"""A UnionPay online gateway (ACP 5.1.0) simulator: front transactions with a payer page, back
notifies with retries, queries, a control API and faults."""

from .app import create_unionpay_simulator
from .state import UnionPaySimulator

__all__ = ["UnionPaySimulator", "create_unionpay_simulator"]
