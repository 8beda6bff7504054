"""Tongbao (通宝): a payment gateway for WeChat Pay, Alipay and UnionPay behind one signed API."""

__version__ = "0.1.0"
