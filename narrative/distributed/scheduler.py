"""Which Dask scheduler a build uses: the flag, then Dask's own environment and config."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from narrative.errors import SchedulerUnreachable  # noqa: F401 (defined in errors, raised here)



def connect(address: str):
    """A ``distributed.Client`` on ``address``, or :class:`SchedulerUnreachable` saying why not."""
    from distributed import Client

    try:
        return Client(address)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} ({exc}); start one with `dask scheduler` "
            "or drop --scheduler to run in-process"
        ) from exc


def resolve_scheduler(scheduler: str | None = None) -> str | None:
    """The scheduler address to use: ``scheduler``, else ``DASK_SCHEDULER_ADDRESS``, else Dask
    config ``scheduler-address``; None means in-process.

    Dask is only imported when a Dask config file may exist, so a plain ``narrative build`` does
    not pay for its import.
    """
    if scheduler:
        return scheduler
    if os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return os.environ["DASK_SCHEDULER_ADDRESS"]
    config_dirs = [os.environ.get("DASK_CONFIG", ""), Path.home() / ".config" / "dask",
                   Path(sys.prefix) / "etc" / "dask", "/etc/dask"]
    if "dask" not in sys.modules and not any(d and Path(d).is_dir() for d in config_dirs):
        return None
    import dask

    return (dask.config.get("scheduler-address", None)
            or dask.config.get("distributed.scheduler-address", None))
