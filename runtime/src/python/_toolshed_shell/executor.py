"""The executor: the environment (ENV), output sinks, word expansion,
redirections, pipelines and and-or lists, and the dispatch of each command
to its builtin. run() is the entry point."""

import glob
import os

from .errors import CommandError, ExitShell, ShellSyntaxError, UsageError, _os_error_text
from .parser import parse
from .registry import BUILTINS, USAGE, _read_text


# The environment used for $VAR expansion; `export` writes here and it
# persists between run() calls.
ENV = dict(os.environ)


# --- output sinks -----------------------------------------------------------

class _Sink:
    """Collects text in memory (the shell's stdout/stderr, or a pipe)."""

    def __init__(self):
        self.chunks = []

    def write(self, text):
        if text:
            self.chunks.append(text)

    def getvalue(self):
        return "".join(self.chunks)

    def close(self):
        pass


class _NullSink(_Sink):
    def write(self, text):
        pass


class _FileSink:
    def __init__(self, handle):
        self.handle = handle

    def write(self, text):
        if text:
            self.handle.write(text)

    def close(self):
        self.handle.close()


# --- executor ---------------------------------------------------------------

class Context:
    """What a builtin sees: its name, stdin text, output streams, env."""

    def __init__(self, shell, name, stdin, stdout, stderr, env):
        self.shell = shell
        self.name = name
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.failed = False

    def out(self, text):
        self.stdout.write(text)

    def err(self, text):
        self.stderr.write(text)

    def error(self, message):
        """Reports a non-fatal error; the command should then exit 1."""
        self.err(f"{self.name}: {message}\n")
        self.failed = True


