"""The shell's exceptions, and helpers that build or describe errors."""


class ShellSyntaxError(Exception):
    """The command text cannot be run: nothing of it runs."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


class CommandError(Exception):
    """Raised by a builtin; reported on stderr as "name: message"."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


class FatalExpansion(CommandError):
    """An expansion that cannot be done (${x:?}, a bad arithmetic
    expression in $((...))): like bash, a non-interactive shell stops
    with its code."""


class UsageError(CommandError):
    """A bad flag or a missing operand: exit code 2 and the usage line."""

    def __init__(self, message):
        super().__init__(message, 2)


class ExitShell(Exception):
    """`exit N`: stop the whole command line with status N."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _unsupported(what):
    return ShellSyntaxError(f"sh: {what}: not supported in this sandbox shell", 2)


def _os_error_text(exc):
    """The strerror text coreutils would print for an OSError."""
    if isinstance(exc, FileNotFoundError):
        return "No such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "Is a directory"
    if isinstance(exc, NotADirectoryError):
        return "Not a directory"
    if isinstance(exc, FileExistsError):
        return "File exists"
    if isinstance(exc, PermissionError):
        return "Permission denied"
    return getattr(exc, "strerror", None) or str(exc)
