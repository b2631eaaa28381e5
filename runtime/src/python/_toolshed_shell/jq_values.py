"""jq's values: types, ordering, normalisation, indexing, slicing,
arithmetic, containment, paths, @formats and the other helpers of jq.py
that do not evaluate filters."""

import json
import math
import re

from .jq_parser import _JqError


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
