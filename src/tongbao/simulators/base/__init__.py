"""What the three channel simulators share, whatever their channel speaks.

``lifecycle`` (the clock, the fault plan, stalling and closing), ``sending`` (notifications in the
background, retried on a schedule), ``app`` (the Starlette app around a simulator), ``pages`` (the
payer pages' HTML layout), ``control`` (the control API's helpers) and ``wire`` (paths under a mount
prefix). Each simulator keeps the same file roles: ``app``, ``state``, ``gateway``, ``notify``,
``control`` and ``pages``, with ``state_*`` and ``gateway_*`` helpers where a role needs splitting.
"""
