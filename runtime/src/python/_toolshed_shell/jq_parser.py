"""The jq subset's compiler: a filter is tokenized and parsed into a tuple
AST, which jq.py evaluates with generators (a jq filter yields zero or more
outputs per input)."""

import re


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
