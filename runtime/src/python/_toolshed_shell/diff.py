"""diff: the normal format and -u (unified, -U N context), -q, -i, -w
and -b, between two files (or a file and -). The line alignment is
difflib's longest matching blocks; on the small files agents compare it
is the same as GNU diff's."""

import difflib
import os
import re
import time

from .errors import UsageError
from .registry import _int_arg, _last, _os_error_text, _parse_opts, _read_text, _split_lines, builtin


def _stamp(name):
    try:
        seconds = os.stat(name).st_mtime
    except OSError:
        seconds = time.time()
    frac = f"{seconds - int(seconds):.9f}"[1:]
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + frac + " +0000"


def _range(lo, hi):
    """GNU's line range of lines lo+1..hi ('N' or 'N,M')."""
    return str(lo + 1) if hi - lo == 1 else f"{lo + 1},{hi}"


def _emit(ctx, prefix, line):
    ctx.out(prefix + line)
    if not line.endswith("\n"):
        ctx.out("\n\\ No newline at end of file\n")


@builtin("diff", usage="diff [-u] [-U N] [-q] [-i] [-w] [-b] FILE1 FILE2")
def _diff(ctx, args):
    opts, files = _parse_opts(args, "uqiwbN", valued="U", longs={"unified": "u", "brief": "q"})
    if len(files) != 2:
        raise UsageError("missing operand after '" + (files[0] if files else "diff") + "'"
                         if len(files) < 2 else f"extra operand '{files[2]}'")
    texts = []
    for name in files:
        try:
            texts.append(ctx.stdin if name == "-" else _read_text(name))
        except OSError as e:
            ctx.err(f"diff: {name}: {_os_error_text(e)}\n")
            return 2
    a, b = _split_lines(texts[0]), _split_lines(texts[1])

    def norm(line):
        line = line.rstrip("\n")
        if "i" in opts:
            line = line.lower()
        if "w" in opts:
            line = re.sub(r"\s+", "", line)
        elif "b" in opts:
            line = re.sub(r"[ \t]+", " ", line).rstrip()
        return line

    matcher = difflib.SequenceMatcher(None, [norm(x) for x in a], [norm(x) for x in b], autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not ops:
        return 0
    if "q" in opts:
        ctx.out(f"Files {files[0]} and {files[1]} differ\n")
        return 1
    if "u" in opts or "U" in opts:
        context = _int_arg(_last(opts, "U", "3"), "context length")
        ctx.out(f"--- {files[0]}\t{_stamp(files[0])}\n+++ {files[1]}\t{_stamp(files[1])}\n")
        for group in matcher.get_grouped_opcodes(context):
            i1, i2 = group[0][1], group[-1][2]
            j1, j2 = group[0][3], group[-1][4]

            def hunk_range(lo, hi):
                count = hi - lo
                start = lo + 1 if count else lo
                return f"{start}" if count == 1 else f"{start},{count}"

            ctx.out(f"@@ -{hunk_range(i1, i2)} +{hunk_range(j1, j2)} @@\n")
            for tag, x1, x2, y1, y2 in group:
                if tag == "equal":
                    for line in a[x1:x2]:
                        _emit(ctx, " ", line)
                    continue
                for line in a[x1:x2]:
                    _emit(ctx, "-", line)
                for line in b[y1:y2]:
                    _emit(ctx, "+", line)
        return 1
    for tag, i1, i2, j1, j2 in ops:
        if tag == "replace":
            ctx.out(f"{_range(i1, i2)}c{_range(j1, j2)}\n")
        elif tag == "delete":
            ctx.out(f"{_range(i1, i2)}d{j1}\n")
        else:
            ctx.out(f"{i1}a{_range(j1, j2)}\n")
        for line in a[i1:i2]:
            _emit(ctx, "< ", line)
        if tag == "replace":
            ctx.out("---\n")
        for line in b[j1:j2]:
            _emit(ctx, "> ", line)
    return 1
