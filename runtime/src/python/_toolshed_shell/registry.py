"""The builtin registry (BUILTINS, USAGE and the @builtin decorator) and
the helpers builtins share: GNU-style option parsing, numeric arguments,
reading files and standard input, line splitting, human-readable sizes and
backslash escapes."""

import math
import os
import re

from .errors import CommandError, UsageError, _os_error_text


BUILTINS = {}
USAGE = {}


def builtin(*names, usage=""):
    """Registers a function as the builtin(s) `names`."""
    def register(func):
        for name in names:
            BUILTINS[name] = func
            USAGE[name] = usage.replace(names[0], name, 1) if usage.startswith(names[0]) else usage
        return func
    return register


def _parse_opts(args, flags="", valued=(), longs=None, stop_at_operand=False):
    """GNU-style option parsing. `flags` are boolean short options, `valued`
    the options taking a value (short letters or long-only keys), `longs`
    maps long option names to keys. Options may follow operands unless
    stop_at_operand. Returns (opts, operands): opts maps a key to True or to
    the list of its values."""
    opts = {}
    operands = []
    longs = longs or {}
    valued = set(valued)
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands.extend(args[i + 1:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            key = longs.get(name)
            if key is None:
                raise UsageError(f"unrecognized option '{a}'")
            if key in valued:
                if not eq:
                    if i + 1 >= len(args):
                        raise UsageError(f"option '--{name}' requires an argument")
                    i += 1
                    val = args[i]
                opts.setdefault(key, []).append(val)
            else:
                opts[key] = True
        elif a.startswith("-") and a != "-":
            j = 1
            while j < len(a):
                ch = a[j]
                if ch in valued:
                    val = a[j + 1:]
                    if not val:
                        if i + 1 >= len(args):
                            raise UsageError(f"option requires an argument -- '{ch}'")
                        i += 1
                        val = args[i]
                    opts.setdefault(ch, []).append(val)
                    break
                if ch in flags:
                    opts[ch] = True
                    j += 1
                else:
                    raise UsageError(f"invalid option -- '{ch}'")
        else:
            operands.append(a)
            if stop_at_operand:
                operands.extend(args[i + 1:])
                break
        i += 1
    return opts, operands


def _last(opts, key, default=None):
    values = opts.get(key)
    return values[-1] if values else default


def _int_arg(text, what):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise CommandError(f"invalid {what}: '{text}'")


def file_mode(st):
    """st_mode with permission bits: WASI reports none, so a file there
    shows as rw-r--r-- and a directory as rwxr-xr-x (what the sandbox
    allows: read and write, no execution of files)."""
    import stat as _stat
    mode = st.st_mode
    if _stat.S_IMODE(mode) == 0:
        mode |= 0o755 if _stat.S_ISDIR(mode) else 0o644
    return mode


# Process substitutions' outputs by their /dev/fd/N names, for the run
# that made them.
VIRTUAL_FILES = {}


def _read_text(path):
    if path == "/dev/null":
        return ""
    if path in VIRTUAL_FILES:
        return VIRTUAL_FILES[path]
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        return fh.read()


def _inputs(ctx, files):
    """Yields (name, text) for each file operand ('-' is stdin), or stdin
    alone when there are none; unreadable files are reported and skipped."""
    for name in files or ["-"]:
        if name in ("-", "/dev/stdin"):
            yield "-", ctx.stdin
            continue
        try:
            text = _read_text(name)
        except OSError as e:
            ctx.error(f"{name}: {_os_error_text(e)}")
            continue
        yield name, text


def _split_lines(text):
    """Lines with their newline kept; the last one may lack it."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _human(n):
    """A size the way GNU -h prints it: 512, 4.0K, 12K, 1.5M."""
    if n < 1024:
        return str(int(n))
    value = float(n)
    for unit in "KMGTPE":
        value /= 1024.0
        if value < 1024 or unit == "E":
            if value < 10:
                rounded = math.ceil(value * 10) / 10
                if rounded < 10:
                    return f"{rounded:.1f}{unit}"
            return f"{int(math.ceil(value))}{unit}"
    return str(n)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
                   "v": "\v", "\\": "\\", "e": "\x1b", "E": "\x1b"}


def _unescape(s, echo=False):
    """Backslash escapes of echo -e / printf. Returns (text, stopped) where
    stopped means a \\c ended the output."""
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        d = s[i + 1]
        if d in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[d])
            i += 2
        elif d == "c":
            return "".join(out), True
        elif d == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:i + 4])
            if m:
                out.append(chr(int(m.group(), 16)))
                i += 2 + len(m.group())
            else:
                out.append("\\x")
                i += 2
        elif d in "01234567" and (not echo or d == "0"):
            start = i + 2 if echo else i + 1
            m = re.match(r"[0-7]{1,3}" if not echo else r"[0-7]{0,3}", s[start:start + 3])
            out.append(chr(int(m.group() or "0", 8)))
            i = start + len(m.group())
        elif d in "\"'" and not echo:
            out.append(d)
            i += 2
        else:
            out.append("\\" + d)
            i += 2
    return "".join(out), False
