"""Line and column builtins: tac, rev, nl, fold, split, paste, column,
join and comm. They follow GNU coreutils for the flags they take."""

import os

from .errors import CommandError, UsageError
from .registry import _inputs, _int_arg, _last, _parse_opts, _read_text, _split_lines, builtin


def _lines_of(text):
    """Lines without their newlines."""
    return text.split("\n")[:-1] if text.endswith("\n") else (text.split("\n") if text else [])


def _operand_text(ctx, name):
    return ctx.stdin if name in ("-", "/dev/stdin") else _read_text(name)


@builtin("tac", usage="tac [file...]")
def _tac(ctx, args):
    _, files = _parse_opts(args)
    for _name, text in _inputs(ctx, files):
        lines = _split_lines(text)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
            ctx.out("".join(reversed(lines))[:-1])
        else:
            ctx.out("".join(reversed(lines)))


@builtin("rev", usage="rev [file...]")
def _rev(ctx, args):
    _, files = _parse_opts(args)
    for _name, text in _inputs(ctx, files):
        for line in _split_lines(text):
            body = line[:-1] if line.endswith("\n") else line
            ctx.out(body[::-1] + ("\n" if line.endswith("\n") else ""))


@builtin("nl", usage="nl [-b a|t] [-w N] [-s SEP] [-v START] [file...]")
def _nl(ctx, args):
    opts, files = _parse_opts(args, valued="bwsvi")
    style = _last(opts, "b", "t")
    width = _int_arg(_last(opts, "w", "6"), "line number field width")
    sep = _last(opts, "s", "\t")
    number = _int_arg(_last(opts, "v", "1"), "starting line number")
    step = _int_arg(_last(opts, "i", "1"), "line number increment")
    if style not in ("a", "t", "n"):
        raise UsageError(f"invalid body numbering style: '{style}'")
    for _name, text in _inputs(ctx, files):
        for line in _split_lines(text):
            body = line[:-1] if line.endswith("\n") else line
            if style == "a" or (style == "t" and body.strip()):
                ctx.out(f"{number:>{width}}{sep}{line}")
                number += step
            else:
                # GNU nl pads an unnumbered line by the number's width
                # and the separator's.
                ctx.out(" " * (width + len(sep)) + line)


@builtin("fold", usage="fold [-w N] [-s] [-b] [file...]")
def _fold(ctx, args):
    opts, files = _parse_opts(args, "sb", valued="w")
    width = _int_arg(_last(opts, "w", "80"), "line width")
    if width < 1:
        raise UsageError("invalid number of columns")
    for _name, text in _inputs(ctx, files):
        for line in _split_lines(text):
            nl = line.endswith("\n")
            body = line[:-1] if nl else line
            while len(body) > width:
                cut = width
                if "s" in opts:
                    space = body.rfind(" ", 0, width)
                    if space >= 0:
                        cut = space + 1
                ctx.out(body[:cut] + "\n")
                body = body[cut:]
            ctx.out(body + ("\n" if nl else ""))


@builtin("split", usage="split [-l N] [-b N] [-d] [-a N] [file [prefix]]")
def _split(ctx, args):
    opts, operands = _parse_opts(args, "d", valued="lba")
    if len(operands) > 2:
        raise UsageError(f"extra operand '{operands[2]}'")
    name = operands[0] if operands else "-"
    prefix = operands[1] if len(operands) > 1 else "x"
    text = _operand_text(ctx, name)
    width = _int_arg(_last(opts, "a", "2"), "suffix length")
    if "b" in opts:
        size = _int_arg(_last(opts, "b"), "bytes")
        chunks = [text[i:i + size] for i in range(0, len(text), size)]
    else:
        count = _int_arg(_last(opts, "l", "1000"), "lines")
        if count < 1:
            raise UsageError("invalid number of lines: 0")
        lines = _split_lines(text)
        chunks = ["".join(lines[i:i + count]) for i in range(0, len(lines), count)]
    for k, chunk in enumerate(chunks):
        if "d" in opts:
            suffix = str(k).zfill(width)
        else:
            suffix, n = "", k
            for _ in range(width):
                suffix = chr(ord("a") + n % 26) + suffix
                n //= 26
        with open(prefix + suffix, "w", encoding="utf-8", newline="") as f:
            f.write(chunk)


@builtin("paste", usage="paste [-s] [-d LIST] [file...]")
def _paste(ctx, args):
    opts, files = _parse_opts(args, "s", valued="d")
    delims = _last(opts, "d", "\t")
    delims = delims.replace("\\t", "\t").replace("\\n", "\n").replace("\\0", "") or ""
    files = files or ["-"]
    columns = [_lines_of(_operand_text(ctx, name)) for name in files]

    def join(values):
        if not delims:
            return "".join(values)
        out = values[0] if values else ""
        for k, value in enumerate(values[1:]):
            out += delims[k % len(delims)] + value
        return out

    if "s" in opts:
        for lines in columns:
            ctx.out(join(lines) + "\n")
        return 0
    for row in range(max((len(c) for c in columns), default=0)):
        ctx.out(join([c[row] if row < len(c) else "" for c in columns]) + "\n")
    return 0


