"""Imports every feature's tables so that ``metadata`` is complete (migrations, tests)."""

from tongbao.db.base import Base
from tongbao.merchants import models as _merchants  # noqa: F401
from tongbao.security import models as _security  # noqa: F401

metadata = Base.metadata
