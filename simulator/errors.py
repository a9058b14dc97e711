"""Errors of the simulated hardware and its lab, each with a one-line message template.

Every error the `g7sim` command can print is one of these: the CLI prints ``g7sim: <message>`` and exits
non-zero, and the operation that raised it has changed nothing.
"""

from __future__ import annotations

from typing import Any


class SimError(Exception):
    """Base of every error raised by the simulator."""

    message = "simulator error"
    exit_code = 1

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        super().__init__(self.message % kwargs)


class UnknownConfig(SimError):
    message = "unknown server configuration %(key)r (known: %(known)s)"


class BadSize(SimError):
    message = "bad drive size %(text)r: %(reason)s"


class BadCacheSize(SimError):
    message = "bad cache module size %(text)r: a P410i takes 512 or 1024 (MB), or none (Zero Memory)"


class HostFileTooLarge(SimError):
    """The lab's filesystem (or the file size limit) cannot hold a drive or volume file of that size.

    Short: ORCA shows it on its one red line, followed by " Nothing was created."
    """

    message = "%(what)s: too large for the lab's filesystem"


class BadName(SimError):
    message = "bad server name %(name)r: use letters, digits, '.', '_' or '-' (at most 64)"


class ServerExists(SimError):
    message = "server %(name)r already exists in lab %(lab)s"


class ServerNotFound(SimError):
    message = "no server %(name)r in lab %(lab)s"


class CorruptState(SimError):
    message = "server %(name)r: state file %(path)s is corrupt (%(reason)s); nothing was changed"


class BayOutOfRange(SimError):
    message = "bay %(bay)s is out of range: a %(model)s has bays 1-%(bays)d"


class BayEmpty(SimError):
    message = "bay %(bay)d is empty"


class BayOccupied(SimError):
    message = "bay %(bay)d already holds a drive; use drive-replace or drive-remove first"


class NoController(SimError):
    message = "a %(model)s has no Smart Array controller"


class NoCacheModule(SimError):
    message = "a %(model)s has no Smart Array controller, so no cache module: leave out --cache"


class ArrayError(SimError):
    """A logical-drive operation the controller refuses (the text is what ORCA/ssacli would say)."""

    message = "%(reason)s"


class VolumeUnavailable(SimError):
    message = "logical drive %(number)d is %(status)s: its data cannot be read"


class BadArgument(SimError):
    """A command's argument that its parser could not judge (a bay number, an offset, a missing --text)."""

    message = "%(reason)s"


class FaultNotOnBackend(SimError):
    """A fault set on the server that this boot backend cannot make the machine show (io-error on a remote
    libvirt host). Refused rather than booted without it: a guest that restores fine under a "disk writes
    fail" fault would be a lie."""

    message = (
        "server %(name)r has fault %(fault)s set, which the %(backend)s backend cannot apply (%(why)s): "
        "clear it (g7sim fault %(name)s %(clear)s) or power on with --backend process"
    )
