"""Builtins for text: grep, sort, uniq, cut, tr, echo, printf, seq."""

import fnmatch
import itertools
import os
import re

from .errors import CommandError, UsageError, _os_error_text
from .posix_regex import _CLASS_CHARS, _posix_regex
from .registry import (_SIMPLE_ESCAPES, _inputs, _int_arg, _last, _parse_opts, _read_text,
                       _split_lines, _unescape, builtin)


_GREP_LONGS = {
    "ignore-case": "i", "invert-match": "v", "line-number": "n", "count": "c",
    "recursive": "r", "dereference-recursive": "R", "files-with-matches": "l",
    "files-without-match": "L", "only-matching": "o", "quiet": "q", "silent": "q",
    "word-regexp": "w", "line-regexp": "x", "extended-regexp": "E", "fixed-strings": "F",
    "perl-regexp": "P", "basic-regexp": "G", "with-filename": "H", "no-filename": "h",
    "no-messages": "s", "regexp": "e", "max-count": "m", "after-context": "A",
    "before-context": "B", "context": "C", "include": "include", "exclude": "exclude",
    "exclude-dir": "exclude-dir",
}


@builtin("grep", usage="grep [-i] [-v] [-n] [-c] [-r] [-l] [-L] [-o] [-w] [-x] [-q] [-E] [-F] "
                       "[-H] [-h] [-e PATTERN] [-m N] [-A N] [-B N] [-C N] [--include GLOB] "
                       "PATTERN [file...]")
def _grep(ctx, args):
    opts, operands = _parse_opts(
        args, "ivncrRlLoqwxEFPGHhs",
        list("eABCm") + ["include", "exclude", "exclude-dir"], _GREP_LONGS)
    if "e" in opts:
        patterns = opts["e"]
    elif operands:
        patterns = [operands.pop(0)]
    else:
        raise UsageError("no pattern given")
    converted = []
    for pattern in "\n".join(patterns).split("\n"):
        if opts.get("F"):
            converted.append(re.escape(pattern))
        elif opts.get("P"):
            converted.append(pattern)
        else:
            converted.append(_posix_regex(pattern, bool(opts.get("E"))))
    rx = "|".join(f"(?:{c})" for c in converted)
    if opts.get("w"):
        rx = f"(?<![A-Za-z0-9_])(?:{rx})(?![A-Za-z0-9_])"
    if opts.get("x"):
        rx = f"^(?:{rx})$"
    try:
        regex = re.compile(rx, re.I if opts.get("i") else 0)
    except re.error as e:
        raise CommandError(f"invalid regular expression: {e}", 2)
    invert = bool(opts.get("v"))
    recursive = opts.get("r") or opts.get("R")
    includes = opts.get("include", [])
    excludes = opts.get("exclude", [])
    exclude_dirs = opts.get("exclude-dir", [])
    max_count = _int_arg(_last(opts, "m"), "max count") if "m" in opts else None
    context = _int_arg(_last(opts, "C", "0"), "context length argument")
    after = _int_arg(_last(opts, "A"), "context length argument") if "A" in opts else context
    before = _int_arg(_last(opts, "B"), "context length argument") if "B" in opts else context

    def wanted(path):
        base = os.path.basename(path)
        if includes and not any(fnmatch.fnmatch(base, g) for g in includes):
            return False
        return not any(fnmatch.fnmatch(base, g) for g in excludes)

    implicit = not operands and recursive
    targets = []
    errors = False
    saw_dir = False
    for op in operands or (["."] if recursive else ["-"]):
        if op == "-":
            targets.append(("(standard input)", "-"))
        elif os.path.isdir(op):
            if not recursive:
                if not opts.get("s"):
                    ctx.err(f"grep: {op}: Is a directory\n")
                errors = True
                continue
            saw_dir = True
            for root, dirs, names in os.walk(op):
                dirs[:] = sorted(d for d in dirs
                                 if not any(fnmatch.fnmatch(d, g) for g in exclude_dirs))
                for name in sorted(names):
                    path = os.path.join(root, name)
                    if wanted(path):
                        shown = path[2:] if implicit and path.startswith("./") else path
                        targets.append((shown, path))
        elif wanted(op) or not os.path.exists(op):
            targets.append((op, op))
    with_name = opts.get("H") or (not opts.get("h") and (len(targets) > 1 or saw_dir))
    selected_any = False
    printed_group = False
    for shown, path in targets:
        if path == "-":
            text = ctx.stdin
        else:
            try:
                text = _read_text(path)
            except OSError as e:
                if not opts.get("s"):
                    ctx.err(f"grep: {shown}: {_os_error_text(e)}\n")
                errors = True
                continue
        lines = text.split("\n")
        if text.endswith("\n") or not text:
            lines.pop()
        selected = []
        for k, line in enumerate(lines):
            if bool(regex.search(line)) != invert:
                selected.append(k)
                if max_count is not None and len(selected) >= max_count:
                    break
        if selected:
            selected_any = True
        if opts.get("q"):
            if selected_any:
                return 0
            continue
        if opts.get("l"):
            if selected:
                ctx.out(shown + "\n")
            continue
        if opts.get("L"):
            if not selected:
                ctx.out(shown + "\n")
            continue
        if opts.get("c"):
            ctx.out((f"{shown}:" if with_name else "") + f"{len(selected)}\n")
            continue

        def prefix(k, sep):
            return (shown + sep if with_name else "") + (f"{k + 1}{sep}" if opts.get("n") else "")

        if opts.get("o"):
            for k in selected if not invert else []:
                for m in regex.finditer(lines[k]):
                    if m.group():
                        ctx.out(prefix(k, ":") + m.group() + "\n")
            continue
        if not (after or before):
            for k in selected:
                ctx.out(prefix(k, ":") + lines[k] + "\n")
            continue
        chosen = set(selected)
        show = set()
        for k in selected:
            show.update(range(max(k - before, 0), min(k + after, len(lines) - 1) + 1))
        previous = None
        for k in sorted(show):
            if (previous is None and printed_group) or (previous is not None and k != previous + 1):
                ctx.out("--\n")
            ctx.out(prefix(k, ":" if k in chosen else "-") + lines[k] + "\n")
            previous = k
        if show:
            printed_group = True
    if errors and not (opts.get("q") and selected_any):
        return 2
    return 0 if selected_any else 1


