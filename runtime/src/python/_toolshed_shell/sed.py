"""sed: a script is parsed into commands (s, p, d, q, =, a, i, c with line,
$ and /regex/ addresses and ranges), then run over the input lines."""

import re

from .errors import CommandError, UsageError, _os_error_text
from .executor import _Sink
from .posix_regex import _compile_regex
from .registry import _inputs, _parse_opts, _read_text, _split_lines, _unescape, builtin


class _SedCommand:
    def __init__(self):
        self.addr1 = None
        self.addr2 = None
        self.negate = False
        self.active = False
        self.op = None
        self.regex = None
        self.repl = None
        self.glob = False
        self.nth = 1
        self.print = False
        self.text = ""


def _sed_until(s, i, delim, what):
    buf = []
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            buf.append(delim if s[i + 1] == delim else s[i:i + 2])
            i += 2
            continue
        if ch == delim:
            return "".join(buf), i + 1
        buf.append(ch)
        i += 1
    raise CommandError(f"unterminated {what}")


def _sed_addr(s, i, extended):
    if i < len(s) and s[i].isdigit():
        m = re.match(r"\d+", s[i:])
        return ("line", int(m.group())), i + len(m.group())
    if i < len(s) and s[i] == "$":
        return ("last",), i + 1
    if i < len(s) and s[i] == "/":
        pattern, i = _sed_until(s, i + 1, "/", "address regex")
        fold = i < len(s) and s[i] == "I"
        return ("re", _compile_regex(pattern, extended, fold)), i + (1 if fold else 0)
    return None, i


