"""Merchants and their onboarding, apps and channel accounts: who may take payments, and how.

Public modules (``__all__``; other features import only these): ``domain``, ``models``, the
services (``merchant_service``, ``app_service``, ``channel_service``), ``pagination`` and the
routers (``*_api``). ``schemas`` and ``patching`` are its own.
"""

__all__ = [
    "app_api",
    "app_service",
    "channel_api",
    "channel_service",
    "domain",
    "echo_api",
    "limits_api",
    "me_api",
    "merchant_api",
    "merchant_service",
    "methods_api",
    "models",
    "pagination",
    "policy_api",
]
