"""awk: a POSIX awk for the one-liners agents write. Patterns and actions,
BEGIN and END, ranges, fields and FS/OFS/ORS/NR/NF/FNR/FILENAME, -F and
-v, associative arrays (SUBSEP, `in`, delete), user functions, if/while/
do/for/for-in, next, exit, print and printf (to stdout or a file with >
and >>), and the built-ins length substr index split sub gsub match
sprintf tolower toupper int sqrt exp log sin cos atan2 rand srand.
Strings that look like numbers (fields, split elements, -v values)
compare as numbers, as POSIX says. `print | "cmd"` feeds the command
(run by this shell, when the program ends or closes it). Not here:
getline and system()."""

import math
import random
import re

from .errors import CommandError, UsageError
from .posix_regex import _compile_regex
from .registry import _inputs, _read_text, builtin

_NUMERIC = re.compile(r"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)\s*\Z")
_PREFIX = re.compile(r"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")
_MAX_CALL_DEPTH = 200


class StrNum(str):
    """A string from input (a field, a split piece, a -v value): it
    compares as a number when it looks like one."""


class _Next(Exception):
    pass


class _Exit(Exception):
    def __init__(self, code):
        self.code = code


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def to_num(v):
    if isinstance(v, float):
        return v
    m = _PREFIX.match(v)
    if not m:
        return 0.0
    try:
        return float(m.group())
    except ValueError:
        return 0.0


def _fmt_num(v, fmt):
    if v == int(v) and abs(v) < 1e16:
        return str(int(v))
    try:
        return fmt % v
    except (TypeError, ValueError):
        return str(v)


def _looks_numeric(v):
    return isinstance(v, float) or (isinstance(v, StrNum) and (v == "" or _NUMERIC.match(v)))


# --- lexer ------------------------------------------------------------------

_KEYWORDS = {"BEGIN", "END", "function", "func", "if", "else", "while", "for", "do", "break",
             "continue", "next", "nextfile", "exit", "return", "delete", "in", "getline", "print",
             "printf"}
_BUILTIN_FUNCS = {"length", "substr", "index", "split", "sub", "gsub", "match", "sprintf",
                  "tolower", "toupper", "int", "sqrt", "exp", "log", "sin", "cos", "atan2",
                  "rand", "srand", "close", "system", "fflush"}
_PUNCT = ["**=", "^=", "+=", "-=", "*=", "/=", "%=", "==", "<=", ">=", "!=", "++", "--", "&&", "||",
          ">>", "!~", "**", "{", "}", "(", ")", "[", "]", ";", ",", "+", "-", "*", "/", "%", "^",
          "!", ">", "<", "|", "?", ":", "~", "$", "="]


def _lex(src):
    toks = []
    i = 0
    n = len(src)

    def regex_allowed():
        if not toks:
            return True
        kind, val = toks[-1]
        if kind in ("num", "str", "name", "func", "builtin", "ere"):
            return False
        return val not in (")", "]", "$", "++", "--")

    while i < n:
        c = src[i]
        if c in " \t\r":
            i += 1
        elif c == "\\" and src.startswith("\\\n", i):
            i += 2
        elif c == "\n":
            toks.append(("nl", "\n"))
            i += 1
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c == '"':
            j = i + 1
            out = []
            while j < n and src[j] != '"':
                if src[j] == "\\" and j + 1 < n:
                    e = src[j + 1]
                    esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "/": "/",
                           "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
                    if e in esc:
                        out.append(esc[e])
                        j += 2
                        continue
                    m = re.match(r"[0-7]{1,3}", src[j + 1:])
                    if m:
                        out.append(chr(int(m.group(), 8)))
                        j += 1 + len(m.group())
                        continue
                    out.append("\\" + e)
                    j += 2
                    continue
                out.append(src[j])
                j += 1
            if j >= n:
                raise CommandError("syntax error: unterminated string", 2)
            toks.append(("str", "".join(out)))
            i = j + 1
        elif c == "/" and regex_allowed():
            j = i + 1
            out = []
            in_bracket = False
            while j < n and (src[j] != "/" or in_bracket):
                if src[j] == "\\" and j + 1 < n:
                    out.append("/" if src[j + 1] == "/" else src[j:j + 2])
                    j += 2
                    continue
                if src[j] == "[":
                    in_bracket = True
                elif src[j] == "]":
                    in_bracket = False
                elif src[j] == "\n":
                    break
                out.append(src[j])
                j += 1
            if j >= n or src[j] != "/":
                raise CommandError("syntax error: unterminated regular expression", 2)
            toks.append(("ere", "".join(out)))
            i = j + 1
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = re.match(r"0[xX][0-9a-fA-F]+|\d*\.?\d*(?:[eE][-+]?\d+)?", src[i:])
            text = m.group()
            toks.append(("num", float(int(text, 16)) if text[:2].lower() == "0x" else float(text)))
            i += len(text)
        elif c.isalpha() or c == "_":
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", src[i:])
            word = m.group()
            i += len(word)
            if word in _KEYWORDS:
                toks.append(("kw", word))
            elif word in _BUILTIN_FUNCS:
                toks.append(("builtin", word))
            elif i < n and src[i] == "(":
                toks.append(("func", word))
            else:
                toks.append(("name", word))
        else:
            for p in _PUNCT:
                if src.startswith(p, i):
                    toks.append(("op", p))
                    i += len(p)
                    break
            else:
                raise CommandError(f"syntax error at `{c}'", 2)
    return toks


