"""A WeChat Pay API v3 simulator: the real wire protocol, a control API, a payer page, faults."""

from .app import create_wechatpay_simulator
from .notify import WECHAT_CALLBACK_SCHEDULE_S
from .state import WeChatPaySimulator

__all__ = ["WECHAT_CALLBACK_SCHEDULE_S", "WeChatPaySimulator", "create_wechatpay_simulator"]
