"""Builtins for files and directories: ls, cat, head, tail, wc, find, mkdir,
rm, rmdir, mv, cp, touch, du, tee, pwd, cd, basename, dirname, realpath."""

import fnmatch
import os
import re
import shutil
import stat
import time

from .errors import CommandError, UsageError, _os_error_text
from .executor import ENV
from .registry import _human, _inputs, _int_arg, _last, _parse_opts, _split_lines, builtin, file_mode


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _ls_time(t):
    try:
        tm = time.localtime(t)
    except (OSError, OverflowError, ValueError, AttributeError):
        tm = time.gmtime(t)
    month = _MONTHS[tm.tm_mon - 1]
    if abs(time.time() - t) < 182 * 86400:
        return f"{month} {tm.tm_mday:>2} {tm.tm_hour:02d}:{tm.tm_min:02d}"
    return f"{month} {tm.tm_mday:>2}  {tm.tm_year}"


def _blocks_1k(st):
    blocks = getattr(st, "st_blocks", None)
    if blocks is None:
        return (st.st_size + 1023) // 1024
    return (blocks + 1) // 2


def _ls_sort(entries, opts):
    """entries: (name, path, stat) tuples."""
    if opts.get("t"):
        entries = sorted(entries, key=lambda e: (-e[2].st_mtime, e[0]))
    elif opts.get("S"):
        entries = sorted(entries, key=lambda e: (-e[2].st_size, e[0]))
    else:
        entries = sorted(entries, key=lambda e: e[0])
    if opts.get("r"):
        entries.reverse()
    return entries


def _ls_lines(entries, opts, total):
    if not opts.get("l"):
        return [name for name, _, _ in entries]
    rows = []
    blocks = 0
    for name, path, st in entries:
        display = name
        if stat.S_ISLNK(st.st_mode):
            try:
                display += " -> " + os.readlink(path)
            except OSError:
                pass
        size = _human(st.st_size) if opts.get("h") else str(st.st_size)
        rows.append((stat.filemode(file_mode(st)), str(getattr(st, "st_nlink", 1)),
                     str(getattr(st, "st_uid", 0)), str(getattr(st, "st_gid", 0)),
                     size, _ls_time(st.st_mtime), display))
        blocks += _blocks_1k(st)
    widths = [max([len(r[k]) for r in rows] or [0]) for k in range(5)]
    lines = []
    if total:
        lines.append(f"total {_human(blocks * 1024) if opts.get('h') else blocks}")
    for r in rows:
        lines.append(" ".join([r[0], r[1].rjust(widths[1]), r[2].ljust(widths[2]),
                               r[3].ljust(widths[3]), r[4].rjust(widths[4]), r[5], r[6]]))
    return lines


@builtin("ls", usage="ls [-l] [-a] [-A] [-1] [-R] [-h] [-t] [-S] [-r] [-d] [path...]")
def _ls(ctx, args):
    opts, paths = _parse_opts(args, "laA1RhtSrd", longs={
        "all": "a", "almost-all": "A", "human-readable": "h", "recursive": "R",
        "reverse": "r", "directory": "d"})
    status = 0
    files, dirs = [], []
    for p in paths or ["."]:
        try:
            st = os.lstat(p)
        except OSError as e:
            ctx.err(f"ls: cannot access '{p}': {_os_error_text(e)}\n")
            status = 2
            continue
        if not opts.get("d") and os.path.isdir(p):
            dirs.append(p)
        else:
            files.append((p, p, st))
    lines = []
    if files:
        lines.extend(_ls_lines(_ls_sort(files, opts), opts, total=False))
    show_header = len(paths) > 1 or opts.get("R")
    state = {"first": not files}

    def list_dir(d):
        nonlocal status
        try:
            names = os.listdir(d)
        except OSError as e:
            ctx.err(f"ls: cannot open directory '{d}': {_os_error_text(e)}\n")
            status = 2
            return
        if not state["first"]:
            lines.append("")
        state["first"] = False
        if show_header:
            lines.append(f"{d}:")
        if opts.get("a"):
            names = names + [".", ".."]
        entries = []
        for name in names:
            if name.startswith(".") and not (opts.get("a") or opts.get("A")):
                continue
            path = os.path.join(d, name)
            try:
                entries.append((name, path, os.lstat(path)))
            except OSError:
                continue
        entries = _ls_sort(entries, opts)
        lines.extend(_ls_lines(entries, opts, total=True))
        if opts.get("R"):
            for name, path, st in entries:
                if name not in (".", "..") and stat.S_ISDIR(st.st_mode):
                    list_dir(path)

    for d in sorted(dirs):
        list_dir(d)
    if lines:
        ctx.out("\n".join(lines) + "\n")
    return status


