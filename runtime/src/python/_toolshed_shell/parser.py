"""The parser: tokens to an AST. A script is a list of and-or lists
(AndOr) of pipelines (Pipeline) of commands: simple commands (Command) or
compound ones (If, For, ArithFor, While, Case, Group, Subshell, Arith,
Cond, FuncDef), each compound with its own redirections."""

import re

from .errors import ShellSyntaxError, _unsupported
from .lexer import tokenize


class Command:
    """A simple command: NAME=value prefixes, words and redirections."""

    def __init__(self):
        self.assigns = []     # (name, parts)
        self.words = []       # Word
        self.redirects = []   # (fd, op, Word)


class Compound:
    """The base of compound commands: their redirections."""

    redirects = ()


class If(Compound):
    def __init__(self, branches, otherwise):
        self.branches = branches      # [(condition list, body list)]
        self.otherwise = otherwise    # list or None


class For(Compound):
    def __init__(self, name, words, body):
        self.name = name
        self.words = words            # [Word], or None for "$@"
        self.body = body


class ArithFor(Compound):
    def __init__(self, init, cond, step, body):
        self.init, self.cond, self.step, self.body = init, cond, step, body


class While(Compound):
    def __init__(self, cond, body, until):
        self.cond = cond
        self.body = body
        self.until = until


class Case(Compound):
    def __init__(self, word, items):
        self.word = word
        self.items = items            # [([pattern Word], body list, terminator)]


class Group(Compound):
    def __init__(self, body):
        self.body = body


class Subshell(Compound):
    def __init__(self, body):
        self.body = body


class Arith(Compound):
    def __init__(self, expr):
        self.expr = expr


class Cond(Compound):
    """[[ ... ]]: its items, each a Word or an operator string."""

    def __init__(self, items):
        self.items = items


class FuncDef:
    def __init__(self, name, body):
        self.name = name
        self.body = body


class Pipeline:
    def __init__(self, commands, negate=False):
        self.commands = commands
        self.negate = negate


class AndOr:
    """A pipeline followed by ('&&' | '||', pipeline) pairs."""

    def __init__(self, first, rest):
        self.first = first
        self.rest = rest