_NUMERIC_RE = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")
_HUMAN_RE = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]?)", re.I)


def _numeric_key(text):
    m = _NUMERIC_RE.match(text)
    return float(m.group(1)) if m else 0.0


def _human_key(text):
    m = _HUMAN_RE.match(text)
    if not m:
        return 0.0
    power = "KMGTPE".find(m.group(2).upper()) + 1 if m.group(2) else 0
    return float(m.group(1)) * (1024 ** power)


@builtin("sort", usage="sort [-r] [-n] [-h] [-u] [-f] [-k N[,M]] [-t SEP] [-o FILE] [file...]")
def _sort(ctx, args):
    opts, files = _parse_opts(args, "rnhufbs", "kto", longs={
        "reverse": "r", "numeric-sort": "n", "human-numeric-sort": "h", "unique": "u",
        "ignore-case": "f", "key": "k", "field-separator": "t", "output": "o", "stable": "s"})
    sep = _last(opts, "t")
    if sep is not None and len(sep) != 1:
        raise CommandError("multi-character tab '%s'" % sep, 2)
    global_mods = {k for k in "nhfbr" if opts.get(k)}
    keys = []
    for spec in opts.get("k", []):
        m = re.fullmatch(r"(\d+)(?:\.\d+)?([bdfghinrV]*)(?:,(\d+)(?:\.\d+)?([bdfghinrV]*))?", spec)
        if not m or int(m.group(1)) == 0:
            raise CommandError(f"invalid key specification '{spec}'", 2)
        mods = set(m.group(2) + (m.group(4) or ""))
        keys.append((int(m.group(1)), int(m.group(3)) if m.group(3) else None, mods))
    reverse = "r" in global_mods or any("r" in k[2] for k in keys)

    def convert(text, mods):
        if "b" in mods:
            text = text.lstrip()
        if "n" in mods:
            return _numeric_key(text)
        if "h" in mods:
            return _human_key(text)
        if "f" in mods:
            return text.upper()
        return text

    def line_key(line):
        if not keys:
            return (convert(line, global_mods),)
        fields = line.split(sep) if sep is not None else line.split()
        out = []
        for start, end, mods in keys:
            chosen = fields[start - 1:end]
            out.append(convert((sep if sep is not None else " ").join(chosen),
                               (mods - {"r"}) or global_mods))
        return tuple(out)

    text = "".join(t for _, t in _inputs(ctx, files))
    lines = [ln[:-1] if ln.endswith("\n") else ln for ln in _split_lines(text)]
    decorated = [(line_key(ln), ln) for ln in lines]
    if opts.get("s"):
        decorated.sort(key=lambda d: d[0], reverse=reverse)
    else:
        decorated.sort(reverse=reverse)
    if opts.get("u"):
        unique = []
        for key, ln in decorated:
            if not unique or unique[-1][0] != key:
                unique.append((key, ln))
        decorated = unique
    result = "".join(ln + "\n" for _, ln in decorated)
    if "o" in opts:
        with open(_last(opts, "o"), "w", encoding="utf-8", newline="") as fh:
            fh.write(result)
    else:
        ctx.out(result)
    return 1 if ctx.failed else 0


