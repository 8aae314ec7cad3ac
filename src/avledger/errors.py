"""One exception hierarchy for the whole program.

Every error carries an exit code and an optional hint; the CLI edge turns it into a single
line (``avledger: error: <message> (hint: ...)``) and that exit code. Nothing below the CLI
prints or exits.
"""

from __future__ import annotations

import errno
from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (see docs/admin.md, "Exit codes")."""

    OK = 0
    PROBLEMS = 1  # the command ran, but found or left problems (failed clips, bad objects)
    USAGE = 2  # bad command line (Typer/Click's own code)
    CONFIG = 3  # configuration or profile invalid
    NOT_FOUND = 4  # the thing named does not exist / nothing recognised
    REFUSED = 5  # not allowed: role, policy, state (device already out, self-approval)
    INTEGRITY = 6  # tampering or corruption detected
    STORAGE = 7  # disk full, I/O error, store unusable
    DEVICE = 8  # recorder unreadable, removed, mount failed
    BUSY = 9  # database stayed locked beyond the retry budget


class AvledgerError(Exception):
    """Base of every error avledger reports to a person."""

    exit_code: ExitCode = ExitCode.PROBLEMS

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.replace("\n", " ")
        return f"{text} (hint: {self.hint})" if self.hint else text


class ConfigError(AvledgerError):
    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[str], *, source: str | None = None,
                 hint: str = "run 'avledger config check' for the full list") -> None:
        self.problems = problems
        where = f"{source}: " if source else ""
        if len(problems) == 1:
            msg = f"{where}{problems[0]}"
        else:
            msg = f"{where}{len(problems)} problems: " + "; ".join(problems)
        super().__init__(msg, hint=hint)


class NotFoundError(AvledgerError):
    exit_code = ExitCode.NOT_FOUND


class RefusedError(AvledgerError):
    exit_code = ExitCode.REFUSED


class StoreRefusedError(RefusedError):
    """The object store itself refused (Object Lock retention or a legal hold)."""


class IntegrityError(AvledgerError):
    exit_code = ExitCode.INTEGRITY


class StorageError(AvledgerError):
    exit_code = ExitCode.STORAGE

    @classmethod
    def from_os(cls, exc: OSError, what: str, *, where: str = "") -> StorageError:
        """One wording for disk trouble everywhere: full disk, quota, other I/O errors.
        ``where`` names the disk ("store" gives "store disk is full while ...")."""
        prefix = f"{where} " if where else ""
        if exc.errno == errno.ENOSPC:
            return cls(f"{prefix}disk is full while {what}",
                       hint="free space or move the store")
        if exc.errno == errno.EDQUOT:
            return cls(f"{prefix}disk quota exceeded while {what}")
        return cls(f"{prefix}I/O error while {what}: {exc.strerror or exc}")


class DeviceError(AvledgerError):
    exit_code = ExitCode.DEVICE


class BusyError(AvledgerError):
    exit_code = ExitCode.BUSY


class ProblemsFound(AvledgerError):
    """The command completed but some items failed; the report was already shown."""

    exit_code = ExitCode.PROBLEMS


class InputError(AvledgerError):
    """A file or value given on the command line is malformed (says where and what)."""

    exit_code = ExitCode.USAGE
