"""The builtins that act on the shell itself (its variables, positional
parameters, options and control flow): local, return, break, continue,
shift, set, read, eval, source and ., let, declare and typeset,
readonly. Each is called as func(shell, ctx, args)."""

import re

from .errors import CommandError, ShellSyntaxError

SPECIAL = {}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def special(*names):
    def register(func):
        for name in names:
            SPECIAL[name] = func
        return func
    return register


def _count(args, name):
    if not args:
        return 1
    if len(args) > 1 or not args[0].isdigit() or int(args[0]) < 1:
        raise CommandError(f"{args[0]}: loop count out of range")
    return int(args[0])


@special("break")
def _break(shell, ctx, args):
    from .executor import _Break
    if not shell.loop_depth:
        return 0
    raise _Break(min(_count(args, "break"), shell.loop_depth))


@special("continue")
def _continue(shell, ctx, args):
    from .executor import _Continue
    if not shell.loop_depth:
        return 0
    raise _Continue(min(_count(args, "continue"), shell.loop_depth))


@special("return")
def _return(shell, ctx, args):
    from .executor import _Return
    if not shell.func_depth and not shell.eval_depth:
        raise CommandError("can only `return' from a function or sourced script", 2)
    code = shell.status
    if args:
        try:
            code = int(args[0]) & 255
        except ValueError:
            raise CommandError(f"{args[0]}: numeric argument required", 2)
    raise _Return(code)


def _assign(shell, item, ctx, local=False):
    name, eq, value = item.partition("=")
    append = name.endswith("+")
    if append:
        name = name[:-1]
    if not _NAME.match(name):
        ctx.err(f"sh: {ctx.name}: `{item}': not a valid identifier\n")
        ctx.failed = True
        return
    if local and shell.locals:
        frame = shell.locals[-1]
        if name not in frame:
            frame[name] = shell.vars.get(name)
        if not eq:
            shell.vars.setdefault(name, "")
            return
        shell.set_var(name, _appended(shell, name, value) if append else value)
        return
    if eq:
        shell.set_var(name, _appended(shell, name, value) if append else value)


def _appended(shell, name, value):
    """NAME+=VALUE: text appended, or added for an integer variable."""
    old = shell.get_var(name) or ""
    if name in shell.integers:
        from .arith import evaluate
        return str(evaluate(f"({old or 0}) + ({value or 0})", shell))
    return old + value


@special("local")
def _local(shell, ctx, args):
    if not shell.locals:
        raise CommandError("can only be used in a function")
    integer = False
    for item in args:
        if item.startswith("-"):
            integer = integer or "i" in item
            continue
        if integer:
            shell.integers.add(item.partition("=")[0].rstrip("+"))
        _assign(shell, item, ctx, local=True)
    return 1 if ctx.failed else 0


@special("declare", "typeset")
def _declare(shell, ctx, args):
    integer = False
    for item in args:
        if item.startswith("-"):
            if any(flag in item for flag in "aA"):
                raise CommandError("arrays are not supported in this sandbox shell", 2)
            integer = integer or "i" in item
            continue
        if integer:
            name = item.partition("=")[0].rstrip("+")
            shell.integers.add(name)
        _assign(shell, item, ctx, local=bool(shell.locals))
    return 1 if ctx.failed else 0


@special("readonly")
def _readonly(shell, ctx, args):
    for item in args:
        if not item.startswith("-"):
            _assign(shell, item, ctx)
    return 1 if ctx.failed else 0


@special("shift")
def _shift(shell, ctx, args):
    n = 1
    if args:
        if not args[0].isdigit():
            raise CommandError(f"{args[0]}: numeric argument required")
        n = int(args[0])
    if n > len(shell.params):
        return 1
    shell.params = shell.params[n:]
    return 0


_LONG = {"errexit": "e", "nounset": "u", "pipefail": None, "xtrace": "x"}
_SHORT = {"e": "errexit", "u": "nounset", "x": "xtrace"}