@builtin("uniq", usage="uniq [-c] [-d] [-u] [-i] [file]")
def _uniq(ctx, args):
    opts, files = _parse_opts(args, "cdui", longs={"count": "c", "repeated": "d", "unique": "u",
                                                   "ignore-case": "i"})
    if len(files) > 1:
        raise UsageError(f"extra operand '{files[1]}'")
    text = "".join(t for _, t in _inputs(ctx, files))
    lines = [ln[:-1] if ln.endswith("\n") else ln for ln in _split_lines(text)]
    fold = (lambda s: s.lower()) if opts.get("i") else (lambda s: s)
    for _, group in itertools.groupby(lines, key=fold):
        group = list(group)
        if opts.get("d") and len(group) < 2 or opts.get("u") and len(group) > 1:
            continue
        ctx.out((f"{len(group):7d} " if opts.get("c") else "") + group[0] + "\n")
    return 1 if ctx.failed else 0


def _parse_ranges(spec):
    ranges = []
    for item in spec.split(","):
        m = re.fullmatch(r"(\d*)-(\d*)|(\d+)", item.strip())
        if not m or item.strip() == "-":
            raise CommandError(f"invalid field range '{item}'")
        if m.group(3):
            lo = hi = int(m.group(3))
        else:
            lo = int(m.group(1)) if m.group(1) else 1
            hi = int(m.group(2)) if m.group(2) else None
        if lo == 0 or hi == 0:
            raise CommandError("fields and positions are numbered from 1")
        ranges.append((lo, hi))
    return lambda k: any(lo <= k and (hi is None or k <= hi) for lo, hi in ranges)


@builtin("cut", usage="cut -d SEP -f LIST [-s] [file...] | cut -c LIST [file...]")
def _cut(ctx, args):
    opts, files = _parse_opts(args, "sn", ["d", "f", "c", "b", "output-delimiter"], longs={
        "delimiter": "d", "fields": "f", "characters": "c", "bytes": "b",
        "only-delimited": "s", "output-delimiter": "output-delimiter"})
    modes = [m for m in "fcb" if m in opts]
    if len(modes) != 1:
        raise UsageError("you must specify one list of bytes, characters, or fields")
    mode = modes[0]
    selected = _parse_ranges(_last(opts, mode))
    delim = _last(opts, "d", "\t")
    if len(delim) != 1:
        raise CommandError("the delimiter must be a single character")
    out_delim = _last(opts, "output-delimiter", delim)
    for _, text in _inputs(ctx, files):
        for line in _split_lines(text):
            body = line[:-1] if line.endswith("\n") else line
            if mode == "f":
                if delim not in body:
                    if not opts.get("s"):
                        ctx.out(body + "\n")
                    continue
                parts = body.split(delim)
                ctx.out(out_delim.join(p for k, p in enumerate(parts, 1) if selected(k)) + "\n")
            else:
                ctx.out("".join(ch for k, ch in enumerate(body, 1) if selected(k)) + "\n")
    return 1 if ctx.failed else 0


def _tr_char(s, i):
    """One possibly escaped character of a tr set: (char, next index)."""
    if s[i] == "\\" and i + 1 < len(s):
        d = s[i + 1]
        m = re.match(r"[0-7]{1,3}", s[i + 1:i + 4])
        if m:
            return chr(int(m.group(), 8)), i + 1 + len(m.group())
        return _SIMPLE_ESCAPES.get(d, d), i + 2
    return s[i], i + 1


