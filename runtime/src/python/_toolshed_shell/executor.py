"""The executor: the environment (ENV), output sinks, word expansion,
redirections, pipelines and and-or lists, and the dispatch of each command
to its builtin. run() is the entry point."""

import contextlib
import glob
import os
import random
import re
import time

from .arith import evaluate
from .cond import CondEval
from .errors import (CommandError, ExitShell, FatalExpansion, ShellSyntaxError, UsageError,
                     _os_error_text)
from .lexer import Word, word_parts
from .parser import (Arith, ArithFor, Case, Command, Cond, For, FuncDef, Group, If, Subshell,
                     While, parse)
from .registry import BUILTINS, USAGE, VIRTUAL_FILES, _read_text
from .special import SPECIAL as _SPECIAL


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


# --- input ------------------------------------------------------------------

class Input:
    """A command's standard input: text read by whoever reads it first.
    A loop's `read` takes one line at a time; any other command reading
    stdin takes the rest (as a process reading to EOF would)."""

    def __init__(self, text=""):
        self.text = text or ""
        self.pos = 0

    def rest(self):
        out = self.text[self.pos:]
        self.pos = len(self.text)
        return out

    def readline(self, delim="\n"):
        """The next record without its delimiter, and whether one was there
        (None at end of input)."""
        if self.pos >= len(self.text):
            return None
        if delim == "":
            delim = "\0"
        k = self.text.find(delim, self.pos)
        if k < 0:
            line = self.text[self.pos:]
            self.pos = len(self.text)
            return line, False
        line = self.text[self.pos:k]
        self.pos = k + len(delim)
        return line, True


class _IO:
    __slots__ = ("inp", "out", "err")

    def __init__(self, inp, out, err):
        self.inp, self.out, self.err = inp, out, err


# --- control flow -----------------------------------------------------------

class _Break(Exception):
    def __init__(self, levels):
        self.levels = levels


class _Continue(Exception):
    def __init__(self, levels):
        self.levels = levels


class _Return(Exception):
    def __init__(self, code):
        self.code = code


# Most nested function calls (bash's FUNCNEST, here to keep Python's stack).
MAX_FUNCTION_DEPTH = 64
# Most nested command substitutions, evals and sources.
MAX_EVAL_DEPTH = 50


# --- executor ---------------------------------------------------------------

