"""UnionPay online gateway (ACP 5.1.0): front transactions, back notifies, queries."""