def _tr_set(s):
    chars = []
    i = 0
    n = len(s)
    while i < n:
        if s.startswith("[:", i):
            k = s.find(":]", i + 2)
            if k >= 0 and s[i + 2:k] in _CLASS_CHARS:
                chars.extend(_CLASS_CHARS[s[i + 2:k]])
                i = k + 2
                continue
        c, i = _tr_char(s, i)
        if i + 1 < n and s[i] == "-":
            hi, j = _tr_char(s, i + 1)
            if ord(hi) < ord(c):
                raise CommandError(f"range-endpoints of '{c}-{hi}' are in reverse collating sequence order")
            chars.extend(chr(x) for x in range(ord(c), ord(hi) + 1))
            i = j
            continue
        chars.append(c)
    return chars


@builtin("tr", usage="tr [-d] [-s] [-c] SET1 [SET2]")
def _tr(ctx, args):
    opts, sets = _parse_opts(args, "dscC", longs={"delete": "d", "squeeze-repeats": "s",
                                                  "complement": "c"})
    delete, squeeze = opts.get("d"), opts.get("s")
    complement = opts.get("c") or opts.get("C")
    need = 2 if (delete and squeeze) or not (delete or squeeze) else 1
    if len(sets) < need:
        raise CommandError("missing operand" if not sets else f"missing operand after '{sets[-1]}'")
    if len(sets) > 2 or (delete and not squeeze and len(sets) > 1):
        raise CommandError(f"extra operand '{sets[-1]}'")
    set1 = _tr_set(sets[0])
    members = set(set1)

    def in1(ch):
        return (ch not in members) if complement else (ch in members)

    text = ctx.stdin
    squeeze_set = members
    if delete:
        text = "".join(ch for ch in text if not in1(ch))
        if squeeze:
            squeeze_set = set(_tr_set(sets[1]))
    elif len(sets) == 2:
        set2 = _tr_set(sets[1])
        if not set2:
            raise CommandError("when not truncating set1, string2 must be non-empty")
        if complement:
            text = "".join(set2[-1] if in1(ch) else ch for ch in text)
        else:
            set2 = set2 + [set2[-1]] * (len(set1) - len(set2))
            table = dict(zip(set1, set2))
            text = "".join(table.get(ch, ch) for ch in text)
        squeeze_set = set(set2)
    if squeeze:
        if delete or len(sets) == 2:
            squeezable = squeeze_set.__contains__
        else:
            squeezable = in1
        out = []
        for ch in text:
            if out and ch == out[-1] and squeezable(ch):
                continue
            out.append(ch)
        text = "".join(out)
    ctx.out(text)
    return 0


@builtin("echo", usage="echo [-n] [-e] [-E] [text...]")
def _echo(ctx, args):
    newline = True
    escapes = False
    i = 0
    while i < len(args) and re.fullmatch(r"-[neE]+", args[i]):
        for ch in args[i][1:]:
            if ch == "n":
                newline = False
            else:
                escapes = ch == "e"
        i += 1
    text = " ".join(args[i:])
    if escapes:
        text, stopped = _unescape(text, echo=True)
        if stopped:
            newline = False
    ctx.out(text + ("\n" if newline else ""))
    return 0


_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([diouxXfFeEgGcsbq%])")


def _shell_quote(text):
    """printf %q: the text quoted so the shell reads it back unchanged, as
    bash writes it (backslashes, $'...' for control characters)."""
    if text == "":
        return "''"
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        escapes = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'"}
        return "$'" + "".join(escapes.get(c, c if ord(c) >= 32 and c != "\x7f" else f"\\{ord(c):03o}")
                              for c in text) + "'"
    return "".join(c if c.isalnum() or c in "_./,:@%+=-" or ord(c) > 127 else "\\" + c for c in text)


def _printf_number(ctx, arg, integer):
    text = arg.strip()
    try:
        if integer:
            if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", text):
                return int(text, 16)
            if re.fullmatch(r"[-+]?0[0-7]+", text):
                return int(text, 8)
            if text[:1] in ("'", '"') and len(text) > 1:
                return ord(text[1])
            return int(text or "0")
        return float(text or "0")
    except ValueError:
        ctx.error(f"'{arg}': invalid number")
        m = _NUMERIC_RE.match(text)
        value = float(m.group(1)) if m else 0
        return int(value) if integer else value


