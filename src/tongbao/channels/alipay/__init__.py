"""Alipay OpenAPI: the adapter and the wire rules it shares with the simulator."""
