"""The double-entry ledger: every movement of money, its fees, balances and the hash chain.

Public modules (``__all__``; other features import only these): ``domain``, ``models``,
``handlers`` and ``jobs`` (registered in ``tongbao.bootstrap``), ``journal`` (posting),
``plan_service``, ``check``, ``verify``, ``internal_recon``, ``audit``, and the routers ``api``,
``admin_api`` and ``recon_api``. The rest is its own.
"""

__all__ = [
    "admin_api",
    "api",
    "audit",
    "check",
    "domain",
    "handlers",
    "internal_recon",
    "jobs",
    "journal",
    "models",
    "plan_service",
    "recon_api",
    "verify",
]
