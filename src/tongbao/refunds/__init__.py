"""Refunds: money going back on a capture, the merchant's or Tongbao's own, followed to its end.

Public modules (``__all__``; other features import only these): ``domain`` (rules, the aggregate,
its events), ``models``, ``store``, ``opening`` (writing one under the payment's lock),
``submission`` (the channel call and the janitor), ``results`` (applying an outcome once),
``payment_view``, ``schemas``, ``views``, ``api``, ``admin_api``, ``callback_api``. ``service``,
``requests`` and ``listing`` are its own.
"""

__all__ = [
    "admin_api",
    "api",
    "callback_api",
    "domain",
    "models",
    "opening",
    "payment_view",
    "results",
    "schemas",
    "store",
    "submission",
    "views",
]