@builtin("column", usage="column [-t] [-s SEP] [-o SEP] [file...]")
def _column(ctx, args):
    opts, files = _parse_opts(args, "tn", valued="so")
    text = "".join(t for _n, t in _inputs(ctx, files))
    lines = _lines_of(text)
    if "t" not in opts:
        for line in lines:
            ctx.out(line + "\n")
        return 0
    seps = _last(opts, "s", None)
    out_sep = _last(opts, "o", "  ")
    rows = []
    for line in lines:
        if not line.strip():
            continue
        if seps is None:
            rows.append(line.split())
        else:
            fields = [line]
            for sep in seps:
                fields = [piece for f in fields for piece in f.split(sep)]
            rows.append(fields)
    widths = {}
    for row in rows:
        for k, cell in enumerate(row):
            widths[k] = max(widths.get(k, 0), len(cell))
    for row in rows:
        cells = [cell.ljust(widths[k]) if k < len(row) - 1 else cell for k, cell in enumerate(row)]
        ctx.out(out_sep.join(cells).rstrip() + "\n" if out_sep.strip() == "" else out_sep.join(cells) + "\n")
    return 0


@builtin("join", usage="join [-t CHAR] [-1 FIELD] [-2 FIELD] [-a 1|2] [-v 1|2] FILE1 FILE2")
def _join(ctx, args):
    opts, files = _parse_opts(args, valued="t12av")
    if len(files) != 2:
        raise UsageError("missing operand" if len(files) < 2 else f"extra operand '{files[2]}'")
    sep = _last(opts, "t", None)
    f1 = _int_arg(_last(opts, "1", "1"), "field") - 1
    f2 = _int_arg(_last(opts, "2", "1"), "field") - 1
    unpaired = set(opts.get("a", [])) | set(opts.get("v", []))
    only_unpaired = "v" in opts

    def rows(name):
        out = []
        for line in _lines_of(_operand_text(ctx, name)):
            fields = line.split(sep) if sep is not None else line.split()
            out.append(fields)
        return out

    left, right = rows(files[0]), rows(files[1])
    out_sep = sep if sep is not None else " "

    def key(fields, k):
        return fields[k] if k < len(fields) else ""

    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (i < len(left) and key(left[i], f1) < key(right[j], f2)):
            if "1" in unpaired:
                ctx.out(out_sep.join(left[i]) + "\n")
            i += 1
            continue
        if i >= len(left) or key(left[i], f1) > key(right[j], f2):
            if "2" in unpaired:
                ctx.out(out_sep.join(right[j]) + "\n")
            j += 1
            continue
        k = key(left[i], f1)
        j_end = j
        while j_end < len(right) and key(right[j_end], f2) == k:
            j_end += 1
        while i < len(left) and key(left[i], f1) == k:
            if not only_unpaired:
                for r in right[j:j_end]:
                    rest_l = [x for n, x in enumerate(left[i]) if n != f1]
                    rest_r = [x for n, x in enumerate(r) if n != f2]
                    ctx.out(out_sep.join([k] + rest_l + rest_r) + "\n")
            i += 1
        j = j_end
    return 0


@builtin("comm", usage="comm [-1] [-2] [-3] FILE1 FILE2")
def _comm(ctx, args):
    opts, files = _parse_opts(args, "123")
    if len(files) != 2:
        raise UsageError("missing operand" if len(files) < 2 else f"extra operand '{files[2]}'")
    a = _lines_of(_operand_text(ctx, files[0]))
    b = _lines_of(_operand_text(ctx, files[1]))
    shown = [c not in opts for c in "123"]

    def emit(column, line):
        if not shown[column]:
            return
        ctx.out("\t" * sum(shown[:column]) + line + "\n")

    unsorted = [k + 1 for k, lines in enumerate((a, b))
                if any(lines[n] > lines[n + 1] for n in range(len(lines) - 1))]
    for k in unsorted:
        ctx.err(f"comm: file {k} is not in sorted order\n")
    i = j = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i] < b[j]):
            emit(0, a[i])
            i += 1
        elif i >= len(a) or a[i] > b[j]:
            emit(1, b[j])
            j += 1
        else:
            emit(2, a[i])
            i += 1
            j += 1
    if unsorted:
        ctx.err("comm: input is not in sorted order\n")
        return 1
    return 0