# --- parser -----------------------------------------------------------------

class _Parser:
    def __init__(self, toks):
        self.toks = toks
        self.p = 0
        self.funcs = {}

    def peek(self, k=0):
        i = self.p + k
        return self.toks[i] if i < len(self.toks) else (None, None)

    def at(self, kind, val=None):
        tok = self.peek()
        return tok[0] == kind and (val is None or tok[1] == val)

    def op(self, val):
        return self.at("op", val)

    def take(self, kind=None, val=None):
        tok = self.peek()
        if kind is not None and (tok[0] != kind or (val is not None and tok[1] != val)):
            found = tok[1] if tok[1] is not None else "end of program"
            want = val if val is not None else kind
            raise CommandError(f"syntax error: expected `{want}', found `{found}'", 2)
        self.p += 1
        return tok

    def skip_nl(self):
        while self.at("nl") or self.op(";"):
            self.p += 1

    def skip_newlines(self):
        while self.at("nl"):
            self.p += 1

    def program(self):
        items = []
        self.skip_nl()
        while self.peek()[0] is not None:
            if self.at("kw", "BEGIN"):
                self.p += 1
                self.skip_newlines()
                items.append(("BEGIN", None, self.block()))
            elif self.at("kw", "END"):
                self.p += 1
                self.skip_newlines()
                items.append(("END", None, self.block()))
            elif self.at("kw", "function") or self.at("kw", "func"):
                self.p += 1
                name = self.take()[1]
                self.take("op", "(")
                params = []
                while not self.op(")"):
                    params.append(self.take("name")[1])
                    if self.op(","):
                        self.p += 1
                        self.skip_newlines()
                self.take("op", ")")
                self.skip_newlines()
                self.funcs[name] = (params, self.block())
            else:
                pattern = None
                if not self.op("{"):
                    pattern = self.expr()
                    if self.op(","):
                        self.p += 1
                        self.skip_newlines()
                        pattern = ("range", pattern, self.expr(), [False])
                action = self.block() if self.op("{") else None
                items.append(("MAIN", pattern, action))
            self.skip_nl()
        return items

    def block(self):
        self.take("op", "{")
        stmts = self.stmt_list()
        self.take("op", "}")
        return ("block", stmts)

    def stmt_list(self):
        stmts = []
        self.skip_nl()
        while not self.op("}") and self.peek()[0] is not None:
            stmts.append(self.stmt())
            self.skip_nl()
        return stmts

    def end_simple(self):
        if self.op("|") and self.peek(1) == ("kw", "getline"):
            raise CommandError("getline is not supported in this sandbox awk (\"cmd\" | getline)", 2)
        if self.op(";") or self.at("nl"):
            self.p += 1
        elif not self.op("}") and self.peek()[0] is not None:
            found = self.peek()[1]
            raise CommandError(f"syntax error at `{found}'", 2)

    def stmt(self):
        tok = self.peek()
        if self.op("{"):
            return self.block()
        if tok == ("kw", "if"):
            self.p += 1
            self.take("op", "(")
            cond = self.expr()
            self.take("op", ")")
            self.skip_newlines()
            then = self.stmt()
            save = self.p
            self.skip_nl()
            if self.at("kw", "else"):
                self.p += 1
                self.skip_newlines()
                return ("if", cond, then, self.stmt())
            self.p = save
            return ("if", cond, then, None)
        if tok == ("kw", "while"):
            self.p += 1
            self.take("op", "(")
            cond = self.expr()
            self.take("op", ")")
            if self.op(";"):
                self.p += 1
                return ("while", cond, ("block", []))
            self.skip_newlines()
            return ("while", cond, self.stmt())
        if tok == ("kw", "do"):
            self.p += 1
            self.skip_newlines()
            body = self.stmt()
            self.skip_nl()
            self.take("kw", "while")
            self.take("op", "(")
            cond = self.expr()
            self.take("op", ")")
            self.end_simple()
            return ("do", body, cond)
        if tok == ("kw", "for"):
            self.p += 1
            self.take("op", "(")
            if self.at("name") and self.peek(1) == ("kw", "in") and self.peek(3) == ("op", ")"):
                var = self.take()[1]
                self.p += 1
                arr = self.take("name")[1]
                self.take("op", ")")
                self.skip_newlines()
                return ("forin", var, arr, self.stmt())
            init = None if self.op(";") else self.simple_stmt()
            self.take("op", ";")
            self.skip_newlines()
            cond = None if self.op(";") else self.expr()
            self.take("op", ";")
            self.skip_newlines()
            step = None if self.op(")") else self.simple_stmt()
            self.take("op", ")")
            if self.op(";"):
                self.p += 1
                return ("for", init, cond, step, ("block", []))
            self.skip_newlines()
            return ("for", init, cond, step, self.stmt())
        if self.op(";"):
            self.p += 1
            return ("block", [])
        node = self.simple_stmt()
        self.end_simple()
        return node

    def simple_stmt(self):
        tok = self.peek()
        if tok[0] == "kw":
            word = tok[1]
            if word in ("break", "continue", "next", "nextfile"):
                self.p += 1
                return (word,)
            if word in ("exit", "return"):
                self.p += 1
                value = None
                if not (self.op(";") or self.op("}") or self.at("nl") or self.peek()[0] is None):
                    value = self.expr()
                return (word, value)
            if word == "delete":
                self.p += 1
                name = self.take("name")[1]
                if self.op("["):
                    self.p += 1
                    subs = self.expr_list("]")
                    return ("delete", name, subs)
                return ("delete", name, None)
            if word in ("print", "printf"):
                return self.print_stmt()
            if word == "getline":
                raise CommandError("getline is not supported in this sandbox awk", 2)
        return ("expr", self.expr())

    def print_stmt(self):
        kind = self.take()[1]
        args = []
        if self.op("(") and self.print_paren_group():
            self.p += 1
            args = self.expr_list(")", no_gt=False)
        elif not (self.op(";") or self.op("}") or self.at("nl") or self.op(">") or self.op(">>")
                  or self.op("|") or self.peek()[0] is None):
            args.append(self.expr(no_gt=True))
            while self.op(","):
                self.p += 1
                self.skip_newlines()
                args.append(self.expr(no_gt=True))
        dest = None
        if self.op(">") or self.op(">>"):
            mode = self.take()[1]
            dest = (mode, self.concat(no_gt=True))
        elif self.op("|"):
            self.p += 1
            dest = ("|", self.concat(no_gt=True))
        if kind == "printf" and not args:
            raise CommandError("printf: no format", 2)
        return (kind, args, dest)

    def print_paren_group(self):
        """Whether `print (` opens the whole argument list: the matching ')'
        ends the statement or precedes a redirection."""
        depth = 0
        k = self.p
        while k < len(self.toks):
            tok = self.toks[k]
            if tok == ("op", "("):
                depth += 1
            elif tok == ("op", ")"):
                depth -= 1
                if depth == 0:
                    nxt = self.toks[k + 1] if k + 1 < len(self.toks) else (None, None)
                    return nxt[0] in (None, "nl") or nxt in (("op", ";"), ("op", "}"), ("op", ">"),
                                                            ("op", ">>"), ("op", "|"))
            k += 1
        return False

    def expr_list(self, closer, no_gt=False):
        items = []
        self.skip_newlines()
        while not self.op(closer):
            items.append(self.expr(no_gt=no_gt))
            self.skip_newlines()
            if self.op(","):
                self.p += 1
                self.skip_newlines()
        self.take("op", closer)
        return items

    # expressions, lowest precedence first

    def expr(self, no_gt=False):
        return self.ternary(no_gt)

    def ternary(self, no_gt):
        cond = self.or_(no_gt)
        if self.op("?"):
            self.p += 1
            self.skip_newlines()
            yes = self.ternary(no_gt)
            self.skip_newlines()
            self.take("op", ":")
            self.skip_newlines()
            return ("cond", cond, yes, self.ternary(no_gt))
        if self.peek()[0] == "op" and self.peek()[1] in ("=", "+=", "-=", "*=", "/=", "%=", "^=", "**="):
            if cond[0] in ("var", "field", "index"):
                op = self.take()[1]
                self.skip_newlines()
                return ("assign", op, cond, self.ternary(no_gt))
        return cond

    def or_(self, no_gt):
        left = self.and_(no_gt)
        while self.op("||"):
            self.p += 1
            self.skip_newlines()
            left = ("or", left, self.and_(no_gt))
        return left

    def and_(self, no_gt):
        left = self.in_(no_gt)
        while self.op("&&"):
            self.p += 1
            self.skip_newlines()
            left = ("and", left, self.in_(no_gt))
        return left

    def in_(self, no_gt):
        left = self.match(no_gt)
        while self.at("kw", "in"):
            self.p += 1
            left = ("in", [left], self.take("name")[1])
        return left

    def match(self, no_gt):
        left = self.compare(no_gt)
        while self.op("~") or self.op("!~"):
            neg = self.take()[1] == "!~"
            left = ("match", neg, left, self.compare(no_gt))
        return left

    def compare(self, no_gt):
        left = self.concat(no_gt)
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("<", "<=", "!=", "==", ">=", ">") and not (no_gt and tok[1] == ">"):
            self.p += 1
            return ("cmp", tok[1], left, self.concat(no_gt))
        return left

    def concat(self, no_gt):
        left = self.additive()
        while True:
            tok = self.peek()
            starts = tok[0] in ("num", "str", "ere", "name", "func", "builtin") or tok in (
                ("op", "$"), ("op", "!"), ("op", "("), ("op", "-"), ("op", "+"), ("op", "++"), ("op", "--"))
            if not starts or tok in (("op", "-"), ("op", "+")):
                return left
            left = ("concat", left, self.additive())

    def additive(self):
        left = self.mult()
        while self.op("+") or self.op("-"):
            op = self.take()[1]
            left = ("bin", op, left, self.mult())
        return left

    def mult(self):
        left = self.unary()
        while self.op("*") or self.op("/") or self.op("%"):
            op = self.take()[1]
            left = ("bin", op, left, self.unary())
        return left

    def unary(self):
        if self.op("!"):
            self.p += 1
            return ("not", self.unary())
        if self.op("-") or self.op("+"):
            op = self.take()[1]
            return ("neg" if op == "-" else "pos", self.unary())
        return self.power()

    def power(self):
        base = self.postfix()
        if self.op("^") or self.op("**"):
            self.p += 1
            return ("bin", "^", base, self.unary())
        return base

    def postfix(self):
        if self.op("++") or self.op("--"):
            op = self.take()[1]
            target = self.postfix()
            return ("preinc", 1 if op == "++" else -1, target)
        node = self.primary()
        if node[0] in ("var", "field", "index") and (self.op("++") or self.op("--")):
            op = self.take()[1]
            return ("postinc", 1 if op == "++" else -1, node)
        return node

    def primary(self):
        tok = self.take()
        kind, val = tok
        if kind == "num":
            return ("num", val)
        if kind == "str":
            return ("str", val)
        if kind == "ere":
            return ("ere", val)
        if tok == ("op", "$"):
            return ("field", self.postfix_field())
        if tok == ("op", "("):
            self.skip_newlines()
            first = self.expr()
            self.skip_newlines()
            if self.op(","):
                items = [first]
                while self.op(","):
                    self.p += 1
                    items.append(self.expr())
                self.take("op", ")")
                self.take("kw", "in")
                return ("in", items, self.take("name")[1])
            self.take("op", ")")
            return ("group", first)
        if kind == "name":
            if self.op("["):
                self.p += 1
                return ("index", val, self.expr_list("]"))
            return ("var", val)
        if kind == "func":
            self.take("op", "(")
            return ("call", val, self.expr_list(")"))
        if kind == "builtin":
            if self.op("("):
                self.p += 1
                return ("builtin", val, self.expr_list(")"))
            if val == "length":
                return ("builtin", val, [])
            raise CommandError(f"syntax error: {val} needs arguments", 2)
        if tok == ("kw", "getline"):
            raise CommandError("getline is not supported in this sandbox awk", 2)
        found = val if val is not None else "end of program"
        raise CommandError(f"syntax error at `{found}'", 2)

    def postfix_field(self):
        if self.op("++") or self.op("--") or self.op("-"):
            return self.unary()
        return self.primary()


