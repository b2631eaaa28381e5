"""A small POSIX-like shell written in pure Python, for the sandbox.

The COMPOSIO_REMOTE_BASH_TOOL meta tool runs its commands here. The sandbox
has no processes, no threads and no network, so nothing is ever spawned:
every command is a Python function (a "builtin") that reads its standard
input as a string and writes its output to string buffers or files.

    run(command, python_runner=None) -> {"stdout": ..., "stderr": ..., "exit_code": ...}

How it works, in four parts:

1. The tokenizer turns the command text into words and operators. A word
   keeps its quoting: each part is a literal (quoted or not), a variable
   reference ($VAR, ${VAR}, $?) or a tilde. Here-documents (<<EOF) are
   read here too.
2. The parser builds a small AST: a script is a list of and-or lists
   (a && b || c), each made of pipelines (a | b), each made of simple
   commands (assignments, words and redirections). Syntax this shell does
   not have (subshells, $(...), backticks, loops, if, functions, background
   jobs) is rejected before anything runs, with exit code 2.
3. The executor expands words at run time ($VAR, field splitting of
   unquoted expansions, globbing sorted and left as-is when nothing
   matches), applies redirections (> >> < 2> 2>&1 &> <<EOF <<<) and runs
   each pipeline stage in turn, the stdout of one being the stdin of the
   next.
4. The builtins: one function per command, registered in BUILTINS. They
   follow GNU coreutils for the flags they support; an unknown flag is an
   error with exit code 2. An unknown command prints the list of builtins
   and exits with 127.

State: run() starts a fresh shell each time. Only two things outlive a
call, like in a persistent shell: the working directory (`cd` changes
os.getcwd()) and exported variables (`export X=1` writes ENV, the
module-level environment seeded from os.environ). Plain assignments
(`X=1`) and $? last for one call.

Differences from bash worth knowing: `du` reports apparent sizes (sum of
file sizes), `ls -l` shows numeric owners, `sort` compares code points
(like LC_ALL=C), `date` prints UTC ISO 8601 time, and `python` needs the
python_runner given to run().
"""

import fnmatch
import glob
import itertools
import json
import math
import os
import re
import shlex
import shutil
import stat
import sys
import time


# The environment used for $VAR expansion; `export` writes here and it
# persists between run() calls.
ENV = dict(os.environ)


# --- errors -----------------------------------------------------------------

class ShellSyntaxError(Exception):
    """The command text cannot be run: nothing of it runs."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


class CommandError(Exception):
    """Raised by a builtin; reported on stderr as "name: message"."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


class UsageError(CommandError):
    """A bad flag or a missing operand: exit code 2 and the usage line."""

    def __init__(self, message):
        super().__init__(message, 2)


class ExitShell(Exception):
    """`exit N`: stop the whole command line with status N."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _unsupported(what):
    return ShellSyntaxError(f"sh: {what}: not supported in this sandbox shell", 2)


def _os_error_text(exc):
    """The strerror text coreutils would print for an OSError."""
    if isinstance(exc, FileNotFoundError):
        return "No such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "Is a directory"
    if isinstance(exc, NotADirectoryError):
        return "Not a directory"
    if isinstance(exc, FileExistsError):
        return "File exists"
    if isinstance(exc, PermissionError):
        return "Permission denied"
    return getattr(exc, "strerror", None) or str(exc)


# --- tokenizer --------------------------------------------------------------
#
# A token is ('word', Word), ('op', text) for | || && ; and newline, or
# ('redir', fd, op) where fd is a number or '&' (both stdout and stderr) and
# op is one of > >> >& < << <<- <<<. The redirection target is the word
# token that follows.

class Word:
    """One shell word, as a list of parts that keep their quoting:
    ('lit', text, quoted), ('var', name, quoted, op, arg) or ('tilde',).
    A here-document delimiter word also carries the document's parts."""

    __slots__ = ("parts", "heredoc")

    def __init__(self, parts=None):
        self.parts = parts if parts is not None else []
        self.heredoc = None

    def literal(self):
        """The text when the word is one plain unquoted literal, else None."""
        if len(self.parts) == 1 and self.parts[0][0] == "lit" and not self.parts[0][2]:
            return self.parts[0][1]
        return None

    def text(self):
        """The word as written, roughly (for error messages)."""
        out = []
        for part in self.parts:
            if part[0] == "lit":
                out.append(part[1])
            elif part[0] == "tilde":
                out.append("~")
            else:
                out.append("$" + part[1])
        return "".join(out)


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_RE = re.compile(r"(#?)([A-Za-z_][A-Za-z0-9_]*|[?$#!@*0-9])(?:(:?[-=+?])(.*))?\Z", re.S)


def _read_dollar(src, i, quoted):
    """Reads the expansion starting at src[i] == '$'; returns (part, next index)."""
    n = len(src)
    j = i + 1
    if j >= n:
        return ("lit", "$", quoted), j
    c = src[j]
    if c == "(":
        if src.startswith("((", j):
            raise _unsupported("arithmetic expansion $((...))")
        raise _unsupported("command substitution $(...)")
    if c == "{":
        k = src.find("}", j)
        if k < 0:
            raise ShellSyntaxError("sh: bad substitution: missing '}'")
        body = src[j + 1:k]
        m = _BRACED_RE.match(body)
        if not m or (m.group(1) and m.group(3)):
            raise ShellSyntaxError("sh: ${%s}: bad substitution" % body, 1)
        length, name, op, arg = m.groups()
        return ("var", name, quoted, "#" if length else op, arg or ""), k + 1
    m = _NAME_RE.match(src, j)
    if m:
        return ("var", m.group(), quoted, None, ""), m.end()
    if c in "?$#!@*-0123456789":
        return ("var", c, quoted, None, ""), j + 1
    return ("lit", "$", quoted), j


def _heredoc_parts(body):
    """The parts of an unquoted here-document: $VAR expands, \\$ escapes."""
    parts = []
    buf = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n and body[i + 1] in "$`\\\n":
            if body[i + 1] != "\n":
                buf.append(body[i + 1])
            i += 2
        elif c == "$":
            if buf:
                parts.append(("lit", "".join(buf), True))
                buf = []
            part, i = _read_dollar(body, i, True)
            parts.append(part)
        elif c == "`":
            raise _unsupported("command substitution with backticks")
        else:
            buf.append(c)
            i += 1
    if buf:
        parts.append(("lit", "".join(buf), True))
    return parts


