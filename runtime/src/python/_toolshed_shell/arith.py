"""Shell arithmetic: $(( )), (( )) and `let`. C-like integer expressions
with bash's operators and precedence: variables (unset or empty is 0),
decimal, 0x hex, 0 octal and BASE#DIGITS numbers, ++/--, assignment
operators, the ternary, and short-circuit && ||. Integers are 64-bit and
wrap as bash's do; division by zero is an error."""

import re

from .errors import CommandError, FatalExpansion

_MASK = (1 << 64) - 1
_TOKEN = re.compile(r"\s*(?:(0[xX][0-9A-Fa-f]+|[0-9]+#[0-9A-Za-z@_]+|[0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|"
                    r"(\*\*=|<<=|>>=|\+\+|--|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>&|^!~?:=(),]))")
_MAX_DEPTH = 200


def _wrap(value):
    value &= _MASK
    return value - (1 << 64) if value >> 63 else value


class ArithError(FatalExpansion):
    def __init__(self, expr, message):
        super().__init__(f"{expr.strip()}: {message}", 1)


def _number(text, expr):
    try:
        if "#" in text:
            base, digits = text.split("#", 1)
            base = int(base)
            if not 2 <= base <= 64:
                raise ValueError
            value = 0
            alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@_"
            for ch in digits:
                d = alphabet.index(ch) if base > 36 else alphabet.index(ch.lower())
                if d >= base:
                    raise ValueError
                value = value * base + d
            return value
        if text[:2] in ("0x", "0X"):
            return int(text, 16)
        if len(text) > 1 and text[0] == "0":
            return int(text, 8)
        return int(text)
    except ValueError:
        raise ArithError(expr, f"value too great for base (error token is \"{text}\")")


