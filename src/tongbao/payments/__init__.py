"""Payments: creating them, following each channel attempt to its end, closing and expiring them.

Public modules (``__all__``; other features import only these): ``domain`` (rules, the aggregate,
its events), ``models``, ``store`` (reading and locking rows), ``service`` (create, cashier
attempts), ``captures``, ``closing``, ``barcode``, ``jobs`` and ``job_payloads``, ``schemas``,
``views``, ``callback_api``. ``results`` (applying a channel's word), ``requests`` and ``routing``
are its own.
"""

__all__ = [
    "barcode",
    "callback_api",
    "captures",
    "closing",
    "domain",
    "job_payloads",
    "jobs",
    "models",
    "schemas",
    "service",
    "store",
    "views",
]
