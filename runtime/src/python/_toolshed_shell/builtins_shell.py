"""Builtins for the shell and its environment: true, :, false, exit, env,
printenv, export, unset, test, [, xargs, date, sleep, which, type, help,
python."""

import os
import re
import shlex
import sys
import time

from .errors import CommandError, ExitShell, UsageError
from .executor import ENV
from .parser import _ASSIGN_RE
from .registry import BUILTINS, USAGE, _int_arg, _last, _parse_opts, _unescape, builtin, file_mode


@builtin("true", usage="true")
def _true(ctx, args):
    return 0


@builtin(":", usage=": [args...]  (does nothing, succeeds)")
def _colon(ctx, args):
    return 0


@builtin("false", usage="false")
def _false(ctx, args):
    return 1


@builtin("exit", usage="exit [N]")
def _exit(ctx, args):
    if not args:
        raise ExitShell(ctx.shell.status)
    if not re.fullmatch(r"[-+]?\d+", args[0]):
        ctx.err(f"exit: {args[0]}: numeric argument required\n")
        raise ExitShell(2)
    raise ExitShell(int(args[0]) & 255)


_NAME_FULL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@builtin("env", usage="env [-i] [-u NAME] [NAME=VALUE...] [command [args...]]")
def _env(ctx, args):
    opts, rest = _parse_opts(args, "i", "u", longs={"ignore-environment": "i", "unset": "u"},
                             stop_at_operand=True)
    env = {} if opts.get("i") else dict(ctx.env)
    for name in opts.get("u", []):
        env.pop(name, None)
    while rest and _ASSIGN_RE.match(rest[0]):
        name, _, value = rest.pop(0).partition("=")
        env[name] = value
    if not rest:
        for name, value in env.items():
            ctx.out(f"{name}={value}\n")
        return 0
    return ctx.shell.run_argv(rest, ctx.stdin, ctx.stdout, ctx.stderr, env)


@builtin("printenv", usage="printenv [NAME...]")
def _printenv(ctx, args):
    if not args:
        for name, value in ctx.env.items():
            ctx.out(f"{name}={value}\n")
        return 0
    status = 0
    for name in args:
        if name in ctx.env:
            ctx.out(ctx.env[name] + "\n")
        else:
            status = 1
    return status


@builtin("export", usage="export [NAME[=VALUE]...]")
def _export(ctx, args):
    opts, names = _parse_opts(args, "p")
    if not names:
        for name in sorted(ENV):
            value = ENV[name]
            for ch in '\\"$`':
                value = value.replace(ch, "\\" + ch)
            ctx.out(f'declare -x {name}="{value}"\n')
        return 0
    shell = ctx.shell
    for item in names:
        name, eq, value = item.partition("=")
        if not _NAME_FULL.match(name):
            ctx.error(f"`{item}': not a valid identifier")
            continue
        if eq:
            ENV[name] = value
            shell.vars.pop(name, None)
        elif name in shell.vars:
            ENV[name] = shell.vars.pop(name)
    return 1 if ctx.failed else 0


@builtin("unset", usage="unset NAME...")
def _unset(ctx, args):
    _, names = _parse_opts(args, "vf")
    for name in names:
        ctx.shell.vars.pop(name, None)
        ENV.pop(name, None)
    return 0