class Shell:
    def __init__(self, python_runner=None):
        self.python_runner = python_runner
        self.vars = {}
        self.status = 0
        self.stdout = _Sink()
        self.stderr = _Sink()

    def execute(self, command):
        try:
            script = parse(command)
        except ShellSyntaxError as e:
            return {"stdout": "", "stderr": f"{e}\n", "exit_code": e.code}
        try:
            for item in script:
                self.run_and_or(item)
        except ExitShell as e:
            self.status = e.code
        except Exception as e:   # a bug here must not break the caller
            self.stderr.write(f"sh: internal error: {e.__class__.__name__}: {e}\n")
            self.status = 1
        return {"stdout": self.stdout.getvalue(), "stderr": self.stderr.getvalue(),
                "exit_code": self.status}

    # variables

    def get_var(self, name):
        """The value of a variable, or None when it is unset."""
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return "0"
        if name == "0":
            return "sh"
        if name in "!@*-" or name.isdigit():
            return ""
        if name in self.vars:
            return self.vars[name]
        return ENV.get(name)

    def set_var(self, name, value):
        # Plain assignments last for this run() only; a variable that is
        # also in ENV is shadowed (and passed to commands) but ENV itself
        # only changes through `export`.
        self.vars[name] = value

    def command_env(self, assigns):
        env = dict(ENV)
        env.update((k, v) for k, v in self.vars.items() if k in ENV)
        env.update(assigns)
        return env

    def expand_var(self, part):
        _, name, _, op, arg = part
        value = self.get_var(name)
        if op == "#":
            return str(len(value or ""))
        if op is None:
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if unset else value
        if op in (":=", "="):
            if unset:
                self.set_var(name, arg)
                return arg
            return value
        if op in (":+", "+"):
            return "" if unset else arg
        if unset:   # :? and ?
            raise CommandError(f"{name}: {arg or 'parameter null or not set'}")
        return value

    # word expansion

    def expand_word(self, word):
        """Expands one word into fields: variables, field splitting of
        unquoted expansions, then globbing of unquoted glob characters."""
        fields = []
        cur = []        # (text, globbable) segments of the current field
        have = False    # the field exists even if empty (it had quotes)
        for part in word.parts:
            kind = part[0]
            if kind == "lit":
                cur.append((part[1], not part[2]))
                have = have or part[2]
            elif kind == "tilde":
                cur.append((self.get_var("HOME") or "~", False))
            else:
                value = self.expand_var(part)
                if part[2]:
                    cur.append((value, False))
                    have = True
                    continue
                pieces = value.split()
                if value[:1].isspace() and (cur or have):
                    fields.append(cur)
                    cur, have = [], False
                for k, piece in enumerate(pieces):
                    if k:
                        fields.append(cur)
                        cur, have = [], False
                    cur.append((piece, True))
                if pieces and value[-1:].isspace():
                    fields.append(cur)
                    cur, have = [], False
        if cur or have:
            fields.append(cur)
        result = []
        for segs in fields:
            result.extend(self.glob_field(segs))
        return result

    @staticmethod
    def glob_field(segs):
        text = "".join(s for s, _ in segs)
        if not any(g and any(ch in s for ch in "*?[") for s, g in segs):
            return [text]
        pattern = "".join(s if g else glob.escape(s) for s, g in segs)
        matches = sorted(glob.glob(pattern))
        return matches or [text]

    def expand_plain(self, parts):
        """Expansion without field splitting or globbing (assignments,
        here-documents)."""
        out = []
        for part in parts:
            if part[0] == "lit":
                out.append(part[1])
            elif part[0] == "tilde":
                out.append(self.get_var("HOME") or "~")
            else:
                out.append(self.expand_var(part))
        return "".join(out)

    # running

    def run_and_or(self, item):
        status = self.run_pipeline(item.first)
        for op, pipeline in item.rest:
            if (op == "&&") == (status == 0):
                status = self.run_pipeline(pipeline)
        return status

    def run_pipeline(self, pipeline):
        data = ""
        status = 0
        last = len(pipeline.commands) - 1
        for k, cmd in enumerate(pipeline.commands):
            sink = self.stdout if k == last else _Sink()
            status = self.run_command(cmd, data, sink)
            if k != last:
                data = sink.getvalue()
        if pipeline.negate:
            status = 0 if status else 1
        self.status = status
        return status

    def run_command(self, cmd, stdin, out):
        err = self.stderr
        try:
            argv = []
            for word in cmd.words:
                argv.extend(self.expand_word(word))
            assigns = [(name, self.expand_plain(parts)) for name, parts in cmd.assigns]
        except CommandError as e:
            err.write(f"sh: {e}\n")
            return e.code
        fds = {0: stdin, 1: out, 2: err}
        opened = []
        try:
            try:
                for fd, op, word in cmd.redirects:
                    self.apply_redirect(fds, fd, op, word, opened)
            except CommandError as e:
                err.write(f"sh: {e}\n")
                return e.code
            if not argv:
                for name, value in assigns:
                    self.set_var(name, value)
                return 0
            return self.dispatch(argv, fds[0], fds[1], fds[2], self.command_env(assigns))
        finally:
            closed = set()
            for sink in opened:
                if id(sink) not in closed:
                    closed.add(id(sink))
                    try:
                        sink.close()
                    except OSError:
                        pass

    def apply_redirect(self, fds, fd, op, word, opened):
        if op in ("<<", "<<-"):
            fds[0] = self.expand_plain(word.heredoc or [])
            return
        if op == "<<<":
            fds[0] = " ".join(self.expand_word(word)) + "\n"
            return
        targets = self.expand_word(word)
        if len(targets) != 1:
            raise CommandError(f"{word.text()}: ambiguous redirect")
        target = targets[0]
        if op == ">&":
            if target in ("1", "2") and fd in (1, 2):
                fds[fd] = fds[int(target)]
                return
            if target == "-" and fd in (1, 2):
                fds[fd] = _NullSink()
                return
            if fd != 1 or target.isdigit():
                raise CommandError(f"{target}: bad file descriptor")
            fd, op = "&", ">"
        if op == "<":
            if fd != 0:
                raise CommandError(f"{fd}: only standard input can be redirected with <")
            try:
                fds[0] = _read_text(target)
            except OSError as e:
                raise CommandError(f"{target}: {_os_error_text(e)}")
            return
        if fd not in (1, 2, "&"):
            raise CommandError(f"{fd}: only file descriptors 1 and 2 can be redirected")
        if target == "/dev/stdout":
            sink = fds[1]
        elif target == "/dev/stderr":
            sink = fds[2]
        elif target == "/dev/null":
            sink = _NullSink()
        else:
            if os.path.isdir(target):
                raise CommandError(f"{target}: Is a directory")
            try:
                handle = open(target, "a" if op == ">>" else "w", encoding="utf-8", newline="")
            except OSError as e:
                raise CommandError(f"{target}: {_os_error_text(e)}")
            sink = _FileSink(handle)
            opened.append(sink)
        if fd == "&":
            fds[1] = fds[2] = sink
        else:
            fds[fd] = sink

    def dispatch(self, argv, stdin, stdout, stderr, env):
        """Runs one builtin with its arguments; returns its exit status."""
        name = argv[0]
        func = BUILTINS.get(name)
        if func is None and "/" in name and os.path.dirname(name) in ("/bin", "/usr/bin", "/usr/local/bin"):
            func = BUILTINS.get(os.path.basename(name))
        if func is None:
            stderr.write(f"{name}: command not found\n"
                         f"available commands: {', '.join(sorted(BUILTINS))}\n")
            return 127
        ctx = Context(self, name, stdin, stdout, stderr, env)
        args = argv[1:]
        if args == ["--help"] and name not in ("echo", "printf", "test", "["):
            ctx.out(f"usage: {USAGE.get(name, name)}\n")
            return 0
        try:
            status = func(ctx, args)
        except UsageError as e:
            ctx.err(f"{name}: {e}\nusage: {USAGE.get(name, name)}\n")
            status = e.code
        except CommandError as e:
            ctx.err(f"{name}: {e}\n")
            status = e.code
        except ExitShell:
            raise
        except OSError as e:
            ctx.err(f"{name}: {_os_error_text(e)}\n")
            status = 1
        except RecursionError:
            ctx.err(f"{name}: input nested too deeply\n")
            status = 1
        except Exception as e:
            ctx.err(f"{name}: internal error: {e.__class__.__name__}: {e}\n")
            status = 1
        if status is None:
            status = 1 if ctx.failed else 0
        return status


def run(command, python_runner=None):
    """Runs a command line; returns {"stdout", "stderr", "exit_code"}."""
    try:
        return Shell(python_runner).execute(command)
    except Exception as e:   # never raise for anything the user typed
        return {"stdout": "", "stderr": f"sh: internal error: {e.__class__.__name__}: {e}\n",
                "exit_code": 1}
