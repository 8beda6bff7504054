"""The double-entry ledger: every movement of money, its fees, balances and the hash chain."""