_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FUNC_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*\Z")
# Words that end a list: the parser stops there and the construct that
# opened the list checks it got the right one.
_CLOSERS = {"then", "elif", "else", "fi", "do", "done", "esac", "}"}
_MAX_NESTING = 100


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.p = 0
        self.depth = 0

    def peek(self, k=0):
        i = self.p + k
        return self.toks[i] if i < len(self.toks) else None

    @staticmethod
    def is_op(tok, *ops):
        return tok is not None and tok[0] == "op" and tok[1] in ops

    def word_is(self, tok, *words):
        return tok is not None and tok[0] == "word" and tok[1].literal() in words

    def error(self, tok):
        if tok is None:
            raise ShellSyntaxError("sh: syntax error: unexpected end of file")
        if tok == ("op", "\n"):
            text = "newline"
        elif tok[0] == "word":
            text = tok[1].text()
        elif tok[0] == "redir":
            text = tok[2]
        elif tok[0] == "arith":
            text = "(("
        else:
            text = tok[1]
        raise ShellSyntaxError(f"sh: syntax error near unexpected token `{text}'")

    def expect_word(self, word):
        tok = self.peek()
        if not self.word_is(tok, word):
            self.error(tok)
        self.p += 1

    def skip_newlines(self):
        while self.is_op(self.peek(), "\n"):
            self.p += 1

    def parse(self):
        items = self.list_until(top=True)
        if self.peek() is not None:
            self.error(self.peek())
        return items

    def list_until(self, top=False):
        """and-or lists separated by ; or newlines, up to a closing word, a
        ')' or a case terminator (left for the caller)."""
        items = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok is None or self.is_op(tok, ")", ";;", ";&", ";;&"):
                return items
            if tok[0] == "word" and tok[1].literal() in _CLOSERS:
                if top:
                    self.error(tok)
                return items
            items.append(self.and_or())
            tok = self.peek()
            if tok is None:
                return items
            if self.is_op(tok, ";", "\n"):
                self.p += 1
                continue
            if self.is_op(tok, ")", ";;", ";&", ";;&") or (tok[0] == "word" and tok[1].literal() in _CLOSERS):
                continue
            if self.is_op(tok, "&"):
                raise _unsupported("background jobs with '&'")
            self.error(tok)

    def body(self, what):
        items = self.list_until()
        if not items:
            self.error(self.peek())
        return items

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
        if self.word_is(self.peek(), "!"):
            negate = True
            self.p += 1
        commands = [self.command()]
        while self.is_op(self.peek(), "|"):
            self.p += 1
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(commands, negate)

    def command(self):
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise ShellSyntaxError("sh: syntax error: commands nested too deeply")
        try:
            node = self.compound()
            if node is None:
                return self.simple()
            if isinstance(node, Compound):
                node.redirects = self.redirects()
            return node
        finally:
            self.depth -= 1

    def redirects(self):
        out = []
        while self.peek() is not None and self.peek()[0] == "redir":
            tok = self.peek()
            self.p += 1
            target = self.peek()
            if target is None or target[0] != "word":
                self.error(target)
            self.p += 1
            out.append((tok[1], tok[2], target[1]))
        return out

    def compound(self):
        tok = self.peek()
        if tok is None:
            return None
        if tok[0] == "arith":
            self.p += 1
            return Arith(tok[1])
        if self.is_op(tok, "("):
            self.p += 1
            body = self.body("subshell")
            if not self.is_op(self.peek(), ")"):
                self.error(self.peek())
            self.p += 1
            return Subshell(body)
        if tok[0] != "word":
            return None
        lit = tok[1].literal()
        if lit == "if":
            return self.if_clause()
        if lit in ("while", "until"):
            self.p += 1
            cond = self.body(lit)
            self.expect_word("do")
            body = self.body(lit)
            self.expect_word("done")
            return While(cond, body, lit == "until")
        if lit == "for":
            return self.for_clause()
        if lit == "case":
            return self.case_clause()
        if lit == "{":
            self.p += 1
            body = self.body("group")
            self.expect_word("}")
            return Group(body)
        if lit == "[[":
            return self.cond()
        if lit == "function":
            self.p += 1
            name = self.peek()
            if name is None or name[0] != "word" or not _FUNC_NAME_RE.match(name[1].literal() or ""):
                self.error(name)
            self.p += 1
            if self.is_op(self.peek(), "(") and self.is_op(self.peek(1), ")"):
                self.p += 2
            return self.function(name[1].literal())
        if lit in ("select", "coproc"):
            raise _unsupported(f"'{lit}'")
        if lit in ("then", "elif", "else", "fi", "do", "done", "esac", "}", "]]"):
            self.error(tok)
        # name() compound: a function definition.
        if lit is not None and _FUNC_NAME_RE.match(lit) and self.is_op(self.peek(1), "(") \
                and self.is_op(self.peek(2), ")"):
            self.p += 3
            return self.function(lit)
        return None

    def function(self, name):
        self.skip_newlines()
        body = self.compound()
        if body is None or isinstance(body, FuncDef):
            raise ShellSyntaxError(f"sh: syntax error: the body of function {name} must be a compound command like {{ ...; }}")
        body.redirects = self.redirects()
        return FuncDef(name, body)

    def if_clause(self):
        self.p += 1
        branches = []
        cond = self.body("if")
        self.expect_word("then")
        branches.append((cond, self.body("then")))
        otherwise = None
        while True:
            tok = self.peek()
            if self.word_is(tok, "elif"):
                self.p += 1
                cond = self.body("elif")
                self.expect_word("then")
                branches.append((cond, self.body("then")))
            elif self.word_is(tok, "else"):
                self.p += 1
                otherwise = self.body("else")
                self.expect_word("fi")
                break
            else:
                self.expect_word("fi")
                break
        return If(branches, otherwise)

    def for_clause(self):
        self.p += 1
        tok = self.peek()
        if tok is not None and tok[0] == "arith":
            self.p += 1
            parts = tok[1].split(";")
            if len(parts) != 3:
                raise ShellSyntaxError("sh: syntax error: for (( init; condition; step ))")
            if self.is_op(self.peek(), ";"):
                self.p += 1
            self.skip_newlines()
            body = self.loop_body()
            return ArithFor(parts[0], parts[1], parts[2], body)
        if tok is None or tok[0] != "word" or not _NAME_RE.match(tok[1].literal() or ""):
            self.error(tok)
        name = tok[1].literal()
        self.p += 1
        words = None
        self.skip_newlines_if_in()
        if self.word_is(self.peek(), "in"):
            self.p += 1
            words = []
            while self.peek() is not None and self.peek()[0] == "word":
                words.append(self.peek()[1])
                self.p += 1
            if not self.is_op(self.peek(), ";", "\n"):
                self.error(self.peek())
            self.p += 1
        elif self.is_op(self.peek(), ";"):
            self.p += 1
        self.skip_newlines()
        return For(name, words, self.loop_body())

    def skip_newlines_if_in(self):
        k = self.p
        while self.is_op(self.toks[k] if k < len(self.toks) else None, "\n"):
            k += 1
        if k < len(self.toks) and self.word_is(self.toks[k], "in"):
            self.p = k

    def loop_body(self):
        if self.word_is(self.peek(), "{"):
            self.p += 1
            body = self.body("for")
            self.expect_word("}")
            return body
        self.expect_word("do")
        body = self.body("for")
        self.expect_word("done")
        return body

    def case_clause(self):
        self.p += 1
        tok = self.peek()
        if tok is None or tok[0] != "word":
            self.error(tok)
        word = tok[1]
        self.p += 1
        self.skip_newlines()
        self.expect_word("in")
        items = []
        while True:
            self.skip_newlines()
            if self.word_is(self.peek(), "esac"):
                self.p += 1
                return Case(word, items)
            if self.is_op(self.peek(), "("):
                self.p += 1
            patterns = []
            while True:
                tok = self.peek()
                if tok is None or tok[0] != "word":
                    self.error(tok)
                patterns.append(tok[1])
                self.p += 1
                if self.is_op(self.peek(), "|"):
                    self.p += 1
                    continue
                break
            if not self.is_op(self.peek(), ")"):
                self.error(self.peek())
            self.p += 1
            body = self.list_until()
            term = ";;"
            if self.is_op(self.peek(), ";;", ";&", ";;&"):
                term = self.peek()[1]
                self.p += 1
            elif not self.word_is(self.peek(), "esac"):
                self.error(self.peek())
            items.append((patterns, body, term))

    def cond(self):
        self.p += 1
        items = []
        while True:
            tok = self.peek()
            if tok is None:
                self.error(tok)
            if self.word_is(tok, "]]"):
                self.p += 1
                break
            if items and items[-1].__class__ is not str and items[-1].literal() == "=~":
                items[-1] = "=~"
                items.append(self.regex_operand())
                continue
            if tok[0] == "word":
                items.append(tok[1])
            elif tok[0] == "op" and tok[1] in ("&&", "||", "(", ")"):
                items.append(tok[1])
            elif tok[0] == "redir" and tok[2] in ("<", ">") and tok[1] in (0, 1):
                items.append(tok[2])
            elif tok == ("op", "\n"):
                pass
            else:
                self.error(tok)
            self.p += 1
        if not items:
            raise ShellSyntaxError("sh: syntax error: empty [[ ]]")
        return Cond(items)

    def regex_operand(self):
        """The right side of =~: words and ( ) | up to ]], && or || outside
        parentheses, joined as written (the lexer split them)."""
        from .lexer import Word
        parts = []
        depth = 0
        while True:
            tok = self.peek()
            if tok is None:
                self.error(tok)
            if self.word_is(tok, "]]") or (depth == 0 and self.is_op(tok, "&&", "||")):
                break
            if tok[0] == "word":
                parts.extend(tok[1].parts)
            elif self.is_op(tok, "(", ")", "|"):
                depth += {"(": 1, ")": -1, "|": 0}[tok[1]]
                parts.append(("lit", tok[1], False))
            else:
                self.error(tok)
            self.p += 1
        return Word(parts)

    def simple(self):
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
                    first = word.parts[0] if word.parts else None
                    if first is not None and first[0] == "lit" and not first[2]:
                        m = _ASSIGN_RE.match(first[1])
                        if m:
                            rest = first[1][m.end():]
                            parts = ([("lit", rest, False)] if rest else []) + word.parts[1:]
                            cmd.assigns.append((m.group(1), parts, bool(m.group(2))))
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
