"""``tongbao bench …``: throughput and latency of a real Tongbao, measured from outside."""
