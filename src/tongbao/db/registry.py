"""Imports every feature's tables so that ``metadata`` is complete (migrations, tests)."""

from tongbao.cases import models as _cases  # noqa: F401
from tongbao.db.base import Base
from tongbao.jobs import models as _jobs  # noqa: F401
from tongbao.ledger import models as _ledger  # noqa: F401
from tongbao.merchants import models as _merchants  # noqa: F401
from tongbao.notify import models as _notify  # noqa: F401
from tongbao.payments import models as _payments  # noqa: F401
from tongbao.refunds import models as _refunds  # noqa: F401
from tongbao.security import models as _security  # noqa: F401

metadata = Base.metadata
