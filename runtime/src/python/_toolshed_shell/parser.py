"""The parser: tokens to a small AST. A script is a list of and-or lists
(AndOr), each made of pipelines (Pipeline), each made of simple commands
(Command)."""

import re

from .errors import ShellSyntaxError, _unsupported
from .lexer import tokenize


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