@builtin("printf", usage="printf [-v NAME] FORMAT [arg...]")
def _printf(ctx, args):
    if args[:1] == ["-v"]:
        # printf -v NAME: the output goes into the variable.
        if len(args) < 3:
            raise UsageError("-v: option requires a name and a format")
        name = args[1]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise CommandError(f"`{name}': not a valid identifier")
        captured = []
        out, ctx.out = ctx.out, captured.append
        try:
            status = _printf(ctx, args[2:])
        finally:
            ctx.out = out
        ctx.shell.set_var(name, "".join(captured))
        return status
    if not args:
        raise UsageError("missing format")
    fmt, rest = args[0], args[1:]
    pieces = []
    i = 0
    while i < len(fmt):
        k = fmt.find("%", i)
        if k < 0:
            pieces.append(fmt[i:])
            break
        if k > i:
            pieces.append(fmt[i:k])
        m = _PRINTF_SPEC.match(fmt, k)
        if not m:
            raise CommandError(f"`{fmt[k + 1:k + 2] or '%'}': invalid format character")
        pieces.append(m)
        i = m.end()
    consumes = any(not isinstance(p, str) and p.group(4) != "%" for p in pieces)
    index = 0

    def next_arg():
        nonlocal index
        if index < len(rest):
            index += 1
            return rest[index - 1]
        return None

    out = []
    while True:
        for piece in pieces:
            if isinstance(piece, str):
                text, stopped = _unescape(piece)
                out.append(text)
                if stopped:
                    ctx.out("".join(out))
                    return 1 if ctx.failed else 0
                continue
            flags, width, prec, conv = piece.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = str(_printf_number(ctx, next_arg() or "0", True))
            if prec == "*":
                prec = str(_printf_number(ctx, next_arg() or "0", True))
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            arg = next_arg()
            if conv == "q":
                out.append((spec + "s") % _shell_quote(arg or ""))
            elif conv in "sb":
                value = arg or ""
                if conv == "b":
                    value, stopped = _unescape(value, echo=True)
                out.append((spec + "s") % value)
            elif conv == "c":
                out.append((spec + "s") % (arg or "")[:1])
            elif conv in "diouxX":
                value = _printf_number(ctx, arg or "0", True)
                out.append((spec + ("d" if conv in "iu" else conv)) % value)
            else:
                value = _printf_number(ctx, arg or "0", False)
                out.append((spec + conv) % value)
        if not consumes or index >= len(rest):
            break
    ctx.out("".join(out))
    return 1 if ctx.failed else 0


@builtin("seq", usage="seq [-s SEP] [-w] [FIRST [INCREMENT]] LAST")
def _seq(ctx, args):
    sep = "\n"
    width = False
    nums = []
    i = 0
    number = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
    while i < len(args):
        a = args[i]
        if number.fullmatch(a):
            nums.append(a)
        elif a == "-s" or a == "--separator":
            if i + 1 >= len(args):
                raise UsageError("option requires an argument -- 's'")
            i += 1
            sep = args[i]
        elif a.startswith("-s"):
            sep = a[2:]
        elif a == "-w":
            width = True
        elif a.startswith("-"):
            raise UsageError(f"invalid option -- '{a[1:2]}'")
        else:
            raise CommandError(f"invalid floating point argument: '{a}'")
        i += 1
    if not nums:
        raise UsageError("missing operand")
    if len(nums) > 3:
        raise UsageError(f"extra operand '{nums[3]}'")
    if len(nums) == 1:
        first, step, last = "1", "1", nums[0]
    elif len(nums) == 2:
        first, step, last = nums[0], "1", nums[1]
    else:
        first, step, last = nums
    decimals = max(len(x.split(".")[1]) if "." in x else 0 for x in (first, step))
    if float(step) == 0:
        raise CommandError(f"invalid Zero increment value: '{step}'")
    values = []
    if decimals == 0 and "." not in last:
        a, b, c = int(first), int(step), int(last)
        values = [str(v) for v in range(a, c + (1 if b > 0 else -1), b)]
    else:
        a, b, c = float(first), float(step), float(last)
        k = 0
        while (b > 0 and a + k * b <= c + 1e-9) or (b < 0 and a + k * b >= c - 1e-9):
            values.append(f"{a + k * b:.{decimals}f}")
            k += 1
    if width and values:
        w = max(len(v) for v in values)
        values = [("-" + v[1:].rjust(w - 1, "0")) if v.startswith("-") else v.rjust(w, "0")
                  for v in values]
    if values:
        ctx.out(sep.join(values) + "\n")
    return 0
