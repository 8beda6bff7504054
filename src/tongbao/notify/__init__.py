"""Notifications to merchants: the outbox written with each change, and its delivery.

Public modules (``__all__``; other features import only these): ``events`` (recording one in the
caller's transaction), ``models``, ``endpoints``, ``jobs``, ``api``. ``delivery``, ``schedule``,
``service``, ``listing``, ``schemas`` and ``views`` are its own.
"""

__all__ = ["api", "endpoints", "events", "jobs", "models"]
