"""The API of one process of ``tongbao serve --workers N``, built from the environment alone.

uvicorn starts each of the N processes fresh (spawned, not forked) and calls
``app_from_environment`` in it, so everything a process needs is in ``TONGBAO_…`` variables:
``serve`` checks them once (master key, schema, database) and writes what it worked out itself
(the data dir, the public base URL) back into the environment the processes inherit. Each process
has its own engine and pool; they share nothing but the database.

Any ASGI server can run the same factory:
``uvicorn --factory tongbao.cli.asgi:app_from_environment``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import MutableMapping
from typing import Final

from fastapi import FastAPI

from tongbao.api.app import create_app
from tongbao.bootstrap import build_container
from tongbao.cli.runtime import configure_logging
from tongbao.config import Settings
from tongbao.security.master_key import load_master_key
from tongbao.security.redaction import remember_process_secret

FACTORY: Final = f"{__name__}:app_from_environment"
_PR_SET_PDEATHSIG: Final = 1  # linux/prctl.h


def hand_down(settings: Settings, environ: MutableMapping[str, str] = os.environ) -> None:
    """Writes what ``serve`` decided into the environment its API processes start with."""
    environ["TONGBAO_DATA_DIR"] = str(settings.data_dir.resolve())
    environ["TONGBAO_PUBLIC_BASE_URL"] = settings.public_base_url


def app_from_environment() -> FastAPI:
    _stop_with_supervisor()
    settings = Settings()
    configure_logging(settings.log_json)
    remember_process_secret(settings.master_key)
    # The environment's key only: the supervisor refused to start without one.
    key = load_master_key(settings, allow_demo_file=False, create_demo_file=False)
    return create_app(build_container(settings, key), own_container=True)


def _stop_with_supervisor() -> None:
    """A process whose supervisor dies (SIGKILL, the OOM killer) is sent SIGTERM and stops.

    Left running, it would keep answering on the shared socket with nobody to stop it, and hold
    the port against the next ``tongbao serve``. Only for a process that uvicorn's supervisor
    started (a multiprocessing child), and only where the kernel offers it.
    """
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return
    if os.getppid() != parent.pid:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
