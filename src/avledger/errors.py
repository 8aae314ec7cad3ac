"""One exception hierarchy for the whole program.

Every error carries an exit code and an optional hint; the CLI edge turns it into a single
line (``avledger: error: <message> (hint: ...)``) and that exit code. Nothing below the CLI
prints or exits.
"""

from __future__ import annotations

import errno
from enum import IntEnum

from avledger.i18n import _, english


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

    @property
    def english(self) -> str:
        """The message in English: the form kept in the catalog or the ledger."""
        return str(english(self.message))

    def one_line(self) -> str:
        """Message and hint on one line, in the chosen language (for people)."""
        text = self.message.replace("\n", " ")
        return _("{message} (hint: {hint})").format(message=text, hint=self.hint) \
            if self.hint else text

    def stored_line(self) -> str:
        """Message and hint on one line in English (for what is written down)."""
        text = self.english.replace("\n", " ")
        return f"{text} (hint: {english(self.hint)})" if self.hint else text


def english_of(exc: BaseException) -> str:
    """What an exception says, in English: for results and records that keep it."""
    return exc.english if isinstance(exc, AvledgerError) else str(exc)


class ConfigError(AvledgerError):
    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[str], *, source: str | None = None,
                 hint: str | None = None) -> None:
        self.problems = problems
        if len(problems) == 1:
            msg = problems[0]
        else:
            msg = _("{count} problems: {problems}").format(
                count=len(problems), problems=_("; ").join(problems))
        if source:
            msg = _("{source}: {problem}").format(source=source, problem=msg)
        super().__init__(msg, hint=hint or _("run 'avledger config check' for the full list"))


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
        if exc.errno == errno.ENOSPC:
            message = _("{where} disk is full while {what}") if where else \
                _("disk is full while {what}")
            return cls(message.format(where=where, what=what),
                       hint=_("free space or move the store"))
        if exc.errno == errno.EDQUOT:
            message = _("{where} disk quota exceeded while {what}") if where else \
                _("disk quota exceeded while {what}")
            return cls(message.format(where=where, what=what))
        message = _("{where} I/O error while {what}: {error}") if where else \
            _("I/O error while {what}: {error}")
        return cls(message.format(where=where, what=what, error=exc.strerror or exc))


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
