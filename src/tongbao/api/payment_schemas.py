"""The payment as the API answers it, with its refunds, for validation and the OpenAPI document."""

from __future__ import annotations

from tongbao.merchants.pagination import Listed
from tongbao.payments.schemas import PaymentFields
from tongbao.refunds.schemas import RefundPublic


class PaymentPublic(PaymentFields):
    refunds: list[RefundPublic]


class PaymentsPublic(Listed[PaymentPublic]):
    """A page of the list, newest first."""