class _Tokenizer:
    def __init__(self, src):
        self.src = src
        self.i = 0
        self.tokens = []
        self.word = None
        self.want_delim = None   # a here-document operator waiting for its delimiter
        self.pending = []        # (delimiter word, strip tabs) waiting for a body

    def add(self, kind, *data):
        if self.word is None:
            self.word = Word()
        parts = self.word.parts
        if kind == "lit" and parts and parts[-1][0] == "lit" and parts[-1][2] == data[1]:
            parts[-1] = ("lit", parts[-1][1] + data[0], data[1])
        else:
            parts.append((kind,) + data)

    def add_part(self, part):
        if part[0] == "lit":
            self.add("lit", part[1], part[2])
        else:
            self.add(*part)

    def flush(self):
        if self.word is not None:
            if self.want_delim is not None:
                self.pending.append((self.word, self.want_delim == "<<-"))
                self.want_delim = None
            self.tokens.append(("word", self.word))
            self.word = None

    def run(self):
        src = self.src
        n = len(src)
        while self.i < n:
            c = src[self.i]
            if c in " \t\r":
                self.flush()
                self.i += 1
            elif c == "\n":
                self.flush()
                self.tokens.append(("op", "\n"))
                self.i += 1
                self.read_heredocs()
            elif c == "#" and self.word is None:
                j = src.find("\n", self.i)
                self.i = n if j < 0 else j
            elif c == "\\":
                if self.i + 1 < n:
                    if src[self.i + 1] != "\n":
                        self.add("lit", src[self.i + 1], True)
                    self.i += 2
                else:
                    self.add("lit", "\\", True)
                    self.i += 1
            elif c == "'":
                j = src.find("'", self.i + 1)
                if j < 0:
                    raise ShellSyntaxError("sh: syntax error: unterminated single-quoted string")
                self.add("lit", src[self.i + 1:j], True)
                self.i = j + 1
            elif c == '"':
                self.read_dquote()
            elif c == "$":
                part, self.i = _read_dollar(src, self.i, False)
                self.add_part(part)
            elif c == "`":
                raise _unsupported("command substitution with backticks")
            elif c in "()":
                raise _unsupported("subshells and grouping with '(' ')'")
            elif c in "|&;<>":
                self.read_operator()
            elif c == "~" and self.word is None and (self.i + 1 >= n or src[self.i + 1] in "/ \t\n;|&<>"):
                self.add("tilde")
                self.i += 1
            else:
                self.add("lit", c, False)
                self.i += 1
        self.flush()
        if self.want_delim is not None:
            raise ShellSyntaxError("sh: syntax error near unexpected token `newline'")
        self.read_heredocs()
        return self.tokens

    def read_dquote(self):
        src = self.src
        n = len(src)
        j = self.i + 1
        buf = []
        self.add("lit", "", True)
        while True:
            if j >= n:
                raise ShellSyntaxError("sh: syntax error: unterminated double-quoted string")
            c = src[j]
            if c == '"':
                j += 1
                break
            if c == "\\" and j + 1 < n and src[j + 1] in '$`"\\\n':
                if src[j + 1] != "\n":
                    buf.append(src[j + 1])
                j += 2
            elif c == "$":
                if buf:
                    self.add("lit", "".join(buf), True)
                    buf = []
                part, j = _read_dollar(src, j, True)
                self.add_part(part)
            elif c == "`":
                raise _unsupported("command substitution with backticks")
            else:
                buf.append(c)
                j += 1
        if buf:
            self.add("lit", "".join(buf), True)
        self.i = j

    def read_operator(self):
        src = self.src
        i = self.i
        c = src[i]
        two = src[i:i + 2]
        three = src[i:i + 3]
        fd = None
        if c in "<>" and self.word is not None:
            lit = self.word.literal()
            if lit is not None and re.fullmatch(r"[0-9]+", lit):   # 2>file, 2>&1
                fd = int(lit)
                self.word = None
        self.flush()
        if self.want_delim is not None:
            raise ShellSyntaxError(f"sh: syntax error near unexpected token `{c}'")
        toks = self.tokens
        if c == "|":
            if two == "||":
                toks.append(("op", "||"))
                i += 2
            elif two == "|&":
                toks.append(("redir", 2, ">&"))
                toks.append(("word", Word([("lit", "1", False)])))
                toks.append(("op", "|"))
                i += 2
            else:
                toks.append(("op", "|"))
                i += 1
        elif c == "&":
            if two == "&&":
                toks.append(("op", "&&"))
                i += 2
            elif three == "&>>":
                toks.append(("redir", "&", ">>"))
                i += 3
            elif two == "&>":
                toks.append(("redir", "&", ">"))
                i += 2
            else:
                raise _unsupported("background jobs with '&'")
        elif c == ";":
            if two == ";;":
                raise ShellSyntaxError("sh: syntax error near unexpected token `;;'")
            toks.append(("op", ";"))
            i += 1
        elif c == ">":
            out_fd = 1 if fd is None else fd
            if two == ">>":
                toks.append(("redir", out_fd, ">>"))
                i += 2
            elif two == ">&":
                toks.append(("redir", out_fd, ">&"))
                i += 2
            elif two == ">|":
                toks.append(("redir", out_fd, ">"))
                i += 2
            else:
                toks.append(("redir", out_fd, ">"))
                i += 1
        else:
            in_fd = 0 if fd is None else fd
            if three == "<<<":
                toks.append(("redir", in_fd, "<<<"))
                i += 3
            elif three == "<<-" or two == "<<":
                op = "<<-" if three == "<<-" else "<<"
                toks.append(("redir", in_fd, op))
                self.want_delim = op
                i += len(op)
            elif two in ("<&", "<>"):
                raise _unsupported(f"the '{two}' redirection")
            else:
                toks.append(("redir", in_fd, "<"))
                i += 1
        self.i = i

    def read_heredocs(self):
        src = self.src
        for word, strip in self.pending:
            delim = "".join(p[1] for p in word.parts if p[0] == "lit")
            quoted = any(p[0] != "lit" or p[2] for p in word.parts)
            lines = []
            while self.i < len(src):
                j = src.find("\n", self.i)
                if j < 0:
                    line = src[self.i:]
                    self.i = len(src)
                else:
                    line = src[self.i:j]
                    self.i = j + 1
                if strip:
                    line = line.lstrip("\t")
                if line.rstrip("\r") == delim:
                    break
                lines.append(line + "\n")
            body = "".join(lines)
            word.heredoc = [("lit", body, True)] if quoted else _heredoc_parts(body)
        self.pending = []


def tokenize(src):
    return _Tokenizer(src).run()


# --- parser -----------------------------------------------------------------

class Command:
    """A simple command: NAME=value prefixes, words and redirections."""

    def __init__(self):
        self.assigns = []     # (name, parts)
        self.words = []       # Word
        self.redirects = []   # (fd, op, Word)


class Pipeline:
    def __init__(self, commands, negate=False):
        self.commands = commands
        self.negate = negate


class AndOr:
    """A pipeline followed by ('&&' | '||', pipeline) pairs."""

    def __init__(self, first, rest):
        self.first = first
        self.rest = rest


_RESERVED = {
    "for": "loops", "while": "loops", "until": "loops", "select": "loops",
    "do": "loops", "done": "loops",
    "if": "if statements", "then": "if statements", "elif": "if statements",
    "else": "if statements", "fi": "if statements",
    "case": "case statements", "esac": "case statements",
    "function": "functions", "{": "command groups", "}": "command groups",
    "[[": "[[ ... ]] tests (use [ ... ])", "]]": "[[ ... ]] tests (use [ ... ])",
}

_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.p = 0

    def peek(self):
        return self.toks[self.p] if self.p < len(self.toks) else None

    @staticmethod
    def is_op(tok, *ops):
        return tok is not None and tok[0] == "op" and tok[1] in ops

    def error(self, tok):
        if tok is None or tok == ("op", "\n"):
            text = "newline"
        elif tok[0] == "word":
            text = tok[1].text()
        elif tok[0] == "redir":
            text = tok[2]
        else:
            text = tok[1]
        raise ShellSyntaxError(f"sh: syntax error near unexpected token `{text}'")

    def skip_newlines(self):
        while self.is_op(self.peek(), "\n"):
            self.p += 1

    def parse(self):
        items = []
        while True:
            self.skip_newlines()
            if self.peek() is None:
                return items
            items.append(self.and_or())
            tok = self.peek()
            if tok is None:
                return items
            if self.is_op(tok, ";", "\n"):
                self.p += 1
                continue
            self.error(tok)

    def and_or(self):
        first = self.pipeline()
        rest = []
        while self.is_op(self.peek(), "&&", "||"):
            op = self.peek()[1]
            self.p += 1
            self.skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest)

    def pipeline(self):
        negate = False
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].literal() == "!":
            negate = True
            self.p += 1
        commands = [self.command()]
        while self.is_op(self.peek(), "|"):
            self.p += 1
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(commands, negate)

    def command(self):
        cmd = Command()
        while True:
            tok = self.peek()
            if tok is None:
                break
            if tok[0] == "redir":
                self.p += 1
                target = self.peek()
                if target is None or target[0] != "word":
                    self.error(target)
                self.p += 1
                cmd.redirects.append((tok[1], tok[2], target[1]))
            elif tok[0] == "word":
                word = tok[1]
                if not cmd.words:
                    lit = word.literal()
                    if lit in _RESERVED:
                        raise _unsupported(f"{_RESERVED[lit]} ('{lit}')")
                    first = word.parts[0] if word.parts else None
                    if first is not None and first[0] == "lit" and not first[2]:
                        m = _ASSIGN_RE.match(first[1])
                        if m:
                            rest = first[1][m.end():]
                            parts = ([("lit", rest, False)] if rest else []) + word.parts[1:]
                            cmd.assigns.append((m.group(1), parts))
                            self.p += 1
                            continue
                cmd.words.append(word)
                self.p += 1
            else:
                break
        if not (cmd.words or cmd.assigns or cmd.redirects):
            self.error(self.peek())
        return cmd


def parse(src):
    """Parses command text into a list of AndOr items."""
    return _Parser(tokenize(src)).parse()


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


# --- builtin helpers --------------------------------------------------------

BUILTINS = {}
USAGE = {}


def builtin(*names, usage=""):
    """Registers a function as the builtin(s) `names`."""
    def register(func):
        for name in names:
            BUILTINS[name] = func
            USAGE[name] = usage.replace(names[0], name, 1) if usage.startswith(names[0]) else usage
        return func
    return register


