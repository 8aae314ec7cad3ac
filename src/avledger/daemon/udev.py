"""Block-device events from the real udev, filtered in the kernel to the block subsystem."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyudev


@dataclass(frozen=True)
class BlockEvent:
    action: str  # add | change | remove | existing
    devnode: str
    properties: dict[str, str] = field(default_factory=dict)
    seqnum: int = 0
    # When the event arrived (UTC): the moment of docking for a recorder that appears now.
    # None for devices already attached when the daemon started (udev's own record is used).
    received_at: datetime | None = None

    @property
    def has_filesystem(self) -> bool:
        return bool(self.properties.get("ID_FS_TYPE"))

    @property
    def fs_uuid(self) -> str:
        return self.properties.get("ID_FS_UUID", "")

    @property
    def gone(self) -> bool:
        """The medium went away: removed, or a change event that lost its filesystem."""
        return self.action == "remove" or (self.action == "change" and not self.has_filesystem)


def _event(device: Any, action: str, received_at: datetime | None = None) -> BlockEvent | None:
    node = device.device_node
    if not node:
        return None
    props = {str(k): str(v) for k, v in device.properties.items()}
    try:
        seq = int(device.sequence_number)
    except (AttributeError, ValueError, TypeError):
        seq = 0
    return BlockEvent(action, node, props, seq, received_at)


def existing_devices(context: pyudev.Context | None = None) -> list[BlockEvent]:
    """Block devices already attached when the daemon starts (those with a filesystem)."""
    ctx = context or pyudev.Context()
    found = []
    for device in ctx.list_devices(subsystem="block"):
        ev = _event(device, "existing")
        if ev and ev.has_filesystem:
            found.append(ev)
    return found


class UdevWatcher:
    """A thread feeding BlockEvents from the udev netlink socket into a queue."""

    def __init__(self, out: queue.Queue[BlockEvent], context: pyudev.Context | None = None) -> None:
        self.out = out
        self.context = context or pyudev.Context()
        self.monitor = pyudev.Monitor.from_netlink(self.context, source="udev")
        self.monitor.filter_by("block")  # installs a BPF filter in the kernel socket
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udev", daemon=True)

    def start(self) -> None:
        self.monitor.start()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            device = self.monitor.poll(timeout=0.25)
            if device is None:
                continue
            ev = _event(device, device.action or "change", datetime.now(UTC))
            if ev is not None:
                self.out.put(ev)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