class Context:
    """What a builtin sees: its name, stdin text (read on first use),
    output streams, env."""

    def __init__(self, shell, name, stdin, stdout, stderr, env):
        self.shell = shell
        self.name = name
        self._stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.failed = False

    @property
    def stdin(self):
        if isinstance(self._stdin, Input):
            self._stdin = self._stdin.rest()
        return self._stdin

    @property
    def input(self):
        """The stdin stream itself (for `read`)."""
        if not isinstance(self._stdin, Input):
            self._stdin = Input(self._stdin)
        return self._stdin

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
        self.params = []          # $1 ...
        self.funcs = {}
        self.locals = []          # per function call: {name: saved value or None}
        self.options = {"errexit": False, "nounset": False, "pipefail": False, "xtrace": False}
        self.func_depth = 0
        self.eval_depth = 0
        self.loop_depth = 0
        self.in_condition = 0
        self.exit_trap = None
        self.integers = set()     # names declared -i: assignments are arithmetic
        self.started = time.monotonic()
        self.random = random.Random()

    def execute(self, command):
        try:
            script = parse(command)
        except ShellSyntaxError as e:
            return {"stdout": "", "stderr": f"{e}\n", "exit_code": e.code}
        io = _IO(Input(""), self.stdout, self.stderr)
        VIRTUAL_FILES.clear()
        try:
            self.run_list(script, io)
        except ExitShell as e:
            self.status = e.code
        except (_Break, _Continue):
            pass
        except _Return as e:
            self.status = e.code
        except RecursionError:
            self.stderr.write("sh: maximum nesting depth exceeded\n")
            self.status = 1
        except Exception as e:   # a bug here must not break the caller
            self.stderr.write(f"sh: internal error: {e.__class__.__name__}: {e}\n")
            self.status = 1
        finally:
            self.run_exit_trap(io)
            VIRTUAL_FILES.clear()
        return {"stdout": self.stdout.getvalue(), "stderr": self.stderr.getvalue(),
                "exit_code": self.status}

    def run_exit_trap(self, io):
        """Runs the EXIT trap once; the status stays the command line's."""
        trap, self.exit_trap = self.exit_trap, None
        if not trap:
            return
        status = self.status
        try:
            self.run_list(parse(trap), io)
        except (ShellSyntaxError, CommandError) as e:
            self.stderr.write(f"sh: trap: {e}\n")
        except (ExitShell, _Break, _Continue, _Return):
            pass
        self.status = status

    # variables

    def get_var(self, name):
        """The value of a variable, or None when it is unset."""
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return str(len(self.params))
        if name == "0":
            return "sh"
        if name in ("@", "*"):
            return " ".join(self.params)
        if name == "!":
            return ""
        if name == "RANDOM" and name not in self.vars:
            return str(self.random.randrange(32768))
        if name == "SECONDS" and name not in self.vars:
            return str(int(time.monotonic() - self.started))
        if name == "-":
            return "".join(f for f, o in (("e", "errexit"), ("u", "nounset"), ("x", "xtrace"))
                           if self.options[o])
        if name.isdigit():
            k = int(name)
            return self.params[k - 1] if 0 < k <= len(self.params) else None
        if name in self.vars:
            return self.vars[name]
        return ENV.get(name)

    def set_var(self, name, value):
        # Plain assignments last for this run() only; a variable that is
        # also in ENV is shadowed (and passed to commands) but ENV itself
        # only changes through `export`.
        if name in self.integers:
            value = str(evaluate(value, self)) if value.strip() else "0"
        self.vars[name] = value

    def unset_var(self, name):
        self.vars.pop(name, None)
        ENV.pop(name, None)

    def command_env(self, assigns):
        env = dict(ENV)
        env.update((k, v) for k, v in self.vars.items() if k in ENV)
        env.update(assigns)
        return env

    def expand_var(self, part):
        _, name, quoted, op, arg = part
        value = self.get_var(name)
        if op == "len":
            if name in ("@", "*"):
                return str(len(self.params))
            return str(len(value or ""))
        if op is None:
            if value is None and self.options["nounset"] and name not in ("@", "*"):
                self.unbound(name)
            return value or ""
        if op in (":-", "-", ":=", "=", ":+", "+", ":?", "?"):
            unset = value is None or (op.startswith(":") and value == "")
            if op in (":-", "-"):
                return self.expand_operand(arg, quoted) if unset else value
            if op in (":=", "="):
                if unset:
                    value = self.expand_operand(arg, quoted)
                    self.set_var(name, value)
                return value
            if op in (":+", "+"):
                return "" if unset else self.expand_operand(arg, quoted)
            if unset:
                message = self.expand_operand(arg, quoted) or "parameter null or not set"
                raise FatalExpansion(f"{name}: {message}", 127)
            return value
        if value is None and self.options["nounset"]:
            self.unbound(name)
        value = value or ""
        if op == ":":
            return self.substring(value, arg)
        if op in ("%", "%%", "#", "##"):
            regex = self.pattern_regex(self.operand_segments(arg, quoted), anchored=False)
            return _trim(value, regex, op)
        if op in ("/", "//", "/#", "/%"):
            pat, sep, rep = _split_replacement(arg)
            regex = self.pattern_regex(self.operand_segments(pat, quoted), anchored=False)
            rep = self.expand_operand(rep, quoted) if sep else ""
            return _replace(value, regex, rep, op)
        if op in ("^", "^^", ",", ",,"):
            upper = op.startswith("^")
            if op in ("^", ","):
                return (value[:1].upper() if upper else value[:1].lower()) + value[1:]
            return value.upper() if upper else value.lower()
        raise CommandError(f"${{{name}{op}{arg}}}: bad substitution")

    def unbound(self, name):
        self.stderr.write(f"sh: {name}: unbound variable\n")
        raise ExitShell(1)

    def substring(self, value, arg):
        offset, _, length = arg.partition(":")
        start = evaluate(offset, self) if offset.strip() else 0
        if start < 0:
            start = max(len(value) + start, 0)
        if not _:
            return value[start:]
        count = evaluate(length, self)
        if count < 0:
            end = len(value) + count
            if end < start:
                raise CommandError(f"{length.strip()}: substring expression < 0")
            return value[start:end]
        return value[start:start + count]

    def expand_operand(self, text, quoted):
        return self.expand_plain(word_parts(text, quoted))

    def operand_segments(self, text, quoted):
        """(text, globbable) segments of a pattern operand: double quotes
        around the whole ${...} do not quote its pattern; quotes inside
        it do."""
        return self.segments(word_parts(text, False))

    @staticmethod
    def pattern_regex(segs, anchored=True):
        """A regular expression for a shell pattern: * ? [...] where the
        segment is unquoted, literal text elsewhere."""
        out = []
        for text, glob_ok in segs:
            if not glob_ok:
                out.append(re.escape(text))
                continue
            i = 0
            while i < len(text):
                c = text[i]
                if c == "*":
                    out.append(".*")
                elif c == "?":
                    out.append(".")
                elif c == "[":
                    j = i + 1
                    if j < len(text) and text[j] in "!^":
                        j += 1
                    if j < len(text) and text[j] == "]":
                        j += 1
                    while j < len(text) and text[j] != "]":
                        j += 1
                    if j >= len(text):
                        out.append("\\[")
                    else:
                        body = text[i + 1:j]
                        if body[:1] in "!^":
                            body = "^" + body[1:]
                        body = body.replace("\\", "\\\\")
                        body = re.sub(r"\[:(\w+):\]", lambda m: _CLASSES.get(m.group(1), m.group(0)), body)
                        out.append(f"[{body}]")
                        i = j
                elif c == "\\" and i + 1 < len(text):
                    i += 1
                    out.append(re.escape(text[i]))
                else:
                    out.append(re.escape(c))
                i += 1
        regex = "".join(out)
        return re.compile(f"(?s:{regex})\\Z" if anchored else f"(?s:{regex})")

    # word expansion

    def segments(self, parts):
        """Expands parts into (text, globbable) segments, no splitting."""
        segs = []
        for part in parts:
            kind = part[0]
            if kind == "lit":
                segs.append((part[1], not part[2]))
            elif kind == "tilde":
                segs.append((self.get_var("HOME") or "~", False))
            else:
                segs.append((self.expand_part(part), False))
        return segs

    def expand_part(self, part):
        kind = part[0]
        if kind == "var":
            return self.expand_var(part)
        if kind == "cmdsub":
            return self.command_substitution(part[1])
        if kind == "arith":
            return str(evaluate(self.expand_plain(word_parts(part[1], True)), self))
        if kind == "procsub":
            path = f"/dev/fd/{63 - len(VIRTUAL_FILES)}"
            VIRTUAL_FILES[path] = self.command_substitution(part[1], keep_newlines=True)
            return path
        raise CommandError(f"unknown expansion {kind}")

    def expand_word(self, word):
        """Expands one word into fields: brace expansion, then expansions,
        field splitting of unquoted expansions, then globbing of unquoted
        glob characters."""
        words = brace_expand(word)
        if len(words) == 1:
            return self.expand_fields(words[0])
        return [field for w in words for field in self.expand_fields(w)]

    def expand_fields(self, word):
        fields = []
        cur = []        # (text, globbable) segments of the current field
        have = False    # the field exists even if empty (it had quotes)
        for part in word.parts:
            kind = part[0]
            if kind == "lit":
                cur.append((part[1], not part[2]))
                have = have or part[2]
                continue
            if kind == "tilde":
                cur.append((self.get_var("HOME") or "~", False))
                continue
            if kind == "var" and part[1] == "@" and part[3] is None and part[2]:
                # "$@": one field per parameter.
                for k, param in enumerate(self.params):
                    if k:
                        fields.append(cur)
                        cur = []
                    cur.append((param, False))
                    have = True
                continue
            value = self.expand_part(part)
            if part[2]:
                cur.append((value, False))
                have = True
                continue
            pieces, lead, trail = self.split_fields(value)
            if lead and (cur or have):
                fields.append(cur)
                cur, have = [], False
            for k, piece in enumerate(pieces):
                if k:
                    fields.append(cur)
                    cur, have = [], False
                cur.append((piece, True))
            if pieces and trail:
                fields.append(cur)
                cur, have = [], False
        if cur or have:
            fields.append(cur)
        result = []
        for segs in fields:
            result.extend(self.glob_field(segs))
        return result

    def split_fields(self, value):
        """Field splitting by IFS: the pieces, and whether the value began
        and ended with a separator."""
        ifs = self.get_var("IFS")
        if ifs is None:
            ifs = " \t\n"
        if ifs == "":
            return ([value] if value else []), False, False
        white = "".join(c for c in ifs if c in " \t\n")
        other = "".join(c for c in ifs if c not in " \t\n")
        if not other:
            pieces = value.split(None) if white == " \t\n" else [p for p in re.split(f"[{re.escape(white)}]+", value) if p]
            return pieces, value[:1] in white and value != "", value[-1:] in white and value != ""
        ws = f"[{re.escape(white)}]*" if white else ""
        sep = re.compile(f"{ws}[{re.escape(other)}]{ws}|[{re.escape(white)}]+" if white else f"[{re.escape(other)}]")
        stripped = value.strip(white) if white else value
        if stripped == "":
            return [], bool(value), bool(value)
        pieces = sep.split(stripped)
        if pieces and pieces[-1] == "":
            pieces.pop()
        return pieces, value[:1] in white if white else False, value[-1:] in white if white else False

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
        here-documents, operands)."""
        return "".join(text for text, _ in self.segments(parts))

    def command_substitution(self, source, keep_newlines=False):
        """The output of `source` run in a subshell, trailing newlines cut
        (kept for a process substitution)."""
        if self.eval_depth >= MAX_EVAL_DEPTH:
            raise CommandError("command substitutions nested too deeply")
        try:
            script = parse(source)
        except ShellSyntaxError as e:
            raise CommandError(str(e).removeprefix("sh: "), 2)
        sink = _Sink()
        with self.subshell():
            self.eval_depth += 1
            try:
                self.run_list(script, _IO(Input(""), sink, self.stderr))
            except ExitShell as e:
                self.status = e.code
            except (_Break, _Continue):
                pass
            finally:
                self.eval_depth -= 1
            status = self.status
        self.status = status
        return sink.getvalue() if keep_newlines else sink.getvalue().rstrip("\n")

    @contextlib.contextmanager
    def subshell(self):
        """Changes to variables, functions, options, the environment and the
        working directory inside do not last."""
        saved = (dict(self.vars), dict(ENV), list(self.params), dict(self.funcs),
                 dict(self.options), [dict(frame) for frame in self.locals], set(self.integers))
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = None
        try:
            yield
        finally:
            self.vars, env, self.params, self.funcs, self.options, self.locals, self.integers = saved
            ENV.clear()
            ENV.update(env)
            if cwd is not None:
                try:
                    os.chdir(cwd)
                except OSError:
                    pass

    # running

    def run_list(self, items, io):
        status = 0
        for item in items:
            status = self.run_and_or(item, io)
        return status

    def condition(self, items, io):
        """Runs a list whose status is tested (set -e does not apply)."""
        self.in_condition += 1
        try:
            return self.run_list(items, io)
        finally:
            self.in_condition -= 1

    def run_and_or(self, item, io):
        if not item.rest:
            status = self.run_pipeline(item.first, io)
            self.check_errexit(status, item.first.negate)
            return status
        self.in_condition += 1
        try:
            status = self.run_pipeline(item.first, io)
        finally:
            self.in_condition -= 1
        for k, (op, pipeline) in enumerate(item.rest):
            if (op == "&&") != (status == 0):
                continue
            if k == len(item.rest) - 1:
                # Only the command after the last && or || trips set -e.
                status = self.run_pipeline(pipeline, io)
                self.check_errexit(status, pipeline.negate)
            else:
                self.in_condition += 1
                try:
                    status = self.run_pipeline(pipeline, io)
                finally:
                    self.in_condition -= 1
        return status

    def check_errexit(self, status, negated):
        if status and self.options["errexit"] and not self.in_condition and not negated:
            raise ExitShell(status)

    def run_pipeline(self, pipeline, io):
        commands = pipeline.commands
        if len(commands) == 1:
            status = self.run_command(commands[0], io)
        else:
            data = io.inp
            statuses = []
            for k, cmd in enumerate(commands):
                last = k == len(commands) - 1
                sink = io.out if last else _Sink()
                with self.subshell():
                    status = self.run_command(cmd, _IO(data if isinstance(data, Input) else Input(data), sink, io.err))
                statuses.append(status)
                if not last:
                    data = sink.getvalue()
            status = statuses[-1]
            if self.options["pipefail"]:
                status = next((s for s in reversed(statuses) if s), 0)
        if pipeline.negate:
            status = 0 if status else 1
        self.status = status
        return status

    def run_command(self, cmd, io):
        if isinstance(cmd, FuncDef):
            self.funcs[cmd.name] = cmd.body
            self.status = 0
            return 0
        if isinstance(cmd, Command):
            return self.run_simple(cmd, io)
        return self.run_compound(cmd, io)

    def redirected(self, redirects, io, opened):
        """The IO of a command after its redirections (CommandError when
        one fails)."""
        fds = {0: io.inp, 1: io.out, 2: io.err}
        for fd, op, word in redirects:
            self.apply_redirect(fds, fd, op, word, opened)
        inp = fds[0]
        return _IO(inp if isinstance(inp, Input) else Input(inp), fds[1], fds[2])

    @staticmethod
    def close_all(opened):
        closed = set()
        for sink in opened:
            if id(sink) not in closed:
                closed.add(id(sink))
                try:
                    sink.close()
                except OSError:
                    pass

    def run_compound(self, node, io):
        opened = []
        try:
            try:
                io = self.redirected(node.redirects, io, opened)
            except CommandError as e:
                io.err.write(f"sh: {e}\n")
                self.status = e.code
                return e.code
            status = self.compound_body(node, io)
        finally:
            self.close_all(opened)
        self.status = status
        return status

    def compound_body(self, node, io):
        if isinstance(node, Group):
            return self.run_list(node.body, io)
        if isinstance(node, Subshell):
            with self.subshell():
                try:
                    status = self.run_list(node.body, io)
                except ExitShell as e:
                    status = e.code
                except (_Break, _Continue):
                    status = 0
            return status
        if isinstance(node, If):
            for cond, body in node.branches:
                if self.condition(cond, io) == 0:
                    return self.run_list(body, io)
            if node.otherwise is not None:
                return self.run_list(node.otherwise, io)
            return 0
        if isinstance(node, While):
            return self.loop(node, io)
        if isinstance(node, For):
            return self.for_loop(node, io)
        if isinstance(node, ArithFor):
            return self.arith_for(node, io)
        if isinstance(node, Case):
            return self.case(node, io)
        if isinstance(node, Arith):
            try:
                value = evaluate(self.expand_plain(word_parts(node.expr, True)), self)
            except CommandError as e:
                io.err.write(f"sh: {e}\n")
                return 1
            return 0 if value else 1
        if isinstance(node, Cond):
            try:
                return 0 if CondEval(self, node.items).run() else 1
            except CommandError as e:
                io.err.write(f"sh: {e}\n")
                return 2
        raise CommandError(f"unknown command {node.__class__.__name__}")

    def iterate(self, body, io):
        """Runs a loop body once: 'break', 'continue' or the status."""
        try:
            return self.run_list(body, io)
        except _Break as b:
            if b.levels > 1:
                b.levels -= 1
                raise
            return "break"
        except _Continue as c:
            if c.levels > 1:
                c.levels -= 1
                raise
            return "continue"

    def run_loop(self, rounds, body, io):
        """Runs `body` once for each round `rounds` yields (it sets the
        loop variable or tests the condition first; after a `break` it is
        not resumed); returns the last body status."""
        status = 0
        self.loop_depth += 1
        try:
            for _ in rounds:
                ran = self.iterate(body, io)
                if ran == "break":
                    break
                if ran != "continue":
                    status = ran
        finally:
            self.loop_depth -= 1
        return status

    def loop(self, node, io):
        def rounds():
            while (self.condition(node.cond, io) == 0) != node.until:
                yield
        return self.run_loop(rounds(), node.body, io)

    def for_loop(self, node, io):
        if node.words is None:
            values = list(self.params)
        else:
            values = []
            try:
                for word in node.words:
                    values.extend(self.expand_word(word))
            except FatalExpansion as e:
                io.err.write(f"sh: {e}\n")
                raise ExitShell(e.code)
            except CommandError as e:
                io.err.write(f"sh: {e}\n")
                return e.code

        def rounds():
            for value in values:
                self.set_var(node.name, value)
                yield
        return self.run_loop(rounds(), node.body, io)

    def arith_for(self, node, io):
        def arith(text, default):
            text = self.expand_plain(word_parts(text, True))
            return evaluate(text, self) if text.strip() else default

        def rounds():
            arith(node.init, 0)
            while arith(node.cond, 1):
                yield
                arith(node.step, 0)
        try:
            return self.run_loop(rounds(), node.body, io)
        except CommandError as e:
            io.err.write(f"sh: {e}\n")
            return 1

    def case(self, node, io):
        try:
            subject = self.expand_plain(node.word.parts)
        except CommandError as e:
            io.err.write(f"sh: {e}\n")
            return e.code
        status = 0
        falling = False
        for patterns, body, term in node.items:
            if not falling:
                matched = any(self.pattern_regex(self.segments(p.parts)).match(subject) for p in patterns)
                if not matched:
                    continue
            status = self.run_list(body, io)
            if term == ";;":
                return status
            falling = term == ";&"
        return status

    def run_simple(self, cmd, io):
        err = io.err
        try:
            argv = []
            for word in cmd.words:
                argv.extend(self.expand_word(word))
            assigns = []
            for name, parts, append in cmd.assigns:
                value = self.expand_plain(parts)
                if append and name in self.integers:
                    value = str(evaluate(f"({self.get_var(name) or 0}) + ({value or 0})", self))
                elif append:
                    value = (self.get_var(name) or "") + value
                assigns.append((name, value))
        except FatalExpansion as e:
            err.write(f"sh: {e}\n")
            raise ExitShell(e.code)
        except CommandError as e:
            err.write(f"sh: {e}\n")
            self.status = e.code
            return e.code
        if self.options["xtrace"] and argv:
            err.write("+ " + " ".join(argv) + "\n")
        opened = []
        try:
            try:
                cio = self.redirected(cmd.redirects, io, opened)
            except CommandError as e:
                err.write(f"sh: {e}\n")
                self.status = e.code
                return e.code
            if not argv:
                for name, value in assigns:
                    self.set_var(name, value)
                # The status of a bare assignment is that of its last
                # command substitution, if any.
                if not any(p[0] == "cmdsub" for _, parts, _ in cmd.assigns for p in parts):
                    self.status = 0
                return self.status
            status = self.dispatch(argv, cio, assigns)
            self.status = status
            return status
        finally:
            self.close_all(opened)

    def apply_redirect(self, fds, fd, op, word, opened):
        if op in ("<<", "<<-"):
            fds[0] = self.expand_plain(word.heredoc or [])
            return
        if op == "<<<":
            fds[0] = self.expand_plain(word.parts) + "\n"
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

    def call_function(self, name, args, io):
        if self.func_depth >= MAX_FUNCTION_DEPTH:
            io.err.write(f"sh: {name}: maximum function nesting level exceeded ({MAX_FUNCTION_DEPTH})\n")
            raise ExitShell(1)
        saved_params = self.params
        self.params = list(args)
        self.locals.append({})
        self.func_depth += 1
        try:
            status = self.run_command(self.funcs[name], io)
        except _Return as r:
            status = r.code
        finally:
            self.func_depth -= 1
            frame = self.locals.pop()
            for var, old in frame.items():
                if old is None:
                    self.vars.pop(var, None)
                else:
                    self.vars[var] = old
            self.params = saved_params
        return status

    def run_source(self, source, stdin, stdout, stderr):
        """Runs command text in a subshell with `stdin` (awk's print | cmd);
        returns its status."""
        if self.eval_depth >= MAX_EVAL_DEPTH:
            raise CommandError("commands nested too deeply")
        try:
            script = parse(source)
        except ShellSyntaxError as e:
            stderr.write(f"{e}\n")
            return e.code
        with self.subshell():
            self.eval_depth += 1
            try:
                return self.run_list(script, _IO(Input(stdin), stdout, stderr))
            except ExitShell as e:
                return e.code
            finally:
                self.eval_depth -= 1

    def run_argv(self, argv, stdin, stdout, stderr, env):
        """Runs a command for a builtin that runs commands (env, xargs)."""
        return self.dispatch(argv, _IO(Input(stdin), stdout, stderr), [], env)

    def dispatch(self, argv, io, assigns, env=None, skip_functions=False):
        """Runs one function or builtin with its arguments; returns its
        exit status."""
        name = argv[0]
        if name in self.funcs and not skip_functions:
            saved = {k: self.vars.get(k) for k, _ in assigns}
            for k, v in assigns:
                self.vars[k] = v
            try:
                return self.call_function(name, argv[1:], io)
            finally:
                for k, old in saved.items():
                    if old is None:
                        self.vars.pop(k, None)
                    else:
                        self.vars[k] = old
        special = _SPECIAL.get(name)
        if special is not None:
            for k, v in assigns:
                self.set_var(k, v)
            ctx = Context(self, name, io.inp, io.out, io.err, self.command_env([]))
            try:
                status = special(self, ctx, argv[1:])
            except CommandError as e:
                ctx.err(f"sh: {name}: {e}\n")
                status = e.code
            return 1 if status is None and ctx.failed else (status or 0)
        func = BUILTINS.get(name)
        if func is None and "/" in name and os.path.dirname(name) in ("/bin", "/usr/bin", "/usr/local/bin"):
            func = BUILTINS.get(os.path.basename(name))
        if func is None:
            io.err.write(f"{name}: command not found\n"
                         f"available commands: {', '.join(sorted(set(BUILTINS) | set(_SPECIAL)))}\n")
            return 127
        ctx = Context(self, name, io.inp, io.out, io.err,
                      env if env is not None else self.command_env(assigns))
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
        except (ExitShell, _Break, _Continue, _Return):
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


# Most words one brace expansion may make.
MAX_BRACE_WORDS = 100_000


def _brace_alternatives(text, start):
    """The alternatives of the brace group opening at text[start] and the
    index after its '}', or None when it is not a brace expansion (no top
    level comma and no sequence)."""
    depth = 0
    commas = []
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                body = text[start + 1:i]
                if commas:
                    cuts = [start] + commas + [i]
                    return [text[cuts[k] + 1:cuts[k + 1]] for k in range(len(cuts) - 1)], i + 1
                seq = _brace_sequence(body)
                return (seq, i + 1) if seq is not None else None
        elif c == "," and depth == 1:
            commas.append(i)
        i += 1
    return None


def _brace_sequence(body):
    m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?", body)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        step = abs(int(m.group(3))) if m.group(3) else 1
        step = step or 1
        count = abs(b - a) // step + 1
        if count > MAX_BRACE_WORDS:
            raise CommandError(f"{{{body}}}: brace expansion makes more than {MAX_BRACE_WORDS} words")
        width = max(len(m.group(1)), len(m.group(2))) if re.match(r"-?0\d", m.group(1)) or re.match(r"-?0\d", m.group(2)) else 0
        values = range(a, b + (1 if b >= a else -1), step if b >= a else -step)
        return [str(v).zfill(width) if width else str(v) for v in values]
    m = re.fullmatch(r"([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?", body)
    if m:
        a, b = ord(m.group(1)), ord(m.group(2))
        step = abs(int(m.group(3))) if m.group(3) else 1
        step = step or 1
        return [chr(v) for v in range(a, b + (1 if b >= a else -1), step if b >= a else -step)]
    return None


def brace_expand(word):
    """A word's brace expansions ({a,b} and {1..5}, nested, in unquoted
    text), as words; the word itself when it has none."""
    for k, part in enumerate(word.parts):
        if part[0] != "lit" or part[2] or "{" not in part[1]:
            continue
        text = part[1]
        start = text.find("{")
        while start >= 0:
            found = _brace_alternatives(text, start)
            if found is not None:
                alternatives, end = found
                out = []
                for alt in alternatives:
                    parts = list(word.parts)
                    parts[k] = ("lit", text[:start] + alt + text[end:], False)
                    expanded = brace_expand(Word(parts))
                    out.extend(expanded)
                    if len(out) > MAX_BRACE_WORDS:
                        raise CommandError(f"brace expansion makes more than {MAX_BRACE_WORDS} words")
                return out
            start = text.find("{", start + 1)
    return [word]


_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
            "space": " \\t\\n\\r\\f\\v", "punct": "!-/:-@\\[-`{-~", "xdigit": "0-9A-Fa-f",
            "blank": " \\t", "word": "a-zA-Z0-9_"}


def _trim(value, regex, op):
    """${v%p} ${v%%p} ${v#p} ${v##p}."""
    n = len(value)
    if op in ("#", "##"):
        ends = range(0, n + 1) if op == "#" else range(n, -1, -1)
        for end in ends:
            if regex.fullmatch(value, 0, end):
                return value[end:]
        return value
    starts = range(n, -1, -1) if op == "%" else range(0, n + 1)
    for start in starts:
        if regex.fullmatch(value, start, n):
            return value[:start]
    return value


def _split_replacement(arg):
    """PATTERN/REPLACEMENT of ${v/PATTERN/REPLACEMENT} (a / escaped with \\
    or inside quotes belongs to the pattern)."""
    i = 0
    quote = None
    while i < len(arg):
        c = arg[i]
        if c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "/":
            return arg[:i], "/", arg[i + 1:]
        i += 1
    return arg, "", ""


def _replace(value, regex, rep, op):
    n = len(value)
    if op == "/#":
        for end in range(n, -1, -1):
            if regex.fullmatch(value, 0, end):
                return rep + value[end:]
        return value
    if op == "/%":
        for start in range(0, n + 1):
            if regex.fullmatch(value, start, n):
                return value[:start] + rep
        return value
    out = []
    i = 0
    done = False
    while i <= n:
        if not done:
            match = None
            for end in range(n, i - 1, -1):
                if end > i and regex.fullmatch(value, i, end):
                    match = end
                    break
            if match is not None:
                out.append(rep)
                i = match
                done = op == "/"
                continue
        if i < n:
            out.append(value[i])
        i += 1
    return "".join(out)


def run(command, python_runner=None):
    """Runs a command line; returns {"stdout", "stderr", "exit_code"}."""
    try:
        return Shell(python_runner).execute(command)
    except Exception as e:   # never raise for anything the user typed
        return {"stdout": "", "stderr": f"sh: internal error: {e.__class__.__name__}: {e}\n",
                "exit_code": 1}
