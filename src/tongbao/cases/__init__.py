"""Exception cases for operators: opened, heard and settled by the handlers of payments' and
refunds' events, decided by operators.

Public modules (``__all__``; other features import only these): ``domain``, ``models``,
``handlers`` (registered in ``tongbao.bootstrap``), ``api``. ``service``, ``remedies``,
``decisions``, ``reading``, ``schemas`` and ``views`` are its own.
"""

__all__ = ["api", "domain", "handlers", "models"]
