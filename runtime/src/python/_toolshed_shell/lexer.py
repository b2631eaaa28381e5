"""The tokenizer: command text to words and operators; here-documents are
read here too."""

import re

from .errors import ShellSyntaxError, _unsupported


# A token is ('word', Word), ('op', text) for | || && ; ;; ;& ;;& ( ) and
# newline, ('arith', text) for a (( ... )) command, or ('redir', fd, op)
# where fd is a number or '&' (both stdout and stderr) and op is one of
# > >> >& < << <<- <<<. The redirection target is the word token that
# follows.

class Word:
    """One shell word, as a list of parts that keep their quoting:
    ('lit', text, quoted), ('var', name, quoted, op, arg) (arg: the raw
    text of the operand, expanded when used), ('cmdsub', source, quoted),
    ('arith', expression, quoted) or ('tilde',). A here-document delimiter
    word also carries the document's parts."""

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
            elif part[0] == "cmdsub":
                out.append("$(" + part[1] + ")")
            elif part[0] == "procsub":
                out.append("<(" + part[1] + ")")
            elif part[0] == "arith":
                out.append("$((" + part[1] + "))")
            else:
                out.append("$" + part[1])
        return "".join(out)


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_RE = re.compile(
    r"(#?)([A-Za-z_][A-Za-z0-9_]*|[?$#!@*0-9]|[1-9][0-9]+)"
    r"(?:(:[-=+?]|[-=+?]|%%|%|##|#|//|/#|/%|/|\^\^|\^|,,|,|:)(.*))?\Z", re.S)


def _skip_quoted(src, j):
    """The index after the quoted string or escape starting at src[j]."""
    c = src[j]
    if c == "\\":
        return j + 2
    if c == "'":
        k = src.find("'", j + 1)
        if k < 0:
            raise ShellSyntaxError("sh: syntax error: unterminated single-quoted string")
        return k + 1
    # a double-quoted string
    k = j + 1
    while k < len(src):
        if src[k] == "\\":
            k += 2
        elif src[k] == '"':
            return k + 1
        elif src[k] == "$" and src.startswith("$(", k):
            k = _matching_paren(src, k + 1) + 1
        elif src[k] == "`":
            k = _closing_backtick(src, k) + 1
        else:
            k += 1
    raise ShellSyntaxError("sh: syntax error: unterminated double-quoted string")


def _matching_paren(src, j):
    """The index of the ')' that closes the '(' at src[j] (quotes, nested
    substitutions and case patterns' lone ')' aside)."""
    depth = 0
    k = j
    while k < len(src):
        c = src[k]
        if c in "\\'\"":
            k = _skip_quoted(src, k)
            continue
        if c == "`":
            k = _closing_backtick(src, k) + 1
            continue
        if c == "#" and (k == 0 or src[k - 1] in " \t\n;"):
            nl = src.find("\n", k)
            k = len(src) if nl < 0 else nl
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    raise ShellSyntaxError("sh: syntax error: unexpected end of input: missing ')'")


def _closing_backtick(src, j):
    k = j + 1
    while k < len(src):
        if src[k] == "\\":
            k += 2
        elif src[k] == "`":
            return k
        else:
            k += 1
    raise ShellSyntaxError("sh: syntax error: unexpected end of input: missing '`'")


def _matching_brace(src, j):
    """The index of the '}' closing the '${' whose '{' is at src[j]."""
    depth = 0
    k = j
    while k < len(src):
        c = src[k]
        if c in "\\'\"":
            k = _skip_quoted(src, k)
            continue
        if c == "$" and src.startswith("$(", k):
            k = _matching_paren(src, k + 1) + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    raise ShellSyntaxError("sh: bad substitution: missing '}'")


def _backtick_source(src, j):
    """The command inside the backticks at src[j] and the index after them;
    \\`, \\\\ and \\$ lose their backslash."""
    k = _closing_backtick(src, j)
    body = re.sub(r"\\([`\\$])", r"\1", src[j + 1:k])
    return body, k + 1


def _read_dollar(src, i, quoted):
    """Reads the expansion starting at src[i] == '$'; returns (part, next index)."""
    n = len(src)
    j = i + 1
    if j >= n:
        return ("lit", "$", quoted), j
    c = src[j]
    if c == "(":
        if src.startswith("((", j):
            end = _arith_end(src, j + 2)
            if end is not None:
                return ("arith", src[j + 2:end], quoted), end + 2
        k = _matching_paren(src, j)
        return ("cmdsub", src[j + 1:k], quoted), k + 1
    if c == "{":
        k = _matching_brace(src, j)
        body = src[j + 1:k]
        indexed = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+|[@*])\]", body)
        if indexed:
            if indexed.group(1) == "BASH_REMATCH" and indexed.group(2).isdigit():
                return ("var", "BASH_REMATCH_" + indexed.group(2), quoted, None, ""), k + 1
            raise _unsupported("arrays (${name[...]})")
        m = _BRACED_RE.match(body)
        if not m or (m.group(1) and m.group(3)):
            raise ShellSyntaxError("sh: ${%s}: bad substitution" % body, 1)
        length, name, op, arg = m.groups()
        return ("var", name, quoted, "len" if length else op, arg or ""), k + 1
    m = _NAME_RE.match(src, j)
    if m:
        return ("var", m.group(), quoted, None, ""), m.end()
    if c in "?$#!@*-0123456789":
        return ("var", c, quoted, None, ""), j + 1
    return ("lit", "$", quoted), j