class _Eval:
    def __init__(self, expr, shell):
        self.expr = expr
        self.shell = shell
        self.toks = self.tokenize(expr)
        self.p = 0
        self.depth = 0
        self.skip = 0   # > 0 inside an unevaluated branch (no side effects)

    def tokenize(self, expr):
        toks = []
        i = 0
        while i < len(expr):
            m = _TOKEN.match(expr, i)
            if not m or m.end() == i:
                if expr[i:].strip() == "":
                    break
                raise ArithError(expr, f"syntax error: invalid arithmetic operator (error token is \"{expr[i:].strip()}\")")
            num, name, op = m.groups()
            if num is not None:
                toks.append(("num", num))
            elif name is not None:
                toks.append(("name", name))
            elif op is not None:
                toks.append(("op", op))
            i = m.end()
        return toks

    def peek(self):
        return self.toks[self.p] if self.p < len(self.toks) else (None, None)

    def take(self, op=None):
        tok = self.peek()
        if op is not None and tok != ("op", op):
            found = tok[1] if tok[1] is not None else "end of expression"
            raise ArithError(self.expr, f"syntax error: `{op}' expected (error token is \"{found}\")")
        self.p += 1
        return tok

    def var(self, name):
        value = self.shell.get_var(name)
        if value is None or value.strip() == "":
            if value is None and self.shell.options.get("nounset"):
                raise CommandError(f"{name}: unbound variable", 1)
            return 0
        value = value.strip()
        if re.fullmatch(r"-?[0-9]+|-?0[xX][0-9A-Fa-f]+|[0-9]+#[0-9A-Za-z@_]+", value):
            neg = value.startswith("-")
            n = _number(value.lstrip("-"), self.expr)
            return -n if neg else n
        # A variable holding an expression is evaluated, as bash does.
        if self.depth > _MAX_DEPTH:
            raise ArithError(self.expr, "expression recursion level exceeded")
        sub = _Eval(value, self.shell)
        sub.depth = self.depth + 1
        return sub.run()

    def assign(self, name, value):
        if not self.skip:
            self.shell.set_var(name, str(value))
        return value

    def run(self):
        if not self.toks:
            return 0
        value = self.comma()
        if self.p < len(self.toks):
            raise ArithError(self.expr, f"syntax error in expression (error token is \"{self.toks[self.p][1]}\")")
        return value

    def comma(self):
        value = self.assignment()
        while self.peek() == ("op", ","):
            self.take()
            value = self.assignment()
        return value

    _ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^=", "**="}

    def assignment(self):
        tok = self.peek()
        if tok[0] == "name" and self.p + 1 < len(self.toks) and self.toks[self.p + 1][0] == "op" \
                and self.toks[self.p + 1][1] in self._ASSIGN_OPS:
            name = tok[1]
            self.p += 1
            op = self.take()[1]
            rhs = self.assignment()
            if op == "=":
                return self.assign(name, rhs)
            return self.assign(name, self.binary(op[:-1], self.var(name), rhs))
        return self.ternary()

    def ternary(self):
        cond = self.logical_or()
        if self.peek() != ("op", "?"):
            return cond
        self.take()
        if not cond:
            self.skip += 1
        yes = self.assignment()
        if not cond:
            self.skip -= 1
        self.take(":")
        if cond:
            self.skip += 1
        no = self.assignment()
        if cond:
            self.skip -= 1
        return yes if cond else no

    def logical_or(self):
        value = self.logical_and()
        while self.peek() == ("op", "||"):
            self.take()
            if value:
                self.skip += 1
                self.logical_and()
                self.skip -= 1
                value = 1
            else:
                value = 1 if self.logical_and() else 0
        return value

    def logical_and(self):
        value = self.binop_level(0)
        while self.peek() == ("op", "&&"):
            self.take()
            if not value:
                self.skip += 1
                self.binop_level(0)
                self.skip -= 1
                value = 0
            else:
                value = 1 if self.binop_level(0) else 0
        return value

    _LEVELS = [("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="), ("<<", ">>"),
               ("+", "-"), ("*", "/", "%")]

    def binop_level(self, level):
        if level == len(self._LEVELS):
            return self.power()
        value = self.binop_level(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self._LEVELS[level]:
            op = self.take()[1]
            value = self.binary(op, value, self.binop_level(level + 1))
        return value

    def binary(self, op, a, b):
        if op in ("/", "%"):
            if b == 0:
                if self.skip:
                    return 0
                raise ArithError(self.expr, "division by 0 (error token is \"0\")")
            q = abs(a) // abs(b)
            q = q if (a >= 0) == (b >= 0) else -q
            return _wrap(q) if op == "/" else _wrap(a - q * b)
        if op == "**":
            if b < 0:
                raise ArithError(self.expr, "exponent less than 0")
            return _wrap(pow(a, b, 1 << 64))
        result = {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "<<": lambda: a << (b & 63), ">>": lambda: a >> (b & 63),
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
            "==": lambda: int(a == b), "!=": lambda: int(a != b),
            "<": lambda: int(a < b), ">": lambda: int(a > b),
            "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        }[op]()
        return _wrap(result)

    def power(self):
        base = self.unary()
        if self.peek() == ("op", "**"):
            self.take()
            return self.binary("**", base, self.power())
        return base

    def unary(self):
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("+", "-", "!", "~"):
            self.take()
            value = self.unary()
            return {"+": value, "-": _wrap(-value), "!": int(not value), "~": _wrap(~value)}[tok[1]]
        if tok[0] == "op" and tok[1] in ("++", "--"):
            self.take()
            name = self.take()
            if name[0] != "name":
                raise ArithError(self.expr, "syntax error: operand expected")
            return self.assign(name[1], self.var(name[1]) + (1 if tok[1] == "++" else -1))
        return self.postfix()

    def postfix(self):
        tok = self.take()
        if tok[0] == "num":
            return _wrap(_number(tok[1], self.expr))
        if tok[0] == "name":
            nxt = self.peek()
            if nxt[0] == "op" and nxt[1] in ("++", "--"):
                self.take()
                value = self.var(tok[1])
                self.assign(tok[1], value + (1 if nxt[1] == "++" else -1))
                return value
            return self.var(tok[1])
        if tok == ("op", "("):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise ArithError(self.expr, "expression nested too deeply")
            value = self.comma()
            self.depth -= 1
            self.take(")")
            return value
        found = tok[1] if tok[1] is not None else "end of expression"
        raise ArithError(self.expr, f"syntax error: operand expected (error token is \"{found}\")")


def evaluate(expr, shell):
    """The value of the arithmetic expression `expr` (variables read and
    assigned through `shell`)."""
    return _Eval(expr, shell).run()
