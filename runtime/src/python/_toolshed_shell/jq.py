"""A jq subset: the filter is compiled to a tuple AST (jq_parser.py) and
evaluated with generators (a jq filter yields zero or more outputs per
input). This module has the evaluator, jq's builtin functions and the jq
command."""

import itertools
import json
import math
import re
import time

from .errors import UsageError, _os_error_text
from .executor import ENV
from .jq_parser import _JqError, _jq_compile
from .jq_values import (_is_num, _jq_arith, _jq_contains, _jq_delete, _jq_desc, _jq_dump,
                        _jq_flatten, _jq_format, _jq_from_entries, _jq_index, _jq_iter, _jq_key,
                        _jq_keys, _jq_length, _jq_need_str, _jq_norm, _jq_path, _jq_paths,
                        _jq_recurse, _jq_regex, _jq_slice, _jq_tonumber, _jq_tostring,
                        _jq_truthy, _jq_type)
from .registry import _int_arg, _last, _parse_opts, _read_text, builtin


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


def _jq_walk(node, v):
    if isinstance(v, list):
        v = [_jq_walk(node, x) for x in v]
    elif isinstance(v, dict):
        v = {k: _jq_walk(node, x) for k, x in v.items()}
    return _jq_one(node, v)


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