@special("set")
def _set(shell, ctx, args):
    if not args:
        names = sorted(set(shell.vars) | set(__import__("_toolshed_shell.executor", fromlist=["ENV"]).ENV))
        for name in names:
            ctx.out(f"{name}={shell.get_var(name)}\n")
        return 0
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            shell.params = list(args[i + 1:])
            return 0
        if a in ("-o", "+o"):
            if i + 1 >= len(args):
                for name in ("errexit", "nounset", "pipefail", "xtrace"):
                    ctx.out(f"{name:<15}{'on' if shell.options[name] else 'off'}\n")
                return 0
            option = args[i + 1]
            if option not in _LONG:
                raise CommandError(f"{option}: invalid option name (supported: {', '.join(_LONG)})", 2)
            shell.options[option] = a == "-o"
            i += 2
            continue
        if a[:1] in "-+" and len(a) > 1:
            for flag in a[1:]:
                if flag not in _SHORT:
                    raise CommandError(f"-{flag}: invalid option (supported: -e -u -x -o pipefail)", 2)
                shell.options[_SHORT[flag]] = a[0] == "-"
            i += 1
            continue
        shell.params = list(args[i:])
        return 0
    return 0


@special("read")
def _read(shell, ctx, args):
    raw = False
    delim = "\n"
    names = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-r":
            raw = True
        elif a in ("-p", "-t", "-u", "-n", "-N"):
            i += 1   # prompts are not shown; timeouts and counts are ignored
        elif a == "-d":
            i += 1
            delim = args[i][:1] if i < len(args) else "\n"
        elif a in ("-s", "-e"):
            pass
        elif a == "-a":
            raise CommandError("-a: arrays are not supported in this sandbox shell", 2)
        elif a.startswith("-") and len(a) > 1 and not names:
            raise CommandError(f"{a}: invalid option", 2)
        else:
            names.append(a)
        i += 1
    for name in names:
        if not _NAME.match(name):
            raise CommandError(f"`{name}': not a valid identifier")
    got = ctx.input.readline(delim)
    if got is None:
        for name in names or ["REPLY"]:
            shell.set_var(name, "")
        return 1
    line, terminated = got
    if not raw:
        # A backslash escapes the next character; backslash-newline joins.
        while line.endswith("\\") and not line.endswith("\\\\"):
            more = ctx.input.readline(delim)
            if more is None:
                line = line[:-1]
                break
            line = line[:-1] + more[0]
            terminated = more[1]
        line = re.sub(r"\\(.)", r"\1", line)
    if not names:
        shell.set_var("REPLY", line)
        return 0 if terminated else 1
    ifs = shell.get_var("IFS")
    ifs = " \t\n" if ifs is None else ifs
    values = _split_read(line, ifs, len(names))
    values += [""] * (len(names) - len(values))
    for name, value in zip(names, values):
        shell.set_var(name, value)
    return 0 if terminated else 1


def _split_read(line, ifs, count):
    """`read`'s split of a line into `count` fields by IFS: whitespace
    separators collapse and are trimmed, others separate one field each;
    the last field takes the rest of the line."""
    if not ifs:
        return [line]
    white = "".join(c for c in ifs if c in " \t\n")
    other = "".join(c for c in ifs if c not in " \t\n")
    ws = f"[{re.escape(white)}]*" if white else ""
    parts = []
    if other:
        parts.append(f"{ws}[{re.escape(other)}]{ws}")
    if white:
        parts.append(f"[{re.escape(white)}]+")
    sep = re.compile("|".join(parts))
    rest = line.strip(white) if white else line
    values = []
    while len(values) < count - 1 and rest:
        m = sep.search(rest)
        if m is None:
            break
        values.append(rest[:m.start()])
        rest = rest[m.end():]
    if rest or len(values) < count:
        last = rest.rstrip(white) if white else rest
        # One trailing non-whitespace separator is dropped, as bash does.
        if other and len(values) == count - 1 and last[-1:] in other and not any(c in other for c in last[:-1]):
            last = last[:-1]
        values.append(last)
    return values