@builtin("cat", usage="cat [-n] [file...]")
def _cat(ctx, args):
    opts, files = _parse_opts(args, "n", longs={"number": "n"})
    text = "".join(t for _, t in _inputs(ctx, files))
    if opts.get("n"):
        for k, line in enumerate(_split_lines(text), 1):
            ctx.out(f"{k:6d}\t{line}")
    else:
        ctx.out(text)
    return 1 if ctx.failed else 0


def _count_shortcut(args, allow_plus=False):
    """head -5 / tail -5 / tail +5 mean -n 5 / -n +5."""
    out = []
    prev = None
    for k, a in enumerate(args):
        if prev not in ("-n", "-c") and re.fullmatch(r"-\d+", a):
            out.extend(["-n", a[1:]])
        elif allow_plus and k == 0 and re.fullmatch(r"\+\d+", a):
            out.extend(["-n", a])
        else:
            out.append(a)
        prev = a
    return out


def _head_tail(ctx, args, is_tail):
    opts, files = _parse_opts(_count_shortcut(args, is_tail), "qv", "nc",
                              longs={"lines": "n", "bytes": "c", "quiet": "q", "silent": "q",
                                     "verbose": "v"})
    mode = "c" if "c" in opts else "n"
    raw = _last(opts, mode, "10").strip()
    m = re.fullmatch(r"([-+]?)(\d+)", raw)
    if not m:
        what = "bytes" if mode == "c" else "lines"
        raise CommandError(f"invalid number of {what}: '{raw}'")
    sign, count = m.group(1), int(m.group(2))
    headers = (len(files) > 1 or opts.get("v")) and not opts.get("q")
    shown = 0
    for name, text in _inputs(ctx, files):
        if headers:
            title = "standard input" if name == "-" else name
            ctx.out(("\n" if shown else "") + f"==> {title} <==\n")
        shown += 1
        items = text if mode == "c" else _split_lines(text)
        if is_tail:
            if sign == "+":
                piece = items[max(count - 1, 0):]
            else:
                piece = items[len(items) - count:] if count else items[:0]
        elif sign == "-":
            piece = items[:max(len(items) - count, 0)]
        else:
            piece = items[:count]
        ctx.out(piece if mode == "c" else "".join(piece))
    return 1 if ctx.failed else 0


@builtin("head", usage="head [-n N] [-c N] [file...]")
def _head(ctx, args):
    return _head_tail(ctx, args, False)


@builtin("tail", usage="tail [-n N|+N] [-c N|+N] [file...]")
def _tail(ctx, args):
    return _head_tail(ctx, args, True)


@builtin("wc", usage="wc [-l] [-w] [-c] [-m] [file...]")
def _wc(ctx, args):
    opts, files = _parse_opts(args, "lwcm", longs={"lines": "l", "words": "w", "bytes": "c",
                                                   "chars": "m"})
    fields = [k for k in "lwmc" if opts.get(k)] or ["l", "w", "c"]
    rows = []
    regular_total = 0
    nonregular = False
    for name, text in _inputs(ctx, files):
        if name == "-":
            size = len(text.encode("utf-8", "replace"))
            nonregular = True
        else:
            size = os.path.getsize(name)
            regular_total += size
        counts = {"l": text.count("\n"), "w": len(text.split()), "m": len(text), "c": size}
        rows.append(([counts[f] for f in fields], name if files else None))
    if len(rows) > 1:
        rows.append(([sum(r[0][k] for r in rows) for k in range(len(fields))], "total"))
    if len(fields) == 1 and len(files) <= 1:
        width = 1
    else:
        width = max(len(str(regular_total)), 7 if nonregular else 1)
    for counts, name in rows:
        line = " ".join(str(c).rjust(width) for c in counts)
        ctx.out(line + (f" {name}" if name else "") + "\n")
    return 1 if ctx.failed else 0