def _arith_end(src, j):
    """The index of the '))' closing an arithmetic expression that starts
    at src[j], or None when the parentheses do not close that way (then
    it is a command substitution of a subshell)."""
    depth = 0
    k = j
    while k < len(src):
        c = src[k]
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return k if src.startswith("))", k) else None
            depth -= 1
        elif c == "$" and src.startswith("$(", k) and not src.startswith("$((", k):
            k = _matching_paren(src, k + 1)
        k += 1
    return None


def word_parts(text, quoted):
    """The parts of an operand (as in ${x:-TEXT}): quotes, escapes and
    expansions, spaces kept (no field splitting); `quoted` when the whole
    expansion sits in double quotes."""
    parts = []

    def lit(chunk, q):
        if parts and parts[-1][0] == "lit" and parts[-1][2] == q:
            parts[-1] = ("lit", parts[-1][1] + chunk, q)
        else:
            parts.append(("lit", chunk, q))

    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            lit(text[i + 1], True)
            i += 2
        elif c == "'" and not quoted:
            k = text.find("'", i + 1)
            if k < 0:
                raise ShellSyntaxError("sh: syntax error: unterminated single-quoted string")
            lit(text[i + 1:k], True)
            i = k + 1
        elif c == '"':
            k = _skip_quoted(text, i) - 1
            inner = word_parts(text[i + 1:k], True)
            lit("", True)
            parts.extend(inner)
            i = k + 1
        elif c == "$":
            part, i = _read_dollar(text, i, quoted)
            if part[0] == "lit":
                lit(part[1], part[2])
            else:
                parts.append(part)
        elif c == "`":
            body, i = _backtick_source(text, i)
            parts.append(("cmdsub", body, quoted))
        else:
            lit(c, quoted)
            i += 1
    return parts


_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
         "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _ansi_c(src, j):
    """The text of a $'...' string whose body starts at src[j], and the
    index after its closing quote."""
    out = []
    while j < len(src):
        c = src[j]
        if c == "'":
            return "".join(out), j + 1
        if c == "\\" and j + 1 < len(src):
            e = src[j + 1]
            if e in _ANSI:
                out.append(_ANSI[e])
                j += 2
            elif e == "x":
                m = re.match(r"[0-9A-Fa-f]{1,2}", src[j + 2:])
                out.append(chr(int(m.group(), 16)) if m else "\\x")
                j += 2 + (len(m.group()) if m else 0)
            elif e in "uU":
                m = re.match(r"[0-9A-Fa-f]{1,%d}" % (4 if e == "u" else 8), src[j + 2:])
                out.append(chr(int(m.group(), 16)) if m else "\\" + e)
                j += 2 + (len(m.group()) if m else 0)
            elif e in "01234567":
                m = re.match(r"[0-7]{1,3}", src[j + 1:])
                out.append(chr(int(m.group(), 8)))
                j += 1 + len(m.group())
            else:
                out.append("\\" + e)
                j += 2
            continue
        out.append(c)
        j += 1
    raise ShellSyntaxError("sh: syntax error: unterminated $'...' string")


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
            if buf:
                parts.append(("lit", "".join(buf), True))
                buf = []
            source, i = _backtick_source(body, i)
            parts.append(("cmdsub", source, True))
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
            elif c == "$" and src.startswith("$'", self.i):
                text, self.i = _ansi_c(src, self.i + 2)
                self.add("lit", text, True)
            elif c == "$":
                part, self.i = _read_dollar(src, self.i, False)
                self.add_part(part)
            elif c == "`":
                body, self.i = _backtick_source(src, self.i)
                self.add("cmdsub", body, False)
            elif c == "(" and self.word is not None and (self.word.literal() or "").endswith("="):
                raise _unsupported("arrays (name=(...))")
            elif c in "()":
                self.flush()
                if c == "(" and src.startswith("((", self.i) and self.at_command_start():
                    end = _arith_end(src, self.i + 2)
                    if end is not None:
                        self.tokens.append(("arith", src[self.i + 2:end]))
                        self.i = end + 2
                        continue
                self.tokens.append(("op", c))
                self.i += 1
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

    def at_command_start(self):
        """Whether the next word would start a command (for `((`)."""
        if not self.tokens:
            return True
        last = self.tokens[-1]
        if last[0] == "op":
            return last[1] in ("\n", ";", "&&", "||", "|", "(", ";;", ";&", ";;&")
        if last[0] == "word":
            return last[1].literal() in ("then", "do", "else", "elif", "if", "while", "until", "{", "!", "for")
        return False

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
                if buf:
                    self.add("lit", "".join(buf), True)
                    buf = []
                body, j = _backtick_source(src, j)
                self.add("cmdsub", body, True)
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
        if two in ("<(", ">(") and (self.word is None or self.word.literal() is None
                                    or not re.fullmatch(r"[0-9]+", self.word.literal())):
            if c == ">":
                raise _unsupported("output process substitution >(...)")
            k = _matching_paren(src, i + 1)
            self.add("procsub", src[i + 2:k], False)
            self.i = k + 1
            return
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
            if three == ";;&":
                toks.append(("op", ";;&"))
                i += 3
            elif two in (";;", ";&"):
                toks.append(("op", two))
                i += 2
            else:
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
