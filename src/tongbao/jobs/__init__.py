"""The durable job table: jobs written in the business transaction, run by workers under leases.

Public modules (``__all__``): ``queue``, ``payloads``, ``worker``, ``models``, ``housekeeping``.
"""

__all__ = ["housekeeping", "models", "payloads", "queue", "worker"]
