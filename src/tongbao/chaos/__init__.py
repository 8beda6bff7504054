"""``tongbao chaos``: Tongbao as separate processes under a mixed load and faulty channels, its API
and worker processes killed at random moments and started again, then checked for lost money,
duplicate or missing notifications, stuck jobs and payments left open past their expiry."""