class _TestParser:
    """test / [ expressions: ! -a -o ( ), unary file and string tests,
    string and integer comparisons."""

    UNARY = {"-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-z", "-n"}
    BINARY = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot"}

    def __init__(self, args):
        self.a = args
        self.i = 0

    def parse(self):
        if not self.a:
            return False
        value = self.or_()
        if self.i != len(self.a):
            raise CommandError("too many arguments", 2)
        return value

    def peek(self):
        return self.a[self.i] if self.i < len(self.a) else None

    def or_(self):
        value = self.and_()
        while self.peek() == "-o":
            self.i += 1
            rhs = self.and_()
            value = value or rhs
        return value

    def and_(self):
        value = self.not_()
        while self.peek() == "-a":
            self.i += 1
            rhs = self.not_()
            value = value and rhs
        return value

    def not_(self):
        if self.peek() == "!" and self.i + 1 < len(self.a):
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self):
        a = self.a
        i = self.i
        if i >= len(a):
            raise CommandError("argument expected", 2)
        tok = a[i]
        if tok == "(" and i + 1 < len(a):
            self.i += 1
            value = self.or_()
            if self.peek() != ")":
                raise CommandError("')' expected", 2)
            self.i += 1
            return value
        if i + 2 < len(a) and a[i + 1] in self.BINARY:
            self.i += 3
            return self.binary(tok, a[i + 1], a[i + 2])
        if tok in self.UNARY and i + 1 < len(a):
            self.i += 2
            return self.unary(tok, a[i + 1])
        self.i += 1
        return tok != ""

    @staticmethod
    def unary(op, arg):
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        if op in ("-L", "-h"):
            return os.path.islink(arg)
        if not os.path.exists(arg):
            return False
        if op == "-f":
            return os.path.isfile(arg)
        if op == "-d":
            return os.path.isdir(arg)
        if op == "-s":
            return os.path.getsize(arg) > 0
        if op not in ("-r", "-w", "-x"):
            return True
        # By the permission bits: os.access raises under WASI.
        try:
            mode = file_mode(os.stat(arg))
        except OSError:
            return False
        return bool(mode & {"-r": 0o444, "-w": 0o222, "-x": 0o111}[op])

    @staticmethod
    def integer(text):
        try:
            return int(text.strip())
        except ValueError:
            raise CommandError(f"{text}: integer expression expected", 2)

    def binary(self, left, op, right):
        if op in ("=", "=="):
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == ">":
            return left > right
        if op in ("-nt", "-ot"):
            try:
                lt, rt = os.stat(left).st_mtime, os.stat(right).st_mtime
            except OSError:
                return False
            return lt > rt if op == "-nt" else lt < rt
        x, y = self.integer(left), self.integer(right)
        return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y,
                "-gt": x > y, "-ge": x >= y}[op]


@builtin("test", usage="test EXPRESSION  (-f -d -e -s -z -n FILE/STRING, = != -eq -ne -lt -le -gt -ge, ! -a -o)")
def _test(ctx, args):
    return 0 if _TestParser(args).parse() else 1


@builtin("[", usage="[ EXPRESSION ]")
def _bracket_test(ctx, args):
    if not args or args[-1] != "]":
        raise CommandError("missing `]'", 2)
    return 0 if _TestParser(args[:-1]).parse() else 1


@builtin("xargs", usage="xargs [-n N] [-I STR] [-0] [-d DELIM] [-r] [command [args...]]")
def _xargs(ctx, args):
    opts, command = _parse_opts(args, "r0t", "nId", longs={
        "no-run-if-empty": "r", "null": "0", "max-args": "n", "delimiter": "d"},
        stop_at_operand=True)
    command = command or ["echo"]
    text = ctx.stdin
    runs = []
    if "I" in opts:
        marker = _last(opts, "I")
        for line in text.split("\n"):
            item = line.strip()
            if item:
                runs.append([a.replace(marker, item) for a in command])
    else:
        if opts.get("0"):
            words = [w for w in text.split("\0") if w]
        elif "d" in opts:
            delim = _unescape(_last(opts, "d"))[0]
            words = text[:-1].split(delim) if text.endswith("\n") and delim != "\n" else text.split(delim)
            words = [w for w in words if w != ""] if delim == "\n" else words
        else:
            try:
                words = shlex.split(text)
            except ValueError as e:
                raise CommandError(f"unmatched quote: {e}")
        if "n" in opts:
            size = _int_arg(_last(opts, "n"), "number of arguments")
            if size < 1:
                raise CommandError(f"value {size} for -n option should be >= 1")
            runs = [command + words[k:k + size] for k in range(0, len(words), size)]
        elif words:
            runs = [command + words]
        if not runs and not opts.get("r"):
            runs = [list(command)]
    status = 0
    for argv in runs:
        if opts.get("t"):
            ctx.err(" ".join(argv) + "\n")
        code = ctx.shell.run_argv(argv, "", ctx.stdout, ctx.stderr, ctx.env)
        if code == 127:
            return 127
        if code:
            status = 123
    return status