def _find_walk(start, maxdepth):
    """(path, depth, lstat) in pre-order, children sorted by name."""
    try:
        entry = (start, 0, os.lstat(start))
    except OSError:
        return
    yield entry
    yield from _find_subtree(entry, maxdepth)


def _find_subtree(entry, maxdepth):
    path, depth, st = entry
    if not stat.S_ISDIR(st.st_mode) or (maxdepth is not None and depth >= maxdepth):
        return
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return
    for name in names:
        child = os.path.join(path, name)
        try:
            child_entry = (child, depth + 1, os.lstat(child))
        except OSError:
            continue
        yield child_entry
        yield from _find_subtree(child_entry, maxdepth)


class _FindParser:
    """find's expression: predicates joined by implicit -a, -o, ! and
    parentheses, compiled to a function (path, stat) -> bool."""

    def __init__(self, tokens, ctx=None):
        self.t = tokens
        self.i = 0
        self.maxdepth = None
        self.mindepth = 0
        self.actions = []
        self.ctx = ctx
        self.batches = []   # (command, paths) of -exec ... {} +

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def exec_(self, tok):
        """-exec CMD ARGS ; runs the command for each path ({} is the path)
        and is true when it succeeds; -exec CMD ARGS {} + runs it once with
        all the paths at the end."""
        command = []
        while self.i < len(self.t) and self.t[self.i] not in (";", "+"):
            command.append(self.t[self.i])
            self.i += 1
        if self.i >= len(self.t) or not command:
            raise UsageError(f"missing argument to `{tok}'")
        end = self.t[self.i]
        self.i += 1
        self.actions.append("-exec")
        ctx = self.ctx
        local = tok == "-execdir"

        def run(argv):
            return ctx.shell.run_argv(argv, "", ctx.stdout, ctx.stderr, ctx.env)

        if end == "+":
            if command[-1] != "{}":
                raise UsageError(f"`{tok} ... +' needs {{}} as its last argument")
            batch = (command[:-1], [])
            self.batches.append(batch)

            def collect(path, st):
                batch[1].append(os.path.basename(path) if local else path)
                return True
            return collect

        def each(path, st):
            target = ("./" + os.path.basename(path)) if local else path
            return run([target if a == "{}" else a.replace("{}", target) for a in command]) == 0
        return each

    def parse(self):
        if not self.t:
            return lambda path, st: True
        pred = self.or_()
        if self.i < len(self.t):
            raise UsageError(f"unexpected argument '{self.t[self.i]}'")
        return pred

    def or_(self):
        left = self.and_()
        while self.peek() in ("-o", "-or"):
            self.i += 1
            right = self.and_()
            left = (lambda a, b: lambda p, s: a(p, s) or b(p, s))(left, right)
        return left

    def and_(self):
        left = self.not_()
        while self.peek() is not None and self.peek() not in ("-o", "-or", ")"):
            if self.peek() in ("-a", "-and"):
                self.i += 1
            right = self.not_()
            left = (lambda a, b: lambda p, s: a(p, s) and b(p, s))(left, right)
        return left

    def not_(self):
        if self.peek() in ("!", "-not"):
            self.i += 1
            inner = self.not_()
            return lambda p, s: not inner(p, s)
        return self.primary()

    def value(self, name):
        if self.i >= len(self.t):
            raise UsageError(f"missing argument to `{name}'")
        v = self.t[self.i]
        self.i += 1
        return v

    def primary(self):
        tok = self.peek()
        if tok is None:
            raise UsageError("expected an expression")
        self.i += 1
        if tok == "(":
            inner = self.or_()
            if self.peek() != ")":
                raise UsageError("missing ')'")
            self.i += 1
            return inner
        if tok in ("-name", "-iname", "-path", "-ipath", "-wholename"):
            pat = self.value(tok)
            fold = tok.startswith("-i")
            if fold:
                pat = pat.lower()
            if tok == "-name" or tok == "-iname":
                def match_name(p, s):
                    base = os.path.basename(p.rstrip("/")) or p
                    return fnmatch.fnmatchcase(base.lower() if fold else base, pat)
                return match_name
            return lambda p, s: fnmatch.fnmatchcase(p.lower() if fold else p, pat)
        if tok == "-type":
            kind = self.value(tok)
            tests = {"f": stat.S_ISREG, "d": stat.S_ISDIR, "l": stat.S_ISLNK}
            if kind not in tests:
                raise UsageError(f"unknown argument to -type: {kind}")
            test = tests[kind]
            return lambda p, s: test(s.st_mode)
        if tok in ("-maxdepth", "-mindepth"):
            raw = self.value(tok)
            if not re.fullmatch(r"[0-9]+", raw):
                raise UsageError(f"invalid argument '{raw}' to `{tok}'")
            if tok == "-maxdepth":
                self.maxdepth = int(raw)
            else:
                self.mindepth = int(raw)
            return lambda p, s: True
        if tok == "-size":
            raw = self.value(tok)
            m = re.fullmatch(r"([-+]?)(\d+)([ckMGwb]?)", raw)
            if not m:
                raise UsageError(f"invalid -size '{raw}'")
            sign, num, unit = m.group(1), int(m.group(2)), m.group(3) or "b"
            scale = {"c": 1, "w": 2, "b": 512, "k": 1024, "M": 1 << 20, "G": 1 << 30}[unit]

            def match_size(p, s):
                units = -(-s.st_size // scale)
                if sign == "+":
                    return units > num
                if sign == "-":
                    return units < num
                return units == num
            return match_size
        if tok == "-empty":
            def match_empty(p, s):
                if stat.S_ISDIR(s.st_mode):
                    try:
                        return not os.listdir(p)
                    except OSError:
                        return False
                return stat.S_ISREG(s.st_mode) and s.st_size == 0
            return match_empty
        if tok in ("-newer",):
            ref = os.stat(self.value(tok)).st_mtime
            return lambda p, s: s.st_mtime > ref
        if tok in ("-print", "-delete"):
            self.actions.append(tok)
            return lambda p, s: True
        if tok in ("-true",):
            return lambda p, s: True
        if tok in ("-false",):
            return lambda p, s: False
        if tok in ("-exec", "-execdir"):
            return self.exec_(tok)
        if tok == "-ok":
            raise UsageError("-ok is not supported in this sandbox shell (it asks a user)")
        raise UsageError(f"unknown predicate `{tok}'")


@builtin("find", usage="find [path...] [-name PAT] [-iname PAT] [-path PAT] [-type f|d|l] "
                       "[-maxdepth N] [-mindepth N] [-size [+-]N[ckMG]] [-empty] [-newer F] "
                       "[! EXPR] [EXPR -o EXPR] [-print] [-delete] [-exec CMD {} ;|+]")
def _find(ctx, args):
    k = 0
    while k < len(args) and not (args[k].startswith("-") or args[k] in ("!", "(")):
        k += 1
    starts = args[:k] or ["."]
    parser = _FindParser(args[k:], ctx)
    pred = parser.parse()
    delete = "-delete" in parser.actions
    quiet = "-exec" in parser.actions and "-print" not in parser.actions
    matched = []
    for start in starts:
        if not os.path.lexists(start):
            ctx.error(f"'{start}': No such file or directory")
            continue
        for path, depth, st in _find_walk(start, parser.maxdepth):
            if depth >= parser.mindepth and pred(path, st):
                if delete:
                    matched.append((path, st))
                elif not quiet:
                    ctx.out(path + "\n")
    for command, paths in parser.batches:
        if paths and ctx.shell.run_argv(command + paths, "", ctx.stdout, ctx.stderr, ctx.env):
            ctx.failed = True
    for path, st in reversed(matched):   # children before their parents
        try:
            if stat.S_ISDIR(st.st_mode):
                os.rmdir(path)
            else:
                os.remove(path)
        except OSError as e:
            ctx.error(f"cannot delete '{path}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


@builtin("mkdir", usage="mkdir [-p] dir...")
def _mkdir(ctx, args):
    opts, paths = _parse_opts(args, "pv", longs={"parents": "p", "verbose": "v"})
    if not paths:
        raise UsageError("missing operand")
    for p in paths:
        try:
            if opts.get("p"):
                if os.path.exists(p) and not os.path.isdir(p):
                    raise FileExistsError(17, "File exists", p)
                os.makedirs(p, exist_ok=True)
            else:
                os.mkdir(p)
            if opts.get("v"):
                ctx.out(f"mkdir: created directory '{p}'\n")
        except OSError as e:
            ctx.error(f"cannot create directory '{p}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


@builtin("rm", usage="rm [-r] [-f] [-d] path...")
def _rm(ctx, args):
    opts, paths = _parse_opts(args, "rRfdiv", longs={"recursive": "r", "force": "f",
                                                     "dir": "d", "verbose": "v"})
    force = opts.get("f")
    recursive = opts.get("r") or opts.get("R")
    if not paths and not force:
        raise UsageError("missing operand")
    for p in paths:
        if os.path.basename(p.rstrip("/")) in (".", ".."):
            ctx.error(f"refusing to remove '.' or '..' directory: skipping '{p}'")
            continue
        if os.path.abspath(p) == "/":
            ctx.error("it is dangerous to operate recursively on '/'")
            continue
        if not os.path.lexists(p):
            if not force:
                ctx.error(f"cannot remove '{p}': No such file or directory")
            continue
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                if recursive:
                    shutil.rmtree(p)
                elif opts.get("d"):
                    os.rmdir(p)
                else:
                    ctx.error(f"cannot remove '{p}': Is a directory")
                    continue
            else:
                os.remove(p)
            if opts.get("v"):
                ctx.out(f"removed '{p}'\n")
        except OSError as e:
            ctx.error(f"cannot remove '{p}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


@builtin("rmdir", usage="rmdir dir...")
def _rmdir(ctx, args):
    opts, paths = _parse_opts(args, "pv")
    if not paths:
        raise UsageError("missing operand")
    for p in paths:
        try:
            os.rmdir(p)
        except OSError as e:
            text = _os_error_text(e)
            if os.path.isdir(p) and os.listdir(p):
                text = "Directory not empty"
            ctx.error(f"failed to remove '{p}': {text}")
    return 1 if ctx.failed else 0


def _inside(child, parent):
    child, parent = os.path.abspath(child), os.path.abspath(parent)
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _targets(ctx, name, operands):
    """(sources, dest, dest_is_dir) for mv and cp."""
    if not operands:
        raise UsageError("missing file operand")
    if len(operands) == 1:
        raise UsageError(f"missing destination file operand after '{operands[0]}'")
    dest = operands[-1]
    dest_is_dir = os.path.isdir(dest)
    if len(operands) > 2 and not dest_is_dir:
        raise CommandError(f"target '{dest}' is not a directory")
    return operands[:-1], dest, dest_is_dir


@builtin("mv", usage="mv [-f] [-n] source... dest")
def _mv(ctx, args):
    opts, operands = _parse_opts(args, "fniv", longs={"force": "f", "no-clobber": "n"})
    sources, dest, dest_is_dir = _targets(ctx, "mv", operands)
    for src in sources:
        if not os.path.lexists(src):
            ctx.error(f"cannot stat '{src}': No such file or directory")
            continue
        target = os.path.join(dest, os.path.basename(src.rstrip("/"))) if dest_is_dir else dest
        if os.path.abspath(src) == os.path.abspath(target):
            ctx.error(f"'{src}' and '{target}' are the same file")
            continue
        if os.path.isdir(src) and _inside(target, src):
            ctx.error(f"cannot move '{src}' to a subdirectory of itself, '{target}'")
            continue
        if opts.get("n") and os.path.lexists(target):
            continue
        if os.path.isdir(target) and not os.path.isdir(src):
            ctx.error(f"cannot overwrite directory '{target}' with non-directory")
            continue
        try:
            try:
                os.replace(src, target)
            except OSError:
                if os.path.lexists(target):
                    raise
                shutil.move(src, target)
        except OSError as e:
            ctx.error(f"cannot move '{src}' to '{target}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


def _copy_tree(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        if os.path.islink(s):
            try:
                os.symlink(os.readlink(s), d)
                continue
            except OSError:
                pass
        if os.path.isdir(s):
            _copy_tree(s, d)
        else:
            _copy_file(s, d)


def _copy_file(src, dst):
    shutil.copyfile(src, dst)
    try:
        shutil.copymode(src, dst)
    except (OSError, AttributeError, NotImplementedError):
        pass


@builtin("cp", usage="cp [-r] [-f] [-n] source... dest")
def _cp(ctx, args):
    opts, operands = _parse_opts(args, "rRafnpv", longs={"recursive": "r", "force": "f",
                                                        "no-clobber": "n", "archive": "a"})
    recursive = opts.get("r") or opts.get("R") or opts.get("a")
    sources, dest, dest_is_dir = _targets(ctx, "cp", operands)
    for src in sources:
        if not os.path.lexists(src):
            ctx.error(f"cannot stat '{src}': No such file or directory")
            continue
        target = os.path.join(dest, os.path.basename(src.rstrip("/"))) if dest_is_dir else dest
        try:
            if os.path.isdir(src):
                if not recursive:
                    ctx.error(f"-r not specified; omitting directory '{src}'")
                    continue
                if _inside(target, src):
                    ctx.error(f"cannot copy a directory, '{src}', into itself, '{target}'")
                    continue
                if os.path.exists(target) and not os.path.isdir(target):
                    ctx.error(f"cannot overwrite non-directory '{target}' with directory '{src}'")
                    continue
                _copy_tree(src, target)
            else:
                if os.path.abspath(src) == os.path.abspath(target):
                    ctx.error(f"'{src}' and '{target}' are the same file")
                    continue
                if opts.get("n") and os.path.lexists(target):
                    continue
                _copy_file(src, target)
        except OSError as e:
            ctx.error(f"cannot copy '{src}' to '{target}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


@builtin("touch", usage="touch [-c] file...")
def _touch(ctx, args):
    opts, paths = _parse_opts(args, "cam", longs={"no-create": "c"})
    if not paths:
        raise UsageError("missing file operand")
    for p in paths:
        try:
            if os.path.exists(p):
                try:
                    os.utime(p, None)
                except (OSError, NotImplementedError, AttributeError):
                    pass
            elif not opts.get("c"):
                open(p, "a").close()
        except OSError as e:
            ctx.error(f"cannot touch '{p}': {_os_error_text(e)}")
    return 1 if ctx.failed else 0


@builtin("du", usage="du [-s] [-h] [-a] [-c] [-d N] [path...]")
def _du(ctx, args):
    opts, paths = _parse_opts(args, "shack", "d", longs={
        "summarize": "s", "human-readable": "h", "all": "a", "total": "c", "max-depth": "d"})
    max_depth = _int_arg(_last(opts, "d"), "maximum depth") if "d" in opts else None
    summarize = opts.get("s")

    def fmt(nbytes):
        return _human(nbytes) if opts.get("h") else str(-(-nbytes // 1024))

    def show(depth):
        return not summarize and (max_depth is None or depth <= max_depth)

    def walk(path, depth):
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            if depth == 0 and not summarize or (opts.get("a") and show(depth)):
                ctx.out(f"{fmt(st.st_size)}\t{path}\n")
            return st.st_size
        total = 0
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            ctx.error(f"cannot read directory '{path}': {_os_error_text(e)}")
            names = []
        for name in names:
            total += walk(os.path.join(path, name), depth + 1)
        if show(depth):
            ctx.out(f"{fmt(total)}\t{path}\n")
        return total

    grand = 0
    for p in paths or ["."]:
        if not os.path.lexists(p):
            ctx.error(f"cannot access '{p}': No such file or directory")
            continue
        size = walk(p, 0)
        if summarize:
            ctx.out(f"{fmt(size)}\t{p}\n")
        grand += size
    if opts.get("c"):
        ctx.out(f"{fmt(grand)}\ttotal\n")
    return 1 if ctx.failed else 0


@builtin("tee", usage="tee [-a] [file...]")
def _tee(ctx, args):
    opts, files = _parse_opts(args, "a", longs={"append": "a"})
    for f in files:
        if f == "/dev/null":
            continue
        try:
            with open(f, "a" if opts.get("a") else "w", encoding="utf-8", newline="") as fh:
                fh.write(ctx.stdin)
        except OSError as e:
            ctx.error(f"{f}: {_os_error_text(e)}")
    ctx.out(ctx.stdin)
    return 1 if ctx.failed else 0


@builtin("pwd", usage="pwd")
def _pwd(ctx, args):
    _parse_opts(args, "LP")
    ctx.out(os.getcwd() + "\n")
    return 0


@builtin("cd", usage="cd [dir|-]")
def _cd(ctx, args):
    _, operands = _parse_opts(args, "LP")
    if len(operands) > 1:
        raise CommandError("too many arguments")
    target = operands[0] if operands else ctx.env.get("HOME")
    if target is None:
        raise CommandError("HOME not set")
    show = False
    if target == "-":
        target = ENV.get("OLDPWD")
        if not target:
            raise CommandError("OLDPWD not set")
        show = True
    old = os.getcwd()
    try:
        os.chdir(target)
    except OSError as e:
        raise CommandError(f"{target}: {_os_error_text(e)}")
    ENV["OLDPWD"] = old
    ENV["PWD"] = os.getcwd()
    if show:
        ctx.out(os.getcwd() + "\n")
    return 0


@builtin("basename", usage="basename NAME [SUFFIX] | basename -a [-s SUFFIX] NAME...")
def _basename(ctx, args):
    opts, names = _parse_opts(args, "a", "s", longs={"multiple": "a", "suffix": "s"})
    if not names:
        raise UsageError("missing operand")
    suffix = _last(opts, "s")
    if not opts.get("a") and "s" not in opts:
        if len(names) > 2:
            raise UsageError(f"extra operand '{names[2]}'")
        suffix = names[1] if len(names) == 2 else None
        names = names[:1]
    for name in names:
        stripped = name.rstrip("/")
        base = stripped.rsplit("/", 1)[-1] if stripped else ("/" if name else "")
        if suffix and base != suffix and base.endswith(suffix):
            base = base[:-len(suffix)]
        ctx.out(base + "\n")
    return 0


@builtin("dirname", usage="dirname NAME...")
def _dirname(ctx, args):
    _, names = _parse_opts(args, "")
    if not names:
        raise UsageError("missing operand")
    for name in names:
        stripped = name.rstrip("/")
        if not stripped:
            result = "/" if name.startswith("/") else "."
        elif "/" not in stripped:
            result = "."
        else:
            result = stripped.rsplit("/", 1)[0].rstrip("/") or "/"
        ctx.out(result + "\n")
    return 0


@builtin("realpath", usage="realpath path...")
def _realpath(ctx, args):
    _, names = _parse_opts(args, "esm")
    if not names:
        raise UsageError("missing operand")
    for name in names:
        ctx.out(os.path.realpath(name) + "\n")
    return 0