def _sed_repl(text):
    """A replacement as a list of strings and group numbers."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            d = text[i + 1]
            if d.isdigit():
                out.append(int(d))
            else:
                out.append({"n": "\n", "t": "\t"}.get(d, d))
            i += 2
        elif ch == "&":
            out.append(0)
            i += 1
        else:
            out.append(ch)
            i += 1
    return out


def _sed_parse(script, extended):
    cmds = []
    i = 0
    n = len(script)
    while True:
        while i < n and script[i] in " \t\n;":
            i += 1
        if i >= n:
            return cmds
        c = _SedCommand()
        c.addr1, i = _sed_addr(script, i, extended)
        if c.addr1 is not None and i < n and script[i] == ",":
            c.addr2, i = _sed_addr(script, i + 1, extended)
            if c.addr2 is None:
                raise CommandError("unexpected `,'")
        while i < n and script[i] in " \t":
            i += 1
        if i < n and script[i] == "!":
            c.negate = True
            i += 1
            while i < n and script[i] in " \t":
                i += 1
        if i >= n:
            raise CommandError("missing command")
        c.op = script[i]
        i += 1
        if c.op == "s":
            if i >= n:
                raise CommandError("unterminated `s' command")
            delim = script[i]
            pattern, i = _sed_until(script, i + 1, delim, "`s' command")
            repl, i = _sed_until(script, i, delim, "`s' command")
            m = re.match(r"[gpiIe0-9]*", script[i:])
            flags = m.group()
            i += len(flags)
            c.glob = "g" in flags
            c.print = "p" in flags
            digits = re.sub(r"\D", "", flags)
            c.nth = int(digits) if digits else 1
            if not pattern:
                raise CommandError("no previous regular expression")
            c.regex = _compile_regex(pattern, extended, "i" in flags or "I" in flags)
            c.repl = _sed_repl(repl)
        elif c.op in "aic":
            rest = script[i:]
            end = rest.find("\n")
            line = rest if end < 0 else rest[:end]
            i += len(line)
            line = line.lstrip()
            if line.startswith("\\"):
                line = line[1:].lstrip() if not line[1:2] == "\n" else line[2:]
            c.text = _unescape(line)[0]
        elif c.op not in "pdq=":
            raise CommandError(f"-e expression #1, char {i}: unknown command: `{c.op}'")
        while i < n and script[i] in " \t":
            i += 1
        if i < n and script[i] not in ";\n}":
            raise CommandError(f"-e expression #1, char {i + 1}: extra characters after command")
        cmds.append(c)


def _sed_selected(c, num, ps, total):
    def hit(addr):
        if addr[0] == "line":
            return num == addr[1]
        if addr[0] == "last":
            return num == total
        return bool(addr[1].search(ps))

    if c.addr1 is None:
        selected = True
    elif c.addr2 is None:
        selected = hit(c.addr1)
    elif c.active:
        selected = True
        a2 = c.addr2
        if (a2[0] == "line" and num >= a2[1]) or (a2[0] != "line" and hit(a2)):
            c.active = False
    elif hit(c.addr1):
        selected = True
        a2 = c.addr2
        c.active = not ((a2[0] == "line" and a2[1] <= num) or (a2[0] == "last" and num == total))
    else:
        selected = False
    return selected != c.negate


def _sed_substitute(c, text):
    count = [0]
    done = [False]

    def replace(m):
        count[0] += 1
        if count[0] == c.nth or (c.glob and count[0] > c.nth):
            done[0] = True
            return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in c.repl)
        return m.group(0)

    limit = 0 if (c.glob or c.nth > 1) else 1
    return c.regex.sub(replace, text, count=limit), done[0]


def _sed_run(cmds, text, quiet, out):
    lines = _split_lines(text)
    total = len(lines)
    for num, raw in enumerate(lines, 1):
        newline = "\n" if raw.endswith("\n") else ""
        ps = raw[:-1] if newline else raw
        deleted = quit_now = False
        appended = []
        for c in cmds:
            if not _sed_selected(c, num, ps, total):
                continue
            if c.op == "s":
                ps, done = _sed_substitute(c, ps)
                if done and c.print:
                    out(ps + "\n")
            elif c.op == "p":
                out(ps + "\n")
            elif c.op == "d":
                deleted = True
                break
            elif c.op == "q":
                quit_now = True
                break
            elif c.op == "=":
                out(f"{num}\n")
            elif c.op == "i":
                out(c.text + "\n")
            elif c.op == "a":
                appended.append(c.text + "\n")
            elif c.op == "c":
                if c.addr2 is None or not c.active:
                    out(c.text + "\n")
                deleted = True
                break
        if not deleted and not quiet:
            out(ps + newline)
        for t in appended:
            out(t)
        if quit_now:
            break


@builtin("sed", usage="sed [-n] [-E] [-i] [-e SCRIPT] SCRIPT [file...]   "
                      "(commands: s/re/repl/[gpiN], p, d, q, =, a, i, c; addresses N, $, /re/, A,B)")
def _sed(ctx, args):
    backup = None
    fixed = []
    for a in args:
        if a.startswith("-i") and len(a) > 2 and not a.startswith("-in"):
            backup = a[2:]
            a = "-i"
        fixed.append(a)
    opts, operands = _parse_opts(fixed, "nErsi", "e", longs={
        "quiet": "n", "silent": "n", "regexp-extended": "E", "in-place": "i", "expression": "e"})
    if "e" in opts:
        script = "\n".join(opts["e"])
    elif operands:
        script = operands.pop(0)
    else:
        raise UsageError("no script given")
    cmds = _sed_parse(script, bool(opts.get("E") or opts.get("r")))
    quiet = bool(opts.get("n"))
    if opts.get("i"):
        if not operands:
            raise CommandError("no input files")
        for name in operands:
            try:
                text = _read_text(name)
            except OSError as e:
                ctx.error(f"can't read {name}: {_os_error_text(e)}")
                continue
            for c in cmds:
                c.active = False
            buf = _Sink()
            _sed_run(cmds, text, quiet, buf.write)
            if backup:
                with open(name + backup, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
            with open(name, "w", encoding="utf-8", newline="") as fh:
                fh.write(buf.getvalue())
        return 1 if ctx.failed else 0
    text = "".join(t for _, t in _inputs(ctx, operands))
    _sed_run(cmds, text, quiet, ctx.out)
    return 1 if ctx.failed else 0
