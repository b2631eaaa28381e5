"""POSIX regular expressions (basic and extended, for grep and sed)
translated to Python's syntax, and the POSIX character classes."""

import re

from .errors import CommandError


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