def _run_text(shell, ctx, text, what):
    from .executor import _IO, _Return
    from .parser import parse
    if shell.eval_depth >= 50:
        raise CommandError(f"{what} nested too deeply")
    try:
        script = parse(text)
    except ShellSyntaxError as e:
        ctx.err(f"{e}\n")
        return e.code
    shell.eval_depth += 1
    try:
        return shell.run_list(script, _IO(ctx.input, ctx.stdout, ctx.stderr))
    except _Return as r:
        if what == "eval" and shell.func_depth:
            raise
        return r.code
    finally:
        shell.eval_depth -= 1


@special("eval")
def _eval(shell, ctx, args):
    return _run_text(shell, ctx, " ".join(args), "eval")


@special("source", ".")
def _source(shell, ctx, args):
    if not args:
        raise CommandError("filename argument required", 2)
    try:
        with open(args[0], encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CommandError(f"{args[0]}: {getattr(e, 'strerror', None) or e}")
    saved = shell.params
    if len(args) > 1:
        shell.params = list(args[1:])
    try:
        return _run_text(shell, ctx, text, "source")
    finally:
        if len(args) > 1:
            shell.params = saved


@special("let")
def _let(shell, ctx, args):
    from .arith import evaluate
    if not args:
        raise CommandError("expression expected", 2)
    value = 0
    for expr in args:
        value = evaluate(expr, shell)
    return 0 if value else 1


@special("trap")
def _trap(shell, ctx, args):
    """Only EXIT (and 0) is a trap here: its command runs when the command
    line ends. The sandbox has no signals, so others are accepted and never
    fire."""
    if not args or args[0] in ("-l", "-p"):
        if shell.exit_trap is not None:
            ctx.out(f"trap -- '{shell.exit_trap}' EXIT\n")
        return 0
    action, signals = args[0], args[1:]
    if not signals:
        signals, action = [action], "-"
    for sig in signals:
        if sig.upper() in ("EXIT", "0", "SIGEXIT"):
            shell.exit_trap = None if action in ("-", "") else action
    return 0


@special("command")
def _command(shell, ctx, args):
    """command -v NAME: how NAME would run; command NAME ARGS: run NAME
    without looking at functions."""
    from .executor import _IO
    from .registry import BUILTINS
    if args[:1] in (["-v"], ["-V"]):
        status = 0
        for name in args[1:]:
            if name in shell.funcs or name in BUILTINS or name in SPECIAL:
                ctx.out(f"{name}\n")
            else:
                status = 1
        return status
    if not args:
        return 0
    return shell.dispatch(args, _IO(ctx.input, ctx.stdout, ctx.stderr), [], skip_functions=True)


@special("exec")
def _exec(shell, ctx, args):
    """exec CMD: runs CMD and ends the command line with its status (no
    process to replace here); exec alone does nothing."""
    from .errors import ExitShell
    from .executor import _IO
    if not args:
        return 0
    status = shell.dispatch(args, _IO(ctx.input, ctx.stdout, ctx.stderr), [])
    raise ExitShell(status)


@special("wait")
def _wait(shell, ctx, args):
    """There are no background jobs to wait for."""
    return 0


@special("time")
def _time(shell, ctx, args):
    """time CMD ARGS: runs the command and reports the elapsed time on
    stderr as bash does (user and sys are not measured here: 0)."""
    import time as _clock
    from .executor import _IO
    start = _clock.perf_counter()
    status = shell.dispatch(args, _IO(ctx.input, ctx.stdout, ctx.stderr), []) if args else 0
    elapsed = _clock.perf_counter() - start
    minutes, seconds = divmod(elapsed, 60)
    ctx.err(f"\nreal\t{int(minutes)}m{seconds:.3f}s\nuser\t0m0.000s\nsys\t0m0.000s\n")
    return status


@special("mapfile", "readarray")
def _mapfile(shell, ctx, args):
    raise CommandError("arrays are not supported in this sandbox shell "
                       "(read the lines with `while read -r line; do ...; done`)", 2)