@builtin("date", usage="date [-u] [-I[TIMESPEC]] [+FORMAT]")
def _date(ctx, args):
    fmt = None
    iso = None
    for a in args:
        if a.startswith("+"):
            fmt = a[1:]
        elif a in ("-u", "--utc", "--universal"):
            continue
        elif a.startswith("-I") or a.startswith("--iso-8601"):
            iso = a.split("=", 1)[1] if "=" in a else a[2:] if a.startswith("-I") else ""
        else:
            raise UsageError(f"invalid option or operand '{a}'")
    now = time.time()
    tm = time.gmtime(now)
    if fmt is not None:
        def special(m):
            code = m.group(1)
            if code == "s":
                return str(int(now))
            if code == "N":
                return f"{int((now % 1) * 1e9):09d}"
            return m.group(0)
        fmt = re.sub(r"%([sN%])", lambda m: "%%" if m.group(1) == "%" else special(m), fmt)
        ctx.out(time.strftime(fmt, tm) + "\n")
    elif iso in ("", "date"):
        ctx.out(time.strftime("%Y-%m-%d", tm) + "\n")
    elif iso in ("hours",):
        ctx.out(time.strftime("%Y-%m-%dT%H+00:00", tm) + "\n")
    elif iso in ("minutes",):
        ctx.out(time.strftime("%Y-%m-%dT%H:%M+00:00", tm) + "\n")
    else:
        ctx.out(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", tm) + "\n")
    return 0


@builtin("umask", usage="umask [-S] [MODE]")
def _umask(ctx, args):
    """The sandbox's files have no permission bits (WASI), so the mask is
    always 0022 and setting it changes nothing."""
    opts, modes = _parse_opts(args, "S")
    if not modes:
        ctx.out("u=rwx,g=rx,o=rx\n" if "S" in opts else "0022\n")
    return 0


@builtin("sleep", usage="sleep SECONDS[s|m|h|d]...")
def _sleep(ctx, args):
    if not args:
        raise UsageError("missing operand")
    total = 0.0
    for a in args:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            raise CommandError(f"invalid time interval '{a}'")
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    time.sleep(total)
    return 0


@builtin("which", usage="which NAME...")
def _which(ctx, args):
    status = 0
    for name in args:
        if name.startswith("-"):
            continue
        if name in BUILTINS:
            ctx.out(f"{name}: shell builtin\n")
        else:
            status = 1
    return status


@builtin("type", usage="type NAME...")
def _type(ctx, args):
    status = 0
    for name in args:
        if name in BUILTINS:
            ctx.out(f"{name} is a shell builtin\n")
        else:
            ctx.err(f"type: {name}: not found\n")
            status = 1
    return status


@builtin("help", usage="help")
def _help(ctx, args):
    lines = ["Sandbox shell: every command is a builtin (no programs can be started).", ""]
    for name in sorted(USAGE):
        lines.append("  " + USAGE[name])
    lines += [
        "",
        "Syntax: pipes a | b, redirections > >> < 2> 2>&1 &> <<EOF <<<, lists a && b, a || b, a ; b,",
        "quotes ' \" \\, $VAR ${VAR} ${VAR:-default} $?, globs * ? [..], VAR=value, export VAR=value.",
        "Not supported: subshells ( ), $(...), backticks, loops, if/case, functions, background jobs.",
    ]
    ctx.out("\n".join(lines) + "\n")
    return 0


@builtin("python", "python3", usage="python FILE [args...] | python -c CODE [args...]")
def _python(ctx, args):
    """Calls the python_runner given to run() as runner(path, argv, stdin,
    env): `python FILE a b` -> (FILE, ["a", "b"], stdin); `python -c CODE
    a` -> (None, ["-c", CODE, "a"], stdin); code read from stdin (`python`,
    `python -`, here-documents) -> (None, ["-c", CODE], ""). `env` is the
    command's environment (what the shell exported, and NAME=value
    prefixes)."""
    if args and args[0] in ("--version", "-V"):
        ctx.out(f"Python {sys.version.split()[0]}\n")
        return 0
    runner = ctx.shell.python_runner
    if runner is None:
        ctx.err(f"{ctx.name}: Python is not available in this shell\n")
        return 1

    def call(path, argv, stdin):
        try:
            result = runner(path, argv, stdin, dict(ctx.env))
            out, err, code = result
        except Exception as e:
            ctx.err(f"{ctx.name}: {e.__class__.__name__}: {e}\n")
            return 1
        ctx.out(out or "")
        ctx.err(err or "")
        return int(code or 0)

    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        a = args[i]
        if a == "-c":
            if i + 1 >= len(args):
                ctx.err("Argument expected for the -c option\n")
                return 2
            return call(None, ["-c", args[i + 1]] + args[i + 2:], ctx.stdin)
        if a == "-m":
            ctx.err(f"{ctx.name}: -m is not supported in this sandbox shell\n")
            return 2
        if a in ("-u", "-B", "-E", "-s", "-S", "-I", "-O", "-OO", "-q"):
            i += 1
            continue
        ctx.err(f"{ctx.name}: unknown option {a}\n")
        return 2
    if i >= len(args) or args[i] == "-":
        return call(None, ["-c", ctx.stdin] + args[i + 1:], "")
    path = args[i]
    if not os.path.isfile(path):
        ctx.err(f"{ctx.name}: can't open file '{os.path.abspath(path)}': "
                f"[Errno 2] No such file or directory\n")
        return 2
    return call(path, args[i + 1:], ctx.stdin)
