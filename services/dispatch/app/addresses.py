"""Importing a jurisdiction's address points: a file checked whole, then one dataset replaced.

What ``corespond addresses import`` calls; the file format and the table are
the adapters' business.
"""

from pathlib import Path

from services.common.outbox import UnitOfWork
from services.dispatch.adapters.address_files import (
    AddressFileError,
    AddressPointIn,
    read_address_points,
)
from services.dispatch.adapters.address_points import replace_dataset

__all__ = ["AddressFileError", "AddressPointIn", "read_file", "replace"]


def read_file(path: Path) -> list[AddressPointIn]:
    """Every point of ``path``, or AddressFileError naming file, line and field."""
    return read_address_points(path)


async def replace(uow: UnitOfWork, dataset: str, points: list[AddressPointIn]) -> int:
    """Store ``points`` as ``dataset``; returns how many points of it they replace."""
    return await replace_dataset(uow.session, dataset, points)
