"""[[ ... ]]: the bash conditional expression. Operands are expanded
without field splitting or globbing; the right side of == and != is a
pattern (quoted parts literal), of =~ a regular expression whose groups
land in BASH_REMATCH; && || ! ( ) combine; -f -d -e -s -r -w -x -z -n and
the other unary tests, = == != < > and -eq -ne -lt -le -gt -ge compare."""

import os
import re

from .errors import CommandError

_UNARY = {"-e", "-a", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-z", "-n", "-v", "-b", "-c", "-p", "-S"}
_BINARY = {"=", "==", "!=", "<", ">", "=~", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"}


class CondEval:
    def __init__(self, shell, items):
        self.shell = shell
        self.items = items
        self.p = 0

    def peek(self):
        return self.items[self.p] if self.p < len(self.items) else None

    @staticmethod
    def lit(item):
        """An item's plain text when it is an operator or an unquoted word."""
        if isinstance(item, str):
            return item
        return item.literal() if item is not None else None

    def run(self):
        value = self.or_expr()
        if self.p != len(self.items):
            raise CommandError(f"syntax error in conditional expression near `{self.show(self.peek())}'", 2)
        return value

    @staticmethod
    def show(item):
        return item if isinstance(item, str) else item.text()

    def or_expr(self):
        value = self.and_expr()
        while self.peek() == "||":
            self.p += 1
            right = self.and_expr()
            value = value or right
        return value

    def and_expr(self):
        value = self.not_expr()
        while self.peek() == "&&":
            self.p += 1
            right = self.not_expr()
            value = value and right
        return value

    def not_expr(self):
        if self.lit(self.peek()) == "!":
            self.p += 1
            return not self.not_expr()
        return self.primary()

    def text(self, item):
        if isinstance(item, str):
            return item
        return self.shell.expand_plain(item.parts)

    def primary(self):
        item = self.peek()
        if item is None:
            raise CommandError("syntax error in conditional expression: unexpected end", 2)
        if item == "(":
            self.p += 1
            value = self.or_expr()
            if self.peek() != ")":
                raise CommandError("syntax error in conditional expression: `)' expected", 2)
            self.p += 1
            return value
        op = self.lit(item)
        nxt = self.items[self.p + 1] if self.p + 1 < len(self.items) else None
        after = self.items[self.p + 2] if self.p + 2 < len(self.items) else None
        if op in _UNARY and nxt is not None and nxt not in ("&&", "||", ")") and self.lit(after) not in _BINARY:
            self.p += 2
            return self.unary(op, self.text(nxt))
        left = self.text(item)
        self.p += 1
        bop = self.lit(self.peek())
        if bop in _BINARY:
            self.p += 1
            right_item = self.peek()
            if right_item is None:
                raise CommandError(f"unexpected argument to conditional binary operator `{bop}'", 2)
            self.p += 1
            return self.binary(left, bop, right_item)
        return left != ""

    def unary(self, op, arg):
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        if op == "-v":
            return self.shell.get_var(arg) is not None
        try:
            if op in ("-L", "-h"):
                return os.path.islink(arg)
            st = os.stat(arg)
        except OSError:
            return False
        import stat as _stat
        from .registry import file_mode
        mode = file_mode(st)
        if op in ("-e", "-a"):
            return True
        if op in ("-r", "-w", "-x"):
            # By the permission bits (os.access is not there under WASI).
            return bool(mode & {"-r": 0o444, "-w": 0o222, "-x": 0o111}[op])
        return {
            "-f": _stat.S_ISREG, "-d": _stat.S_ISDIR, "-b": _stat.S_ISBLK, "-c": _stat.S_ISCHR,
            "-p": _stat.S_ISFIFO, "-S": _stat.S_ISSOCK,
        }[op](mode) if op != "-s" else st.st_size > 0

    def binary(self, left, op, right_item):
        shell = self.shell
        if op in ("==", "=", "!="):
            if isinstance(right_item, str):
                segs = [(right_item, False)]
            else:
                segs = shell.segments(right_item.parts)
            matched = bool(shell.pattern_regex(segs).match(left))
            return matched if op != "!=" else not matched
        if op == "=~":
            if isinstance(right_item, str):
                pattern = right_item
            else:
                # Quoted parts of the regex match literally.
                pattern = "".join(t if g else re.escape(t) for t, g in shell.segments(right_item.parts))
            try:
                m = re.search(_posix_classes(pattern), left)
            except re.error as e:
                raise CommandError(f"invalid regular expression `{pattern}': {e}", 2)
            if m:
                groups = [m.group(0)] + [g or "" for g in m.groups()]
                shell.set_var("BASH_REMATCH", groups[0])
                for k, g in enumerate(groups):
                    shell.vars[f"BASH_REMATCH_{k}"] = g
                shell.rematch = groups
            else:
                shell.rematch = []
            return m is not None
        right = self.text(right_item)
        if op == "<":
            return left < right
        if op == ">":
            return left > right
        if op in ("-nt", "-ot", "-ef"):
            try:
                a, b = os.stat(left), os.stat(right)
            except OSError:
                return False
            if op == "-ef":
                return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
            return a.st_mtime > b.st_mtime if op == "-nt" else a.st_mtime < b.st_mtime
        from .arith import evaluate
        a, b = evaluate(left, shell), evaluate(right, shell)
        return {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b,
                "-gt": a > b, "-ge": a >= b}[op]


def _posix_classes(pattern):
    classes = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
               "lower": "a-z", "space": r"\s", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f"}
    return re.sub(r"\[:(\w+):\]", lambda m: classes.get(m.group(1), m.group(0)), pattern)
