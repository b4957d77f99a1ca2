"""The settings Django loads. Each concern lives in its own module under ``includes/``."""

from yiwang.conf.includes.applications import *  # noqa: F403
from yiwang.conf.includes.assistant import *  # noqa: F403
from yiwang.conf.includes.base import *  # noqa: F403
from yiwang.conf.includes.cache import *  # noqa: F403
from yiwang.conf.includes.city import *  # noqa: F403
from yiwang.conf.includes.credit import *  # noqa: F403
from yiwang.conf.includes.database import *  # noqa: F403
from yiwang.conf.includes.gis import *  # noqa: F403
from yiwang.conf.includes.identity import *  # noqa: F403
from yiwang.conf.includes.ledger import *  # noqa: F403
from yiwang.conf.includes.licences import *  # noqa: F403
from yiwang.conf.includes.logging import *  # noqa: F403
from yiwang.conf.includes.payments import *  # noqa: F403
from yiwang.conf.includes.perception import *  # noqa: F403
from yiwang.conf.includes.seals import *  # noqa: F403
from yiwang.conf.includes.search import *  # noqa: F403
from yiwang.conf.includes.security import *  # noqa: F403
from yiwang.conf.includes.tasks import *  # noqa: F403
from yiwang.conf.includes.trust import *  # noqa: F403
from yiwang.conf.includes.uploads import *  # noqa: F403
from yiwang.conf.includes.zones import *  # noqa: F403