def _parse_opts(args, flags="", valued=(), longs=None, stop_at_operand=False):
    """GNU-style option parsing. `flags` are boolean short options, `valued`
    the options taking a value (short letters or long-only keys), `longs`
    maps long option names to keys. Options may follow operands unless
    stop_at_operand. Returns (opts, operands): opts maps a key to True or to
    the list of its values."""
    opts = {}
    operands = []
    longs = longs or {}
    valued = set(valued)
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands.extend(args[i + 1:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            key = longs.get(name)
            if key is None:
                raise UsageError(f"unrecognized option '{a}'")
            if key in valued:
                if not eq:
                    if i + 1 >= len(args):
                        raise UsageError(f"option '--{name}' requires an argument")
                    i += 1
                    val = args[i]
                opts.setdefault(key, []).append(val)
            else:
                opts[key] = True
        elif a.startswith("-") and a != "-":
            j = 1
            while j < len(a):
                ch = a[j]
                if ch in valued:
                    val = a[j + 1:]
                    if not val:
                        if i + 1 >= len(args):
                            raise UsageError(f"option requires an argument -- '{ch}'")
                        i += 1
                        val = args[i]
                    opts.setdefault(ch, []).append(val)
                    break
                if ch in flags:
                    opts[ch] = True
                    j += 1
                else:
                    raise UsageError(f"invalid option -- '{ch}'")
        else:
            operands.append(a)
            if stop_at_operand:
                operands.extend(args[i + 1:])
                break
        i += 1
    return opts, operands


def _last(opts, key, default=None):
    values = opts.get(key)
    return values[-1] if values else default


def _int_arg(text, what):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise CommandError(f"invalid {what}: '{text}'")


def _read_text(path):
    if path == "/dev/null":
        return ""
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        return fh.read()


def _inputs(ctx, files):
    """Yields (name, text) for each file operand ('-' is stdin), or stdin
    alone when there are none; unreadable files are reported and skipped."""
    for name in files or ["-"]:
        if name in ("-", "/dev/stdin"):
            yield "-", ctx.stdin
            continue
        try:
            text = _read_text(name)
        except OSError as e:
            ctx.error(f"{name}: {_os_error_text(e)}")
            continue
        yield name, text


def _split_lines(text):
    """Lines with their newline kept; the last one may lack it."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _human(n):
    """A size the way GNU -h prints it: 512, 4.0K, 12K, 1.5M."""
    if n < 1024:
        return str(int(n))
    value = float(n)
    for unit in "KMGTPE":
        value /= 1024.0
        if value < 1024 or unit == "E":
            if value < 10:
                rounded = math.ceil(value * 10) / 10
                if rounded < 10:
                    return f"{rounded:.1f}{unit}"
            return f"{int(math.ceil(value))}{unit}"
    return str(n)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
                   "v": "\v", "\\": "\\", "e": "\x1b", "E": "\x1b"}


def _unescape(s, echo=False):
    """Backslash escapes of echo -e / printf. Returns (text, stopped) where
    stopped means a \\c ended the output."""
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        d = s[i + 1]
        if d in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[d])
            i += 2
        elif d == "c":
            return "".join(out), True
        elif d == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:i + 4])
            if m:
                out.append(chr(int(m.group(), 16)))
                i += 2 + len(m.group())
            else:
                out.append("\\x")
                i += 2
        elif d in "01234567" and (not echo or d == "0"):
            start = i + 2 if echo else i + 1
            m = re.match(r"[0-7]{1,3}" if not echo else r"[0-7]{0,3}", s[start:start + 3])
            out.append(chr(int(m.group() or "0", 8)))
            i = start + len(m.group())
        elif d in "\"'" and not echo:
            out.append(d)
            i += 2
        else:
            out.append("\\" + d)
            i += 2
    return "".join(out), False


# POSIX character classes, for regular expressions and for tr.
_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_CLASS_CHARS = {
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "digit": "0123456789",
    "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "xdigit": "0123456789ABCDEFabcdef",
    "space": " \t\n\r\f\v",
    "blank": " \t",
    "punct": _PUNCT,
    "cntrl": "".join(chr(c) for c in range(32)) + "\x7f",
}
_CLASS_REGEX = {
    "alpha": "a-zA-Z", "upper": "A-Z", "lower": "a-z", "digit": "0-9",
    "alnum": "a-zA-Z0-9", "xdigit": "0-9A-Fa-f", "space": r" \t\n\r\f\v",
    "blank": r" \t", "punct": "".join("\\" + c for c in _PUNCT),
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
    "word": r"\w",
}


def _bracket(p, i):
    """Translates the POSIX bracket expression at p[i] == '['; returns
    (python text, next index)."""
    n = len(p)
    j = i + 1
    items = ["["]
    if j < n and p[j] == "^":
        items.append("^")
        j += 1
    if j < n and p[j] == "]":
        items.append("\\]")
        j += 1
    while j < n and p[j] != "]":
        if p.startswith("[:", j):
            k = p.find(":]", j + 2)
            if k >= 0 and p[j + 2:k] in _CLASS_REGEX:
                items.append(_CLASS_REGEX[p[j + 2:k]])
                j = k + 2
                continue
        ch = p[j]
        items.append("\\" + ch if ch in "\\[&~|" else ch)
        j += 1
    if j >= n:
        return "\\[", i + 1
    items.append("]")
    return "".join(items), j + 1


def _posix_regex(p, extended):
    """Translates a POSIX basic (grep, sed) or extended (-E) regular
    expression to Python's syntax."""
    out = []
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            d = p[i + 1]
            i += 2
            if d in "<>":
                out.append(r"\b")
            elif not extended and d in "(){}|+?":
                out.append(d)
            elif d.isalnum():
                out.append("\\" + d)
            else:
                out.append(re.escape(d))
            continue
        if c == "[":
            piece, i = _bracket(p, i)
            out.append(piece)
            continue
        if not extended and c in "(){}|+?":
            out.append("\\" + c)
        elif c == "*" and (not out or out[-1] in ("(", "|", "^")):
            out.append(r"\*")
        elif extended and c == "{" and not re.match(r"\{\d*(,\d*)?\}", p[i:]):
            out.append(r"\{")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _compile_regex(pattern, extended, ignore_case=False):
    try:
        return re.compile(_posix_regex(pattern, extended), re.I if ignore_case else 0)
    except re.error as e:
        raise CommandError(f"invalid regular expression '{pattern}': {e}", 2)


# --- builtins: files and directories ----------------------------------------

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
        rows.append((stat.filemode(st.st_mode), str(getattr(st, "st_nlink", 1)),
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

    def __init__(self, tokens):
        self.t = tokens
        self.i = 0
        self.maxdepth = None
        self.mindepth = 0
        self.actions = []

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

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
        if tok in ("-exec", "-execdir", "-ok"):
            raise UsageError(f"{tok} is not supported in this sandbox shell (pipe to xargs instead)")
        raise UsageError(f"unknown predicate `{tok}'")


@builtin("find", usage="find [path...] [-name PAT] [-iname PAT] [-path PAT] [-type f|d|l] "
                       "[-maxdepth N] [-mindepth N] [-size [+-]N[ckMG]] [-empty] [-newer F] "
                       "[! EXPR] [EXPR -o EXPR] [-print] [-delete]")
def _find(ctx, args):
    k = 0
    while k < len(args) and not (args[k].startswith("-") or args[k] in ("!", "(")):
        k += 1
    starts = args[:k] or ["."]
    parser = _FindParser(args[k:])
    pred = parser.parse()
    delete = "-delete" in parser.actions
    matched = []
    for start in starts:
        if not os.path.lexists(start):
            ctx.error(f"'{start}': No such file or directory")
            continue
        for path, depth, st in _find_walk(start, parser.maxdepth):
            if depth >= parser.mindepth and pred(path, st):
                if delete:
                    matched.append((path, st))
                else:
                    ctx.out(path + "\n")
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


# --- builtins: text ---------------------------------------------------------

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


_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([diouxXfFeEgGcsb%])")


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


@builtin("printf", usage="printf FORMAT [arg...]")
def _printf(ctx, args):
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
            if conv in "sb":
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


# --- builtins: shell and environment ----------------------------------------

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
    return ctx.shell.dispatch(rest, ctx.stdin, ctx.stdout, ctx.stderr, env)


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
        access = getattr(os, "access", None)
        if access is None:
            return True
        return access(arg, {"-r": os.R_OK, "-w": os.W_OK, "-x": os.X_OK}.get(op, os.F_OK))

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
        code = ctx.shell.dispatch(argv, "", ctx.stdout, ctx.stderr, ctx.env)
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
    """Calls the python_runner given to run() as runner(path, argv, stdin):
    `python FILE a b` -> (FILE, ["a", "b"], stdin); `python -c CODE a` ->
    (None, ["-c", CODE, "a"], stdin); code read from stdin (`python`,
    `python -`, here-documents) -> (None, ["-c", CODE], "")."""
    if args and args[0] in ("--version", "-V"):
        ctx.out(f"Python {sys.version.split()[0]}\n")
        return 0
    runner = ctx.shell.python_runner
    if runner is None:
        ctx.err(f"{ctx.name}: Python is not available in this shell\n")
        return 1

    def call(path, argv, stdin):
        try:
            result = runner(path, argv, stdin)
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


# --- jq ---------------------------------------------------------------------
#
# A jq subset: the filter is compiled to a tuple AST and evaluated with
# generators (a jq filter yields zero or more outputs per input).

class _JqError(Exception):
    pass


_JQ_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<recurse>\.\.)
  | (?P<format>@[A-Za-z0-9_]+)
  | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|=|\+=|-=|\*=|/=|%=|//=|==|!=|<=|>=|//|[.\[\]{}()|,:;<>+\-*/%=?])
""", re.X)

_JQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/",
               "\\": "\\", '"': '"'}


def _jq_string_token(src, i):
    """Reads the string literal at src[i] == '"'; interpolations \\(...)
    become parsed sub-filters. Returns (('str', parts), next index)."""
    parts = []
    buf = []
    i += 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == '"':
            if buf:
                parts.append("".join(buf))
            return ("str", parts), i + 1
        if c == "\\" and i + 1 < n:
            d = src[i + 1]
            if d == "(":
                depth = 1
                j = i + 2
                while j < n and depth:
                    if src[j] == '"':
                        _, j = _jq_string_token(src, j)
                        continue
                    if src[j] == "(":
                        depth += 1
                    elif src[j] == ")":
                        depth -= 1
                    j += 1
                if depth:
                    raise _JqError("unterminated string interpolation")
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_jq_compile(src[i + 2:j - 1]))
                i = j
                continue
            if d == "u" and re.match(r"[0-9a-fA-F]{4}", src[i + 2:i + 6]):
                buf.append(chr(int(src[i + 2:i + 6], 16)))
                i += 6
                continue
            if d not in _JQ_ESCAPES:
                raise _JqError(f"invalid escape '\\{d}' in string literal")
            buf.append(_JQ_ESCAPES[d])
            i += 2
            continue
        buf.append(c)
        i += 1
    raise _JqError("unterminated string literal")


def _jq_tokens(src):
    tokens = []
    i = 0
    while i < len(src):
        if src[i] == '"':
            tok, i = _jq_string_token(src, i)
            tokens.append(tok)
            continue
        m = _JQ_TOKEN.match(src, i)
        if not m:
            raise _JqError(f"syntax error: unexpected character '{src[i]}'")
        i = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        tokens.append((kind, m.group()))
    return tokens


# name -> the numbers of arguments it accepts
_JQ_FUNCS = {
    "length": {0}, "utf8bytelength": {0}, "keys": {0}, "keys_unsorted": {0},
    "values": {0}, "nulls": {0}, "booleans": {0}, "numbers": {0}, "strings": {0},
    "arrays": {0}, "objects": {0}, "iterables": {0}, "scalars": {0}, "type": {0},
    "not": {0}, "sort": {0}, "unique": {0}, "reverse": {0}, "first": {0, 1},
    "last": {0, 1}, "add": {0}, "tostring": {0}, "tonumber": {0}, "tojson": {0},
    "fromjson": {0}, "min": {0}, "max": {0}, "to_entries": {0}, "from_entries": {0},
    "flatten": {0, 1}, "ascii_downcase": {0}, "ascii_upcase": {0}, "empty": {0},
    "floor": {0}, "ceil": {0}, "round": {0}, "sqrt": {0}, "fabs": {0}, "abs": {0},
    "any": {0, 1}, "all": {0, 1}, "env": {0}, "recurse": {0}, "debug": {0},
    "error": {0, 1}, "now": {0}, "select": {1}, "map": {1}, "map_values": {1},
    "sort_by": {1}, "group_by": {1}, "unique_by": {1}, "min_by": {1}, "max_by": {1},
    "has": {1}, "contains": {1}, "startswith": {1}, "endswith": {1}, "ltrimstr": {1},
    "rtrimstr": {1}, "split": {1}, "join": {1}, "test": {1, 2}, "range": {1, 2},
    "with_entries": {1}, "del": {1}, "walk": {1}, "limit": {2}, "sub": {2, 3},
    "gsub": {2, 3}, "in": {1}, "inside": {1}, "index": {1}, "rindex": {1},
    "indices": {1}, "isempty": {1}, "getpath": {1}, "paths": {0}, "trim": {0},
    "ltrim": {0}, "rtrim": {0}, "input_filename": {0}, "transpose": {0},
    "infinite": {0}, "nan": {0}, "isnan": {0},
}

_JQ_UNSUPPORTED = {"def", "reduce", "foreach", "as", "label", "import", "include"}


class _JqParser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self, offset=0):
        k = self.i + offset
        return self.t[k] if k < len(self.t) else (None, None)

    def accept(self, kind, value=None):
        tok = self.peek()
        if tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind, value):
        if not self.accept(kind, value):
            raise _JqError(f"syntax error: expected '{value}' but got {self.describe()}")

    def describe(self):
        tok = self.peek()
        if tok[0] is None:
            return "end of filter"
        if tok[0] == "str":
            return "a string"
        return f"'{tok[1]}'"

    def parse(self):
        if not self.t:
            return ("identity",)
        node = self.pipe()
        if self.i < len(self.t):
            raise _JqError(f"syntax error: unexpected {self.describe()}")
        return node

    def pipe(self):
        left = self.comma()
        if self.accept("op", "|"):
            return ("pipe", left, self.pipe())
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("=", "|=", "+=", "-=", "*=", "/=", "%=", "//="):
            raise _JqError(f"the assignment operator '{tok[1]}' is not supported by this jq")
        if tok[0] == "ident" and tok[1] == "as":
            raise _JqError("variables ('as $x') are not supported by this jq")
        return left

    def comma(self):
        left = self.alt()
        while self.accept("op", ","):
            left = ("comma", left, self.alt())
        return left

    def alt(self):
        left = self.or_()
        if self.accept("op", "//"):
            return ("alt", left, self.alt())
        return left

    def or_(self):
        left = self.and_()
        while self.accept("ident", "or"):
            left = ("or", left, self.and_())
        return left

    def and_(self):
        left = self.compare()
        while self.accept("ident", "and"):
            left = ("and", left, self.compare())
        return left

    def compare(self):
        left = self.additive()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return ("cmp", tok[1], left, self.additive())
        return left

    def additive(self):
        left = self.multiplicative()
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in ("+", "-"):
                self.i += 1
                left = ("arith", tok[1], left, self.multiplicative())
            else:
                return left

    def multiplicative(self):
        left = self.postfix()
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in ("*", "/", "%"):
                self.i += 1
                left = ("arith", tok[1], left, self.postfix())
            else:
                return left

    def postfix(self):
        node = self.primary()
        while True:
            tok = self.peek()
            if tok[0] == "field":
                self.i += 1
                node = ("index", node, ("literal", tok[1][1:]))
            elif tok == ("op", ".") and self.peek(1)[0] == "str":
                self.i += 1
                node = ("index", node, self.string(self.peek()))
                self.i += 1
            elif tok == ("op", ".") and self.peek(1) == ("op", "["):
                self.i += 1
            elif tok == ("op", "["):
                node = self.bracket(node)
            elif tok == ("op", "?"):
                self.i += 1
                node = ("try", node)
            else:
                return node

    def bracket(self, target):
        self.expect("op", "[")
        if self.accept("op", "]"):
            return ("iter", target)
        if self.accept("op", ":"):
            hi = self.pipe()
            self.expect("op", "]")
            return ("slice", target, None, hi)
        lo = self.pipe()
        if self.accept("op", ":"):
            if self.accept("op", "]"):
                return ("slice", target, lo, None)
            hi = self.pipe()
            self.expect("op", "]")
            return ("slice", target, lo, hi)
        self.expect("op", "]")
        return ("index", target, lo)

    @staticmethod
    def string(tok):
        parts = tok[1]
        if all(isinstance(p, str) for p in parts):
            return ("literal", "".join(parts))
        return ("string", parts)

    def primary(self):
        tok = self.peek()
        kind, value = tok
        if kind is None:
            raise _JqError("syntax error: unexpected end of filter")
        self.i += 1
        if kind == "num":
            number = float(value)
            return ("literal", int(number) if number.is_integer() and "." not in value
                    and "e" not in value.lower() else number)
        if kind == "str":
            return self.string(tok)
        if kind == "field":
            return ("index", ("identity",), ("literal", value[1:]))
        if kind == "recurse":
            return ("recurse",)
        if kind == "format":
            if value not in ("@csv", "@tsv", "@json", "@text", "@sh", "@html", "@uri", "@base64"):
                raise _JqError(f"{value} is not a valid format")
            return ("format", value)
        if kind == "var":
            if value == "$ENV":
                return ("call", "env", [])
            raise _JqError(f"variables ({value}) are not supported by this jq")
        if kind == "op":
            if value == ".":
                nxt = self.peek()
                if nxt[0] == "str":
                    self.i += 1
                    return ("index", ("identity",), self.string(nxt))
                return ("identity",)
            if value == "(":
                node = self.pipe()
                self.expect("op", ")")
                return node
            if value == "[":
                if self.accept("op", "]"):
                    return ("array", None)
                node = self.pipe()
                self.expect("op", "]")
                return ("array", node)
            if value == "{":
                return self.object()
            if value == "-":
                return ("neg", self.postfix())
            raise _JqError(f"syntax error: unexpected '{value}'")
        # identifiers
        if value in ("true", "false", "null"):
            return ("literal", {"true": True, "false": False, "null": None}[value])
        if value == "if":
            return self.if_expr()
        if value == "try":
            body = self.postfix()
            if self.accept("ident", "catch"):
                self.postfix()
            return ("try", body)
        if value in _JQ_UNSUPPORTED:
            raise _JqError(f"'{value}' is not supported by this jq")
        args = []
        if self.accept("op", "("):
            args.append(self.pipe())
            while self.accept("op", ";"):
                args.append(self.pipe())
            self.expect("op", ")")
        if len(args) not in _JQ_FUNCS.get(value, ()):
            raise _JqError(f"{value}/{len(args)} is not defined")
        return ("call", value, args)

    def if_expr(self):
        branches = []
        cond = self.pipe()
        self.expect("ident", "then")
        branches.append((cond, self.pipe()))
        while self.accept("ident", "elif"):
            cond = self.pipe()
            self.expect("ident", "then")
            branches.append((cond, self.pipe()))
        otherwise = ("identity",)
        if self.accept("ident", "else"):
            otherwise = self.pipe()
        self.expect("ident", "end")
        return ("if", branches, otherwise)

    def object(self):
        entries = []
        if self.accept("op", "}"):
            return ("object", entries)
        while True:
            tok = self.peek()
            if tok[0] in ("ident", "str"):
                self.i += 1
                key = ("literal", tok[1]) if tok[0] == "ident" else self.string(tok)
            elif tok[0] == "var" and tok[1] == "$ENV":
                raise _JqError("variables are not supported by this jq")
            elif tok == ("op", "("):
                self.i += 1
                key = self.pipe()
                self.expect("op", ")")
            else:
                raise _JqError(f"syntax error: unexpected {self.describe()} in object")
            if self.accept("op", ":"):
                value = self.alt()
                while self.accept("op", "|"):
                    value = ("pipe", value, self.alt())
            else:
                value = ("index", ("identity",), key)
            entries.append((key, value))
            if self.accept("op", "}"):
                return ("object", entries)
            self.expect("op", ",")


def _jq_compile(src):
    return _JqParser(_jq_tokens(src)).parse()


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _jq_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if _is_num(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _jq_dump(v):
    return json.dumps(_jq_norm(v), ensure_ascii=False, separators=(",", ":"))


def _jq_desc(v):
    text = _jq_dump(v)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_jq_type(v)} ({text})"


def _jq_key(v):
    """Sort key implementing jq's ordering of all values."""
    if v is None:
        return (0,)
    if v is False:
        return (1,)
    if v is True:
        return (2,)
    if _is_num(v):
        return (3, v)
    if isinstance(v, str):
        return (4, v)
    if isinstance(v, list):
        return (5, tuple(_jq_key(x) for x in v))
    names = sorted(v)
    return (6, tuple(names), tuple(_jq_key(v[k]) for k in names))


def _jq_truthy(v):
    return v is not None and v is not False


def _jq_norm(v):
    """Integral floats print as integers, like jq."""
    if isinstance(v, float):
        if v != v:
            return None
        if v in (float("inf"), float("-inf")):
            return 1.7976931348623157e308 if v > 0 else -1.7976931348623157e308
        if v.is_integer() and abs(v) < 1e17:
            return int(v)
        return v
    if isinstance(v, list):
        return [_jq_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _jq_norm(x) for k, x in v.items()}
    return v


def _jq_index(t, k):
    if t is None:
        if k is None or isinstance(k, (str, int, float)):
            return None
    if isinstance(t, dict) and isinstance(k, str):
        return t.get(k)
    if isinstance(t, list) and _is_num(k):
        i = int(math.floor(k))
        if i < 0:
            i += len(t)
        return t[i] if 0 <= i < len(t) else None
    if isinstance(t, (list, str)) and isinstance(k, dict):
        return _jq_slice(t, k.get("start"), k.get("end"))
    shown = json.dumps(k) if isinstance(k, str) else _jq_type(k)
    raise _JqError(f"Cannot index {_jq_type(t)} with {shown}")


def _jq_slice(t, lo, hi):
    if t is None:
        return None
    if not isinstance(t, (list, str)):
        raise _JqError(f"Cannot index {_jq_type(t)} with object")
    for bound in (lo, hi):
        if bound is not None and not _is_num(bound):
            raise _JqError("Start and end indices of an array slice must be numbers")
    lo = None if lo is None else int(math.floor(lo))
    hi = None if hi is None else int(math.ceil(hi))
    return t[lo:hi]


def _jq_iter(t):
    if isinstance(t, list):
        return list(t)
    if isinstance(t, dict):
        return list(t.values())
    if t is None:
        raise _JqError("Cannot iterate over null")
    raise _JqError(f"Cannot iterate over {_jq_desc(t)}")


def _jq_arith(op, a, b):
    if op == "+":
        if a is None:
            return b
        if b is None:
            return a
        if _is_num(a) and _is_num(b):
            return a + b
        if isinstance(a, str) and isinstance(b, str) or isinstance(a, list) and isinstance(b, list):
            return a + b
        if isinstance(a, dict) and isinstance(b, dict):
            merged = dict(a)
            merged.update(b)
            return merged
        raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be added")
    if op == "-":
        if _is_num(a) and _is_num(b):
            return a - b
        if isinstance(a, list) and isinstance(b, list):
            keys = [_jq_key(y) for y in b]
            return [x for x in a if _jq_key(x) not in keys]
        raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be subtracted")
    if op == "*":
        if _is_num(a) and _is_num(b):
            return a * b
        if isinstance(a, str) and _is_num(b) or isinstance(b, str) and _is_num(a):
            text, times = (a, b) if isinstance(a, str) else (b, a)
            return text * int(times) if times > 0 else None
        if isinstance(a, dict) and isinstance(b, dict):
            return _jq_deep_merge(a, b)
        raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be multiplied")
    if op == "/":
        if _is_num(a) and _is_num(b):
            if b == 0:
                raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be divided because the divisor is zero")
            return a / b
        if isinstance(a, str) and isinstance(b, str):
            return a.split(b) if a else []
        raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be divided")
    if _is_num(a) and _is_num(b):
        if int(b) == 0:
            raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be divided because the divisor is zero")
        return int(math.fmod(int(a), int(b)))
    raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot be divided")


def _jq_deep_merge(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(out.get(k), dict) and isinstance(v, dict):
            out[k] = _jq_deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _jq_recurse(v):
    yield v
    if isinstance(v, list):
        for x in v:
            yield from _jq_recurse(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _jq_recurse(x)


def _jq_contains(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in a and _jq_contains(a[k], v) for k, v in b.items())
    if isinstance(a, list) and isinstance(b, list):
        return all(any(_jq_contains(x, y) for x in a) for y in b)
    if isinstance(a, str) and isinstance(b, str):
        return b in a
    if _jq_type(a) == _jq_type(b):
        return _jq_key(a) == _jq_key(b)
    raise _JqError(f"{_jq_desc(a)} and {_jq_desc(b)} cannot have their containment checked")


def _jq_path(node):
    """The path of a simple path expression (.a.b[0]), for del()."""
    kind = node[0]
    if kind == "identity":
        return [[]]
    if kind == "index" and node[2][0] == "literal":
        return [p + [node[2][1]] for p in _jq_path(node[1])]
    if kind == "comma":
        return _jq_path(node[1]) + _jq_path(node[2])
    raise _JqError("del() supports simple paths such as .a, .a.b, .[0] only")


def _jq_delete(v, path):
    if not path:
        return None
    head, rest = path[0], path[1:]
    if isinstance(v, dict) and isinstance(head, str):
        if head not in v:
            return v
        out = dict(v)
        if rest:
            out[head] = _jq_delete(v[head], rest)
        else:
            del out[head]
        return out
    if isinstance(v, list) and _is_num(head):
        i = int(head) + (len(v) if head < 0 else 0)
        if not 0 <= i < len(v):
            return v
        out = list(v)
        if rest:
            out[i] = _jq_delete(v[i], rest)
        else:
            del out[i]
        return out
    if v is None:
        return None
    raise _JqError(f"Cannot delete field at index {json.dumps(head)} of {_jq_type(v)}")


def _jq_tostring(v):
    return v if isinstance(v, str) else _jq_dump(v)


def _jq_format(name, v):
    if name in ("@text",):
        return _jq_tostring(v)
    if name == "@json":
        return _jq_dump(v)
    if name in ("@csv", "@tsv"):
        if not isinstance(v, list):
            raise _JqError(f"{_jq_desc(v)} cannot be {name[1:]}-formatted, only an array can be")
        cells = []
        for x in v:
            if isinstance(x, (list, dict)):
                raise _JqError(f"{_jq_desc(x)} is not valid in a csv row")
            if x is None:
                cells.append("")
            elif isinstance(x, bool):
                cells.append("true" if x else "false")
            elif _is_num(x):
                cells.append(_jq_dump(x))
            elif name == "@csv":
                cells.append('"' + x.replace('"', '""') + '"')
            else:
                cells.append(x.replace("\\", "\\\\").replace("\t", "\\t")
                             .replace("\n", "\\n").replace("\r", "\\r"))
        return ("," if name == "@csv" else "\t").join(cells)
    if name == "@sh":
        items = v if isinstance(v, list) else [v]
        out = []
        for x in items:
            if isinstance(x, (list, dict)):
                raise _JqError(f"{_jq_desc(x)} can not be escaped for shell")
            out.append("'" + x.replace("'", "'\\''") + "'" if isinstance(x, str) else _jq_dump(x))
        return " ".join(out)
    if name == "@html":
        text = _jq_tostring(v)
        for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;"), ('"', "&quot;")):
            text = text.replace(a, b)
        return text
    if name == "@uri":
        safe = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        return "".join(ch if ch in safe else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
                       for ch in _jq_tostring(v))
    if name == "@base64":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        data = _jq_tostring(v).encode("utf-8")
        out = []
        for k in range(0, len(data), 3):
            chunk = data[k:k + 3]
            n = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
            chars = [alphabet[(n >> s) & 63] for s in (18, 12, 6, 0)]
            out.append("".join(chars[:len(chunk) + 1]) + "=" * (3 - len(chunk)))
        return "".join(out)
    raise _JqError(f"{name} is not a valid format")


def _jq_one(node, v):
    """The first output of node on v (for function arguments used as
    values), or an error when there is none."""
    for x in _jq_eval(node, v):
        return x
    raise _JqError("argument produced no value")


def _jq_sorted_by(node, v, name):
    if not isinstance(v, list):
        raise _JqError(f"Cannot index {_jq_type(v)} with number" if v is not None
                       else f"null (null) cannot be {name}, as it is not an array")
    return sorted(((_jq_key(list(_jq_eval(node, x))), k, x) for k, x in enumerate(v)),
                  key=lambda t: (t[0], t[1]))


def _jq_length(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        raise _JqError(f"boolean ({_jq_dump(v)}) has no length")
    if _is_num(v):
        return abs(v)
    return len(v)


def _jq_keys(v, ordered=True):
    if isinstance(v, dict):
        return sorted(v) if ordered else list(v)
    if isinstance(v, list):
        return list(range(len(v)))
    raise _JqError(f"{_jq_desc(v)} has no keys")


def _jq_tonumber(v):
    if _is_num(v):
        return v
    if isinstance(v, str):
        try:
            number = float(v)
            return int(number) if re.fullmatch(r"\s*-?\d+\s*", v) else number
        except ValueError:
            pass
    raise _JqError(f"Cannot parse '{v}' as a number" if isinstance(v, str)
                   else f"{_jq_desc(v)} cannot be parsed as a number")


def _jq_flatten(v, depth):
    if not isinstance(v, list):
        raise _JqError(f"Cannot flatten {_jq_desc(v)}")
    out = []
    for x in v:
        if isinstance(x, list) and depth > 0:
            out.extend(_jq_flatten(x, depth - 1))
        else:
            out.append(x)
    return out


def _jq_from_entries(v):
    out = {}
    for item in _jq_iter(v):
        if not isinstance(item, dict):
            raise _JqError(f"Cannot index {_jq_type(item)} with \"key\"")
        key = None
        for name in ("key", "k", "name", "Name", "Key", "K"):
            if item.get(name) is not None:
                key = item[name]
                break
        if isinstance(key, bool) or key is None:
            key = "null" if key is None else ("true" if key else "false")
        elif _is_num(key):
            key = _jq_dump(key)
        value = None
        for name in ("value", "v", "Value", "V"):
            if name in item:
                value = item[name]
                break
        out[key] = value
    return out


def _jq_regex(pattern, flags):
    if not isinstance(pattern, str):
        raise _JqError(f"{_jq_desc(pattern)} cannot be matched, as it is not a string")
    value = 0
    for f in flags or "":
        if f == "i":
            value |= re.I
        elif f == "x":
            value |= re.X
        elif f == "s":
            value |= re.S
        elif f not in "gnl":
            raise _JqError(f"{flags} is not a valid modifier string")
    try:
        return re.compile(pattern, value)
    except re.error as e:
        raise _JqError(f"{pattern} (at offset {getattr(e, 'pos', 0)}) is not a valid regex: {e}")


def _jq_walk(node, v):
    if isinstance(v, list):
        v = [_jq_walk(node, x) for x in v]
    elif isinstance(v, dict):
        v = {k: _jq_walk(node, x) for k, x in v.items()}
    return _jq_one(node, v)


def _jq_paths(v, prefix):
    if isinstance(v, dict):
        items = v.items()
    elif isinstance(v, list):
        items = enumerate(v)
    else:
        return
    for k, x in items:
        yield prefix + [k]
        yield from _jq_paths(x, prefix + [k])


def _jq_need_str(v, name):
    if not isinstance(v, str):
        raise _JqError(f"{_jq_desc(v)} cannot be {name}, as it is not a string")
    return v


def _jq_call(name, args, v):
    """Runs builtin function `name` on input v; yields its outputs."""
    n = len(args)
    if n == 0:
        if name == "empty":
            return
        if name == "error":
            raise _JqError(_jq_tostring(v) if v is not None else "null (null) not a string")
        if name in ("recurse",):
            yield from _jq_recurse(v)
            return
        if name == "paths":
            yield from _jq_paths(v, [])
            return
        simple_types = {"values": lambda x: x is not None, "nulls": lambda x: x is None,
                        "booleans": lambda x: isinstance(x, bool), "numbers": _is_num,
                        "strings": lambda x: isinstance(x, str),
                        "arrays": lambda x: isinstance(x, list),
                        "objects": lambda x: isinstance(x, dict),
                        "iterables": lambda x: isinstance(x, (list, dict)),
                        "scalars": lambda x: not isinstance(x, (list, dict))}
        if name in simple_types:
            if simple_types[name](v):
                yield v
            return
        yield _jq_call0(name, v)
        return
    if name == "select":
        for cond in _jq_eval(args[0], v):
            if _jq_truthy(cond):
                yield v
        return
    if name == "map":
        yield [y for x in _jq_iter(v) for y in _jq_eval(args[0], x)]
        return
    if name == "map_values":
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                for y in _jq_eval(args[0], x):
                    out[k] = y
                    break
            yield out
        else:
            yield [y for x in _jq_iter(v) for y in itertools.islice(_jq_eval(args[0], x), 1)]
        return
    if name in ("sort_by", "group_by", "unique_by", "min_by", "max_by"):
        ranked = _jq_sorted_by(args[0], v, "sorted")
        if name == "sort_by":
            yield [x for _, _, x in ranked]
        elif name in ("min_by", "max_by"):
            yield (ranked[0][2] if name == "min_by" else ranked[-1][2]) if ranked else None
        else:
            groups = []
            for key, group in itertools.groupby(ranked, key=lambda t: t[0]):
                members = [x for _, _, x in group]
                groups.append(members if name == "group_by" else members[0])
            yield groups
        return
    if name == "with_entries":
        entries = [{"key": k, "value": x} for k, x in (v.items() if isinstance(v, dict)
                                                      else enumerate(_jq_iter(v)))]
        mapped = [y for e in entries for y in _jq_eval(args[0], e)]
        yield _jq_from_entries(mapped)
        return
    if name == "range":
        bounds = [list(_jq_eval(a, v)) for a in args]
        for combo in itertools.product(*bounds):
            if not all(_is_num(b) for b in combo):
                raise _JqError("Range bounds must be numeric")
            lo, hi = (0, combo[0]) if n == 1 else combo
            k = lo
            while k < hi:
                yield k
                k += 1
        return
    if name == "limit":
        count = _jq_one(args[0], v)
        if count <= 0:
            return
        for k, x in enumerate(_jq_eval(args[1], v)):
            yield x
            if k + 1 >= count:
                return
        return
    if name in ("first", "last"):
        outputs = _jq_eval(args[0], v)
        if name == "first":
            for x in outputs:
                yield x
                return
            return
        result = list(outputs)
        if result:
            yield result[-1]
        return
    if name == "isempty":
        for _ in _jq_eval(args[0], v):
            yield False
            return
        yield True
        return
    if name in ("any", "all"):
        results = (_jq_truthy(y) for x in _jq_iter(v) for y in _jq_eval(args[0], x))
        yield any(results) if name == "any" else all(results)
        return
    if name == "del":
        out = v
        paths = _jq_path(args[0])
        for path in sorted(paths, key=lambda p: [(-x if _is_num(x) else 0) for x in p]):
            out = _jq_delete(out, path)
        yield out
        return
    if name == "walk":
        yield _jq_walk(args[0], v)
        return
    if name == "error":
        for msg in _jq_eval(args[0], v):
            raise _JqError(_jq_tostring(msg))
        return
    if name in ("sub", "gsub"):
        for pattern in _jq_eval(args[0], v):
            for repl in _jq_eval(args[1], v):
                flags = _jq_one(args[2], v) if n == 3 else ""
                text = _jq_need_str(v, "matched")
                rx = _jq_regex(pattern, flags)
                count = 0 if (name == "gsub" or "g" in (flags or "")) else 1
                yield rx.sub(lambda m: _jq_tostring(repl), text, count=count)
        return
    if name == "test":
        for pattern in _jq_eval(args[0], v):
            flags = _jq_one(args[1], v) if n == 2 else ""
            yield bool(_jq_regex(pattern, flags).search(_jq_need_str(v, "matched")))
        return
    if name == "flatten":
        for depth in _jq_eval(args[0], v):
            if not _is_num(depth) or depth < 0:
                raise _JqError("flatten depth must not be negative")
            yield _jq_flatten(v, depth)
        return
    # the remaining ones take their argument as a value
    for arg in _jq_eval(args[0], v):
        yield _jq_call1(name, v, arg)


def _jq_call0(name, v):
    if name == "length":
        return _jq_length(v)
    if name == "utf8bytelength":
        return len(_jq_need_str(v, "measured").encode("utf-8"))
    if name == "keys":
        return _jq_keys(v)
    if name == "keys_unsorted":
        return _jq_keys(v, False)
    if name == "type":
        return _jq_type(v)
    if name == "not":
        return not _jq_truthy(v)
    if name in ("sort", "unique", "min", "max", "add", "reverse", "transpose", "any", "all"):
        if v is None and name in ("reverse", "add"):
            return [] if name == "reverse" else None
        if isinstance(v, str) and name == "reverse":
            return v[::-1]
        if isinstance(v, dict) and name == "add":
            v = list(v.values())
        if not isinstance(v, list):
            raise _JqError(f"{_jq_desc(v)} cannot be {name}ed, as it is not an array")
        if name == "sort":
            return sorted(v, key=_jq_key)
        if name == "unique":
            out = []
            for x in sorted(v, key=_jq_key):
                if not out or _jq_key(out[-1]) != _jq_key(x):
                    out.append(x)
            return out
        if name in ("min", "max"):
            if not v:
                return None
            return (min if name == "min" else max)(v, key=_jq_key)
        if name == "add":
            total = None
            for x in v:
                total = _jq_arith("+", total, x)
            return total
        if name == "any":
            return any(_jq_truthy(x) for x in v)
        if name == "all":
            return all(_jq_truthy(x) for x in v)
        if name == "transpose":
            width = max([len(r) for r in v] or [0])
            return [[r[k] if k < len(r) else None for r in v] for k in range(width)]
        return v[::-1]
    if name in ("first", "last"):
        return _jq_index(v, 0 if name == "first" else -1)
    if name == "tostring":
        return _jq_tostring(v)
    if name == "tonumber":
        return _jq_tonumber(v)
    if name == "tojson":
        return _jq_dump(v)
    if name == "fromjson":
        try:
            return json.loads(_jq_need_str(v, "parsed"))
        except ValueError as e:
            raise _JqError(f"{v} (while parsing '{v}'): {e}")
    if name == "to_entries":
        if not isinstance(v, dict):
            raise _JqError(f"{_jq_desc(v)} has no keys")
        return [{"key": k, "value": x} for k, x in v.items()]
    if name == "from_entries":
        return _jq_from_entries(v)
    if name == "flatten":
        return _jq_flatten(v, 1e9)
    if name in ("ascii_downcase", "ascii_upcase"):
        text = _jq_need_str(v, "case-converted")
        return text.lower() if name == "ascii_downcase" else text.upper()
    if name in ("trim", "ltrim", "rtrim"):
        text = _jq_need_str(v, "trimmed")
        return {"trim": text.strip, "ltrim": text.lstrip, "rtrim": text.rstrip}[name]()
    if name in ("floor", "ceil", "round", "sqrt", "fabs", "abs"):
        if not _is_num(v):
            raise _JqError(f"{_jq_desc(v)} number required")
        if name == "sqrt":
            return math.sqrt(v)
        if name in ("fabs", "abs"):
            return abs(v)
        if name == "round":
            return math.floor(v + 0.5)
        return {"floor": math.floor, "ceil": math.ceil}[name](v)
    if name == "env":
        return dict(ENV)
    if name == "debug":
        return v
    if name == "now":
        return time.time()
    if name == "input_filename":
        return None
    if name == "infinite":
        return float("inf")
    if name == "nan":
        return float("nan")
    if name == "isnan":
        return isinstance(v, float) and v != v
    raise _JqError(f"{name}/0 is not defined")


def _jq_call1(name, v, arg):
    if name == "has":
        if isinstance(v, dict) and isinstance(arg, str):
            return arg in v
        if isinstance(v, list) and _is_num(arg):
            return 0 <= arg < len(v)
        raise _JqError(f"Cannot check whether {_jq_type(v)} has a {_jq_type(arg)} key")
    if name == "in":
        return _jq_call1("has", arg, v)
    if name == "contains":
        return _jq_contains(v, arg)
    if name == "inside":
        return _jq_contains(arg, v)
    if name in ("startswith", "endswith"):
        if not isinstance(v, str) or not isinstance(arg, str):
            raise _JqError(f"{name}() requires string inputs")
        return v.startswith(arg) if name == "startswith" else v.endswith(arg)
    if name in ("ltrimstr", "rtrimstr"):
        if isinstance(v, str) and isinstance(arg, str) and arg:
            if name == "ltrimstr" and v.startswith(arg):
                return v[len(arg):]
            if name == "rtrimstr" and v.endswith(arg):
                return v[:-len(arg)]
        return v
    if name == "split":
        text = _jq_need_str(v, "split")
        if not isinstance(arg, str):
            raise _JqError("split input and separator must be strings")
        if not text:
            return []
        return text.split(arg) if arg else list(text)
    if name == "join":
        pieces = []
        for x in _jq_iter(v):
            if x is None:
                pieces.append("")
            elif isinstance(x, (list, dict)):
                raise _JqError(f"Cannot join with {_jq_type(x)}")
            else:
                pieces.append(_jq_tostring(x))
        return _jq_need_str(arg, "used as a separator").join(pieces)
    if name in ("index", "rindex", "indices"):
        if v is None:
            return None
        if isinstance(v, str) and isinstance(arg, str):
            found = [m.start() for m in re.finditer("(?=%s)" % re.escape(arg), v)] if arg else []
        elif isinstance(v, list):
            sub = arg if isinstance(arg, list) else [arg]
            keys = [_jq_key(x) for x in sub]
            found = [k for k in range(len(v) - len(sub) + 1)
                     if [_jq_key(x) for x in v[k:k + len(sub)]] == keys] if sub else []
        else:
            raise _JqError(f"Cannot determine the index in {_jq_type(v)}")
        if name == "indices":
            return found
        if not found:
            return None
        return found[0] if name == "index" else found[-1]
    if name == "getpath":
        out = v
        for key in _jq_iter(arg):
            out = _jq_index(out, key)
        return out
    raise _JqError(f"{name}/1 is not defined")


def _jq_eval(node, v):
    kind = node[0]
    if kind == "identity":
        yield v
    elif kind == "literal":
        yield node[1]
    elif kind == "index":
        for t in _jq_eval(node[1], v):
            for k in _jq_eval(node[2], v):
                yield _jq_index(t, k)
    elif kind == "slice":
        for t in _jq_eval(node[1], v):
            los = list(_jq_eval(node[2], v)) if node[2] is not None else [None]
            his = list(_jq_eval(node[3], v)) if node[3] is not None else [None]
            for lo in los:
                for hi in his:
                    yield _jq_slice(t, lo, hi)
    elif kind == "iter":
        for t in _jq_eval(node[1], v):
            yield from _jq_iter(t)
    elif kind == "pipe":
        for x in _jq_eval(node[1], v):
            yield from _jq_eval(node[2], x)
    elif kind == "comma":
        yield from _jq_eval(node[1], v)
        yield from _jq_eval(node[2], v)
    elif kind == "try":
        outputs = _jq_eval(node[1], v)
        while True:
            try:
                x = next(outputs)
            except StopIteration:
                return
            except _JqError:
                return
            yield x
    elif kind == "alt":
        found = False
        try:
            for x in _jq_eval(node[1], v):
                if _jq_truthy(x):
                    found = True
                    yield x
        except _JqError:
            pass
        if not found:
            yield from _jq_eval(node[2], v)
    elif kind in ("and", "or"):
        for x in _jq_eval(node[1], v):
            if kind == "and" and not _jq_truthy(x):
                yield False
            elif kind == "or" and _jq_truthy(x):
                yield True
            else:
                for y in _jq_eval(node[2], v):
                    yield _jq_truthy(y)
    elif kind == "cmp":
        op = node[1]
        for right in _jq_eval(node[3], v):
            for left in _jq_eval(node[2], v):
                a, b = _jq_key(left), _jq_key(right)
                yield {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                       ">": a > b, ">=": a >= b}[op]
    elif kind == "arith":
        for right in _jq_eval(node[3], v):
            for left in _jq_eval(node[2], v):
                yield _jq_arith(node[1], left, right)
    elif kind == "neg":
        for x in _jq_eval(node[1], v):
            if not _is_num(x):
                raise _JqError(f"{_jq_desc(x)} cannot be negated")
            yield -x
    elif kind == "string":
        results = [""]
        for part in node[1]:
            if isinstance(part, str):
                results = [r + part for r in results]
            else:
                values = [_jq_tostring(x) for x in _jq_eval(part, v)]
                results = [r + x for r in results for x in values]
        yield from results
    elif kind == "array":
        yield [] if node[1] is None else list(_jq_eval(node[1], v))
    elif kind == "object":
        partials = [{}]
        for key_node, value_node in node[1]:
            grown = []
            for partial in partials:
                for key in _jq_eval(key_node, v):
                    if not isinstance(key, str):
                        raise _JqError(f"Object keys must be strings")
                    for value in _jq_eval(value_node, v):
                        item = dict(partial)
                        item[key] = value
                        grown.append(item)
            partials = grown
        yield from partials
    elif kind == "if":
        yield from _jq_if(node[1], node[2], v)
    elif kind == "recurse":
        yield from _jq_recurse(v)
    elif kind == "format":
        yield _jq_format(node[1], v)
    elif kind == "call":
        yield from _jq_call(node[1], node[2], v)
    else:
        raise _JqError(f"unknown node {kind}")


def _jq_if(branches, otherwise, v):
    if not branches:
        yield from _jq_eval(otherwise, v)
        return
    cond, then = branches[0]
    for c in _jq_eval(cond, v):
        if _jq_truthy(c):
            yield from _jq_eval(then, v)
        else:
            yield from _jq_if(branches[1:], otherwise, v)


def _jq_parse_inputs(text):
    decoder = json.JSONDecoder()
    values = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


@builtin("jq", usage="jq [-r] [-j] [-c] [-s] [-n] [-S] [--indent N] FILTER [file...]   "
                     "(filters: . .key .a.b .[N] .[N:M] .[] | , keys length select(...) map(...) "
                     "sort_by group_by to_entries has join split test @csv ...)")
def _jq(ctx, args):
    opts, operands = _parse_opts(args, "rjcsnSaMCe", ["indent", "arg"], longs={
        "raw-output": "r", "join-output": "j", "compact-output": "c", "slurp": "s",
        "null-input": "n", "sort-keys": "S", "ascii-output": "a", "monochrome-output": "M",
        "color-output": "C", "indent": "indent", "tab": "tab", "exit-status": "e"})
    if "arg" in opts:
        raise UsageError("--arg is not supported by this jq")
    source = operands.pop(0) if operands else "."
    try:
        program = _jq_compile(source)
    except _JqError as e:
        ctx.err(f"jq: error: {e}\njq: 1 compile error\n")
        return 5
    except RecursionError:
        ctx.err("jq: error: filter nested too deeply\njq: 1 compile error\n")
        return 5
    if opts.get("n"):
        values = [None]
    else:
        texts = []
        for name in operands or ["-"]:
            if name == "-":
                texts.append(ctx.stdin)
                continue
            try:
                texts.append(_read_text(name))
            except OSError as e:
                ctx.err(f"jq: error: Could not open {name}: {_os_error_text(e)}\n")
                return 2
        try:
            values = _jq_parse_inputs("\n".join(texts))
        except ValueError as e:
            where = f" at line {e.lineno}, column {e.colno}" if hasattr(e, "lineno") else ""
            msg = getattr(e, "msg", str(e))
            ctx.err(f"jq: error: Cannot parse input as JSON: {msg}{where}\n")
            return 5
        if opts.get("s"):
            values = [values]
    indent = 2
    if "indent" in opts:
        indent = _int_arg(_last(opts, "indent"), "indent")
    if opts.get("tab"):
        indent = "\t"
    raw = opts.get("r") or opts.get("j")
    status = 0
    last = None
    for value in values:
        try:
            for result in _jq_eval(program, value):
                last = result
                result = _jq_norm(result)
                if raw and isinstance(result, str):
                    text = result
                elif opts.get("c") or indent == 0:
                    text = json.dumps(result, ensure_ascii=bool(opts.get("a")),
                                      separators=(",", ":"), sort_keys=bool(opts.get("S")))
                else:
                    text = json.dumps(result, indent=indent, ensure_ascii=bool(opts.get("a")),
                                      sort_keys=bool(opts.get("S")))
                ctx.out(text if opts.get("j") else text + "\n")
        except _JqError as e:
            ctx.err(f"jq: error (at <stdin>): {e}\n")
            status = 5
        except RecursionError:
            ctx.err("jq: error (at <stdin>): input nested too deeply\n")
            status = 5
    if status == 0 and opts.get("e"):
        return 0 if _jq_truthy(last) else 1
    return status
