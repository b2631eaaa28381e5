"""Checksums and file status: md5sum, sha1sum, sha256sum, sha512sum and
stat."""

import hashlib
import os
import stat as _stat
import time

from .errors import UsageError
from .registry import _os_error_text, _parse_opts, builtin, file_mode


def _digest(algorithm):
    def run(ctx, args):
        opts, files = _parse_opts(args, "bt", longs={"tag": "tag"})
        for name in files or ["-"]:
            if name in ("-", "/dev/stdin"):
                data = ctx.stdin.encode("utf-8", "surrogateescape")
            else:
                try:
                    if os.path.isdir(name):
                        raise IsADirectoryError(21, "Is a directory", name)
                    with open(name, "rb") as f:
                        data = f.read()
                except OSError as e:
                    ctx.error(f"{name}: {_os_error_text(e)}")
                    continue
            digest = hashlib.new(algorithm, data).hexdigest()
            if "tag" in opts:
                ctx.out(f"{algorithm.upper()} ({name}) = {digest}\n")
            else:
                ctx.out(f"{digest}  {name}\n")
    return run


for _algorithm in ("md5", "sha1", "sha256", "sha512"):
    builtin(f"{_algorithm}sum", usage=f"{_algorithm}sum [--tag] [file...]")(_digest(_algorithm))


def _when(seconds):
    frac = f"{seconds - int(seconds):.9f}"[1:]
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + frac + " +0000"


_FORMATS = {
    "n": lambda name, st: name,
    "s": lambda name, st: str(st.st_size),
    "a": lambda name, st: oct(_stat.S_IMODE(file_mode(st)))[2:],
    "A": lambda name, st: _stat.filemode(file_mode(st)),
    "F": lambda name, st: ("directory" if _stat.S_ISDIR(st.st_mode) else "symbolic link"
                          if _stat.S_ISLNK(st.st_mode) else "regular empty file" if st.st_size == 0
                          else "regular file"),
    "u": lambda name, st: str(getattr(st, "st_uid", 0)),
    "g": lambda name, st: str(getattr(st, "st_gid", 0)),
    "h": lambda name, st: str(getattr(st, "st_nlink", 1)),
    "i": lambda name, st: str(getattr(st, "st_ino", 0)),
    "Y": lambda name, st: str(int(st.st_mtime)),
    "y": lambda name, st: _when(st.st_mtime),
    "X": lambda name, st: str(int(st.st_atime)),
    "x": lambda name, st: _when(st.st_atime),
    "b": lambda name, st: str(getattr(st, "st_blocks", (st.st_size + 511) // 512)),
}


@builtin("stat", usage="stat [-c FORMAT] [-L] file...")
def _stat_cmd(ctx, args):
    opts, files = _parse_opts(args, "Lt", valued="c", longs={"format": "c", "printf": "c"})
    if not files:
        raise UsageError("missing operand")
    fmt = opts.get("c", [None])[-1]
    for name in files:
        try:
            st = os.stat(name) if "L" in opts else os.lstat(name)
        except OSError as e:
            ctx.error(f"cannot stat '{name}': {_os_error_text(e)}")
            continue
        if fmt is None:
            ctx.out(f"  File: {name}\n  Size: {st.st_size}\t{_FORMATS['F'](name, st)}\n"
                    f"Access: ({_FORMATS['a'](name, st).zfill(4)}/{_stat.filemode(file_mode(st))})\n"
                    f"Modify: {_when(st.st_mtime)}\n")
            continue
        out = []
        i = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "%" and i + 1 < len(fmt):
                key = fmt[i + 1]
                if key == "%":
                    out.append("%")
                elif key in _FORMATS:
                    out.append(_FORMATS[key](name, st))
                else:
                    out.append("?")
                i += 2
                continue
            if c == "\\" and i + 1 < len(fmt) and fmt[i + 1] in "nt":
                out.append("\n" if fmt[i + 1] == "n" else "\t")
                i += 2
                continue
            out.append(c)
            i += 1
        ctx.out("".join(out) + "\n")