# --- interpreter ------------------------------------------------------------

class Awk:
    def __init__(self, ctx, program, assigns):
        self.ctx = ctx
        parser = _Parser(_lex(program))
        self.items = parser.program()
        self.funcs = parser.funcs
        self.vars = {"FS": " ", "OFS": " ", "ORS": "\n", "RS": "\n", "NR": 0.0, "NF": 0.0,
                     "FNR": 0.0, "SUBSEP": "\034", "OFMT": "%.6g", "CONVFMT": "%.6g",
                     "FILENAME": "", "RSTART": 0.0, "RLENGTH": -1.0}
        self.arrays = {"ENVIRON": {k: StrNum(v) for k, v in ctx.env.items()}}
        self.frames = []
        self.fields = [""]
        self.nf_stale = False
        self.files = {}
        self.pipes = {}
        self.regex_cache = {}
        self.rand = random.Random(0)
        for name, value in assigns:
            self.vars[name] = StrNum(value)

    # values

    def to_str(self, v, fmt="CONVFMT"):
        if isinstance(v, float):
            return _fmt_num(v, self.vars.get(fmt, "%.6g"))
        return v

    def truth(self, v):
        if isinstance(v, float):
            return v != 0
        if isinstance(v, StrNum) and _NUMERIC.match(v):
            return to_num(v) != 0
        return v != ""

    def regex(self, pattern):
        r = self.regex_cache.get(pattern)
        if r is None:
            r = _compile_regex(pattern, True)
            self.regex_cache[pattern] = r
        return r

    def regex_of(self, node):
        if node[0] == "ere":
            return self.regex(node[1])
        return self.regex(self.to_str(self.eval(node)))

    # records and fields

    def set_record(self, text):
        self.fields = [text]
        self.split_record()

    def split_record(self):
        text = self.fields[0]
        fs = self.to_str(self.vars["FS"])
        if fs == " ":
            pieces = text.split()
        elif text == "":
            pieces = []
        elif len(fs) == 1 and fs != "\\":
            pieces = text.split(fs) if fs != " " else text.split()
        else:
            pieces = self.regex(fs).split(text)
        self.fields = [text] + [StrNum(p) for p in pieces]
        self.vars["NF"] = float(len(pieces))

    def get_field(self, k):
        if k < 0:
            raise CommandError(f"trying to access out of range field {k}")
        if k == 0:
            return StrNum(self.fields[0])
        return self.fields[k] if k < len(self.fields) else StrNum("")

    def set_field(self, k, value):
        value = self.to_str(value)
        if k == 0:
            self.set_record(value)
            return
        while len(self.fields) <= k:
            self.fields.append(StrNum(""))
        self.fields[k] = value
        self.vars["NF"] = float(len(self.fields) - 1)
        self.rebuild()

    def rebuild(self):
        ofs = self.to_str(self.vars["OFS"])
        self.fields[0] = ofs.join(self.to_str(f) for f in self.fields[1:])

    def set_nf(self, n):
        n = int(n)
        self.fields = self.fields[:n + 1] + [StrNum("")] * max(0, n + 1 - len(self.fields))
        self.vars["NF"] = float(n)
        self.rebuild()

    # variables

    def scope_of(self, name):
        if self.frames and name in self.frames[-1]:
            return self.frames[-1]
        return None

    def get_var(self, name):
        frame = self.scope_of(name)
        if frame is not None:
            v = frame[name]
            return StrNum("") if isinstance(v, dict) else v
        return self.vars.get(name, StrNum(""))

    def set_var(self, name, value):
        frame = self.scope_of(name)
        if frame is not None:
            frame[name] = value
        elif name == "NF":
            self.set_nf(to_num(value))
        else:
            self.vars[name] = value
            if name == "FS":
                pass

    def array(self, name):
        frame = self.scope_of(name)
        if frame is not None:
            if not isinstance(frame[name], dict):
                if frame[name] not in ("",) and not isinstance(frame[name], StrNum):
                    raise CommandError(f"can't use scalar {name} as array")
                frame[name] = {}
            return frame[name]
        if name in self.vars and name not in ("FS", "OFS"):
            raise CommandError(f"can't use scalar {name} as array")
        return self.arrays.setdefault(name, {})

    def subscript(self, subs):
        sep = self.to_str(self.vars["SUBSEP"])
        return sep.join(self.to_str(self.eval(s)) for s in subs)

    # evaluation

    def assign_to(self, target, value):
        kind = target[0]
        if kind == "var":
            self.set_var(target[1], value)
        elif kind == "field":
            self.set_field(int(to_num(self.eval(target[1]))), value)
        elif kind == "index":
            self.array(target[1])[self.subscript(target[2])] = value
        elif kind == "group":
            self.assign_to(target[1], value)
        else:
            raise CommandError("assignment to a non-variable")
        return value

    def eval(self, node):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "str":
            return node[1]
        if kind == "ere":
            return 1.0 if self.regex(node[1]).search(self.fields[0]) else 0.0
        if kind == "group":
            return self.eval(node[1])
        if kind == "var":
            return self.get_var(node[1])
        if kind == "field":
            return self.get_field(int(to_num(self.eval(node[1]))))
        if kind == "index":
            arr = self.array(node[1])
            key = self.subscript(node[2])
            if key not in arr:
                arr[key] = StrNum("")
            return arr[key]
        if kind == "in":
            return 1.0 if self.subscript(node[1]) in self.array(node[2]) else 0.0
        if kind == "assign":
            op, target, rhs = node[1], node[2], node[3]
            value = self.eval(rhs)
            if op != "=":
                value = self.arith(op[:-1] if op != "**=" else "^", to_num(self.eval(target)), to_num(value))
            elif isinstance(value, float) or isinstance(value, StrNum):
                pass
            return self.assign_to(target, value)
        if kind == "cond":
            return self.eval(node[2]) if self.truth(self.eval(node[1])) else self.eval(node[3])
        if kind == "or":
            return 1.0 if self.truth(self.eval(node[1])) or self.truth(self.eval(node[2])) else 0.0
        if kind == "and":
            return 1.0 if self.truth(self.eval(node[1])) and self.truth(self.eval(node[2])) else 0.0
        if kind == "not":
            return 0.0 if self.truth(self.eval(node[1])) else 1.0
        if kind == "match":
            found = self.regex_of(node[3]).search(self.to_str(self.eval(node[2]))) is not None
            return 1.0 if found != node[1] else 0.0
        if kind == "cmp":
            return 1.0 if self.compare(node[1], self.eval(node[2]), self.eval(node[3])) else 0.0
        if kind == "concat":
            return self.to_str(self.eval(node[1])) + self.to_str(self.eval(node[2]))
        if kind == "bin":
            return self.arith(node[1], to_num(self.eval(node[2])), to_num(self.eval(node[3])))
        if kind == "neg":
            return -to_num(self.eval(node[1]))
        if kind == "pos":
            return to_num(self.eval(node[1]))
        if kind == "preinc":
            return self.assign_to(node[2], to_num(self.eval(node[2])) + node[1])
        if kind == "postinc":
            old = to_num(self.eval(node[2]))
            self.assign_to(node[2], old + node[1])
            return old
        if kind == "call":
            return self.call(node[1], node[2])
        if kind == "builtin":
            return self.builtin(node[1], node[2])
        raise CommandError(f"cannot evaluate {kind}")

    @staticmethod
    def arith(op, a, b):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise CommandError("division by zero")
            return a / b
        if op == "%":
            if b == 0:
                raise CommandError("division by zero in %")
            return math.fmod(a, b)
        try:
            return float(a ** b)
        except (OverflowError, ZeroDivisionError, ValueError):
            return float("inf")

    def compare(self, op, a, b):
        if _looks_numeric(a) and _looks_numeric(b):
            x, y = to_num(a), to_num(b)
        else:
            x, y = self.to_str(a), self.to_str(b)
        return {"<": x < y, "<=": x <= y, "==": x == y, "!=": x != y, ">=": x >= y, ">": x > y}[op]

    def call(self, name, args):
        if name not in self.funcs:
            raise CommandError(f"function `{name}' is not defined")
        params, body = self.funcs[name]
        if len(args) > len(params):
            raise CommandError(f"function `{name}' called with more arguments than it takes")
        if len(self.frames) >= _MAX_CALL_DEPTH:
            raise CommandError("function calls nested too deeply")
        frame = {}
        for k, param in enumerate(params):
            if k < len(args):
                arg = args[k]
                if arg[0] == "var" and (arg[1] in self.arrays or (self.scope_of(arg[1]) is not None
                                                                  and isinstance(self.frames[-1][arg[1]], dict))):
                    frame[param] = self.array(arg[1])
                else:
                    frame[param] = self.eval(arg)
            else:
                frame[param] = StrNum("")
        self.frames.append(frame)
        try:
            self.run_stmt(body)
            return StrNum("")
        except _Return as r:
            return r.value
        finally:
            self.frames.pop()

    def builtin(self, name, args):
        ev = self.eval
        if name == "length":
            if not args:
                return float(len(self.fields[0]))
            if args[0][0] == "var" and (args[0][1] in self.arrays or isinstance(self.get_frame_value(args[0][1]), dict)):
                return float(len(self.array(args[0][1])))
            return float(len(self.to_str(ev(args[0]))))
        if name == "substr":
            s = self.to_str(ev(args[0]))
            start = to_num(ev(args[1]))
            start_r = math.floor(start + 0.5)
            if len(args) > 2:
                count = to_num(ev(args[2]))
                end_r = math.floor(start + count + 0.5)
            else:
                end_r = len(s) + 1
            lo = max(start_r, 1)
            hi = min(end_r, len(s) + 1)
            return s[lo - 1:hi - 1] if hi > lo else ""
        if name == "index":
            return float(self.to_str(ev(args[0])).find(self.to_str(ev(args[1]))) + 1)
        if name == "split":
            s = self.to_str(ev(args[0]))
            arr = self.array(args[1][1])
            arr.clear()
            if len(args) > 2:
                fs = self.to_str(ev(args[2])) if args[2][0] != "ere" else None
                pieces = self.regex(args[2][1]).split(s) if fs is None else (
                    s.split() if fs == " " else (s.split(fs) if len(fs) == 1 else self.regex(fs).split(s)))
            else:
                fs = self.to_str(self.vars["FS"])
                pieces = s.split() if fs == " " else (s.split(fs) if len(fs) == 1 else self.regex(fs).split(s))
            if s == "":
                pieces = []
            for k, piece in enumerate(pieces):
                arr[str(k + 1)] = StrNum(piece)
            return float(len(pieces))
        if name in ("sub", "gsub"):
            regex = self.regex_of(args[0])
            repl = self.to_str(ev(args[1]))
            target = args[2] if len(args) > 2 else ("field", ("num", 0.0))
            text = self.to_str(ev(target))
            count = 0

            def substitute(m):
                nonlocal count
                count += 1
                out = []
                i = 0
                while i < len(repl):
                    if repl[i] == "\\" and i + 1 < len(repl) and repl[i + 1] in "&\\":
                        out.append(repl[i + 1])
                        i += 2
                    elif repl[i] == "&":
                        out.append(m.group())
                        i += 1
                    else:
                        out.append(repl[i])
                        i += 1
                return "".join(out)

            result = regex.sub(substitute, text, count=1 if name == "sub" else 0)
            if count:
                self.assign_to(target, result)
            return float(count)
        if name == "match":
            m = self.regex_of(args[1]).search(self.to_str(ev(args[0])))
            self.vars["RSTART"] = float(m.start() + 1) if m else 0.0
            self.vars["RLENGTH"] = float(len(m.group())) if m else -1.0
            return self.vars["RSTART"]
        if name == "sprintf":
            if not args:
                raise CommandError("sprintf: no format")
            return self.format(self.to_str(ev(args[0])), [ev(a) for a in args[1:]])
        if name in ("tolower", "toupper"):
            s = self.to_str(ev(args[0]))
            return s.lower() if name == "tolower" else s.upper()
        if name == "int":
            return float(math.trunc(to_num(ev(args[0]))))
        if name in ("sqrt", "exp", "log", "sin", "cos"):
            x = to_num(ev(args[0]))
            try:
                return float(getattr(math, name)(x))
            except (ValueError, OverflowError):
                return float("nan")
        if name == "atan2":
            return math.atan2(to_num(ev(args[0])), to_num(ev(args[1])))
        if name == "rand":
            return self.rand.random()
        if name == "srand":
            seed = to_num(ev(args[0])) if args else 0.0
            self.rand.seed(seed)
            return 0.0
        if name == "close":
            target = self.to_str(ev(args[0])) if args else ""
            if target in self.pipes:
                return float(self.flush_pipe(target))
            handle = self.files.pop(target, None)
            if handle is not None:
                handle.close()
                return 0.0
            return -1.0
        if name == "fflush":
            return 0.0
        raise CommandError(f"{name}(): not supported in this sandbox awk")

    def get_frame_value(self, name):
        frame = self.scope_of(name)
        return frame[name] if frame is not None else None

    def format(self, fmt, values):
        out = []
        i = 0
        k = 0

        def nextval():
            nonlocal k
            v = values[k] if k < len(values) else StrNum("")
            k += 1
            return v

        while i < len(fmt):
            c = fmt[i]
            if c != "%":
                out.append(c)
                i += 1
                continue
            m = re.match(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([cdiouxXeEfFgGs%])", fmt[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            flags, width, prec, conv = m.groups()
            i += len(m.group())
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = str(int(to_num(nextval())))
            if prec == "*":
                prec = str(int(to_num(nextval())))
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            v = nextval()
            if conv == "c":
                ch = chr(int(to_num(v))) if isinstance(v, float) else (self.to_str(v)[:1])
                out.append((spec + "s") % ch)
            elif conv in "diouxX":
                n = int(to_num(v))
                out.append((spec + ("d" if conv in "iu" else conv)) % n)
            elif conv in "eEfFgG":
                out.append((spec + conv) % to_num(v))
            else:
                out.append((spec + "s") % self.to_str(v))
        return "".join(out)

    # statements

    def output(self, text, dest):
        if dest is None:
            self.ctx.out(text)
            return
        mode, target = dest
        name = self.to_str(self.eval(target))
        if mode == "|":
            self.pipes.setdefault(name, []).append(text)
            return
        handle = self.files.get(name)
        if handle is None:
            if name in ("/dev/stdout", "-"):
                self.ctx.out(text)
                return
            if name == "/dev/stderr":
                self.ctx.err(text)
                return
            handle = open(name, "a" if mode == ">>" else "w", encoding="utf-8", newline="")
            self.files[name] = handle
        handle.write(text)

    def flush_pipe(self, command):
        """Runs `command` with what was printed to it as its stdin."""
        text = "".join(self.pipes.pop(command, []))
        return self.ctx.shell.run_source(command, text, self.ctx.stdout, self.ctx.stderr)

    def run_stmt(self, node):
        kind = node[0]
        if kind == "block":
            for stmt in node[1]:
                self.run_stmt(stmt)
        elif kind == "expr":
            self.eval(node[1])
        elif kind == "print":
            args = node[1]
            if not args:
                text = self.fields[0]
            else:
                ofs = self.to_str(self.vars["OFS"])
                text = ofs.join(self.to_str(self.eval(a), "OFMT") for a in args)
            self.output(text + self.to_str(self.vars["ORS"]), node[2])
        elif kind == "printf":
            values = [self.eval(a) for a in node[1]]
            self.output(self.format(self.to_str(values[0]), values[1:]), node[2])
        elif kind == "if":
            if self.truth(self.eval(node[1])):
                self.run_stmt(node[2])
            elif node[3] is not None:
                self.run_stmt(node[3])
        elif kind == "while":
            while self.truth(self.eval(node[1])):
                try:
                    self.run_stmt(node[2])
                except _Break:
                    break
                except _Continue:
                    continue
        elif kind == "do":
            while True:
                try:
                    self.run_stmt(node[1])
                except _Break:
                    break
                except _Continue:
                    pass
                if not self.truth(self.eval(node[2])):
                    break
        elif kind == "for":
            _, init, cond, step, body = node
            if init is not None:
                self.run_stmt(init)
            while cond is None or self.truth(self.eval(cond)):
                try:
                    self.run_stmt(body)
                except _Break:
                    break
                except _Continue:
                    pass
                if step is not None:
                    self.run_stmt(step)
        elif kind == "forin":
            _, var, arr, body = node
            for key in list(self.array(arr)):
                self.set_var(var, StrNum(key))
                try:
                    self.run_stmt(body)
                except _Break:
                    break
                except _Continue:
                    continue
        elif kind == "delete":
            arr = self.array(node[1])
            if node[2] is None:
                arr.clear()
            else:
                arr.pop(self.subscript(node[2]), None)
        elif kind == "break":
            raise _Break()
        elif kind == "continue":
            raise _Continue()
        elif kind in ("next", "nextfile"):
            raise _Next()
        elif kind == "exit":
            raise _Exit(int(to_num(self.eval(node[1]))) if node[1] is not None else None)
        elif kind == "return":
            raise _Return(self.eval(node[1]) if node[1] is not None else StrNum(""))
        else:
            raise CommandError(f"cannot run {kind}")

    def matches(self, pattern):
        if pattern is None:
            return True
        if pattern[0] == "range":
            _, start, end, state = pattern
            if not state[0]:
                if self.truth(self.eval(start)):
                    state[0] = not self.truth(self.eval(end))
                    return True
                return False
            if self.truth(self.eval(end)):
                state[0] = False
            return True
        return self.truth(self.eval(pattern))

    def run(self, inputs):
        code = 0
        try:
            try:
                for kind, _pattern, action in self.items:
                    if kind == "BEGIN":
                        self.run_stmt(action)
                mains = [item for item in self.items if item[0] == "MAIN"]
                ends = [item for item in self.items if item[0] == "END"]
                if mains or ends:
                    for name, text in inputs():
                        self.vars["FILENAME"] = "" if name == "-" else name
                        self.vars["FNR"] = 0.0
                        records = text.split("\n")
                        if records and records[-1] == "":
                            records.pop()
                        for record in records:
                            self.vars["NR"] = to_num(self.vars["NR"]) + 1
                            self.vars["FNR"] = to_num(self.vars["FNR"]) + 1
                            self.set_record(record)
                            try:
                                for _kind, pattern, action in mains:
                                    if self.matches(pattern):
                                        if action is None:
                                            self.ctx.out(self.fields[0] + self.to_str(self.vars["ORS"]))
                                        else:
                                            self.run_stmt(action)
                            except _Next:
                                continue
            except _Exit as e:
                # exit in BEGIN or a main rule still runs the END rules.
                code = e.code or 0
            try:
                for kind, _pattern, action in self.items:
                    if kind == "END":
                        self.run_stmt(action)
            except _Exit as e:
                code = e.code if e.code is not None else code
        finally:
            for handle in self.files.values():
                handle.close()
            for command in list(self.pipes):
                self.flush_pipe(command)
        return code


@builtin("awk", "gawk", "mawk", usage="awk [-F FS] [-v NAME=VALUE] 'PROGRAM' [file...] | awk -f PROGFILE [file...]")
def _awk(ctx, args):
    fs = None
    assigns = []
    program = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a.startswith("-F"):
            if len(a) > 2:
                fs = a[2:]
            else:
                i += 1
                if i >= len(args):
                    raise UsageError("option requires an argument -- 'F'")
                fs = args[i]
        elif a.startswith("-v"):
            item = a[2:] if len(a) > 2 else (args[i + 1] if i + 1 < len(args) else None)
            if len(a) == 2:
                i += 1
            if item is None or "=" not in item:
                raise UsageError("-v needs NAME=VALUE")
            name, _, value = item.partition("=")
            assigns.append((name, _unescape_awk(value)))
        elif a.startswith("-f"):
            path = a[2:] if len(a) > 2 else (args[i + 1] if i + 1 < len(args) else None)
            if len(a) == 2:
                i += 1
            if path is None:
                raise UsageError("option requires an argument -- 'f'")
            program = (program or "") + _read_text(path) + "\n"
        elif a == "--posix" or a == "-P":
            pass
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option {a}")
        else:
            break
        i += 1
    if program is None:
        if i >= len(args):
            raise UsageError("no program given")
        program = args[i]
        i += 1
    files = []
    for operand in args[i:]:
        if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", operand):
            name, _, value = operand.partition("=")
            assigns.append((name, _unescape_awk(value)))
        else:
            files.append(operand)
    if fs is not None:
        assigns.append(("FS", "\t" if fs == "t" else _unescape_awk(fs)))
    try:
        awk = Awk(ctx, program, assigns)
        return awk.run(lambda: _inputs(ctx, files))
    except RecursionError:
        raise CommandError("program nested too deeply", 2)


def _unescape_awk(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "\\": "\\"}.get(m.group(1), m.group(1)), value)
