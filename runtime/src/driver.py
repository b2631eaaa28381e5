# The toolshed driver: loaded once, before the snapshot, in a namespace of
# its own. Cells never see these globals; they get `_user_globals`.
#
# It installs: output streams that go straight to the host, the sandbox's
# import policy, a deadline-aware time.sleep, the Composio-style helpers
# (run_composio_tool, run_composio_tools), an inline ThreadPoolExecutor, and
# the cell loop (_run_cell) with its interrupt hook (_arm).

import sys
import builtins
import _toolshed

_DRIVER_FILE = "<toolshed>"


class CellTimeout(BaseException):
    """The cell ran past its deadline."""


class ToolCallLimitExceeded(BaseException):
    """The cell made more tool calls than its limit allows."""


class OutputLimitExceeded(BaseException):
    """The cell wrote more output than its limit allows."""


_ABI_TOOL_LIMIT = 2
_ABI_OUTPUT_LIMIT = 3
_ABI_DEADLINE = 4


def _raise_host(code):
    if code == _ABI_TOOL_LIMIT:
        raise ToolCallLimitExceeded("this cell reached its limit of tool calls")
    if code == _ABI_OUTPUT_LIMIT:
        raise OutputLimitExceeded("this cell reached its output limit")
    if code == _ABI_DEADLINE:
        raise CellTimeout("this cell ran past its deadline")
    raise RuntimeError(f"the host bridge failed (code {code})")


class _State:
    user_running = False
    interrupted = False


_state = _State()


# --- output -----------------------------------------------------------------

class _HostStream:
    """A text stream whose writes go straight to the host, which keeps the
    first part inline and spills the rest to a file."""

    encoding = "utf-8"
    errors = "strict"
    newlines = None
    line_buffering = False
    closed = False

    def __init__(self, stream, name):
        self._stream = stream
        self.name = name

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            code = _toolshed.write(self._stream, text)
            if code:
                _raise_host(code)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def fileno(self):
        import io
        raise io.UnsupportedOperation("fileno")


sys.stdout = sys.__stdout__ = _HostStream(1, "<stdout>")
sys.stderr = sys.__stderr__ = _HostStream(2, "<stderr>")


# --- import policy ----------------------------------------------------------

_BLOCKED_MODULES = {
    "socket": "there is no network in the sandbox",
    "_socket": "there is no network in the sandbox",
    "ssl": "there is no network in the sandbox",
    "_ssl": "there is no network in the sandbox",
    "select": "there is no network in the sandbox",
    "selectors": "there is no network in the sandbox",
    "http.client": "there is no network in the sandbox; call tools with run_composio_tool",
    "urllib.request": "there is no network in the sandbox; call tools with run_composio_tool",
    "ftplib": "there is no network in the sandbox",
    "smtplib": "there is no network in the sandbox",
    "subprocess": "the sandbox cannot start processes",
    "_posixsubprocess": "the sandbox cannot start processes",
    "multiprocessing": "the sandbox cannot start processes",
    "ctypes": "the sandbox cannot load native code",
    "_ctypes": "the sandbox cannot load native code",
    "signal": "the sandbox has no signals",
}


class _SandboxPolicy:
    """A meta path finder that refuses modules the sandbox cannot offer,
    with a message that says why (instead of a confusing failure later)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        reason = _BLOCKED_MODULES.get(name)
        if reason is None:
            for blocked, why in _BLOCKED_MODULES.items():
                if name.startswith(blocked + "."):
                    reason = why
                    break
        if reason is not None:
            raise ImportError(
                f"module {name!r} is not available in the toolshed sandbox: {reason}",
                name=name,
            )
        return None


for _name in list(sys.modules):
    if _name in _BLOCKED_MODULES:
        del sys.modules[_name]
sys.meta_path.insert(0, _SandboxPolicy)


# --- time.sleep -------------------------------------------------------------

import time as _time


def _sleep(seconds):
    """Sleeps on the host, never past the cell's deadline."""
    seconds = float(seconds)
    if seconds != seconds:
        raise ValueError("Invalid value NaN (not a number)")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    millis = int(seconds * 1000)
    if millis * 1000 < seconds * 1000 * 1000:
        millis += 1
    code = _toolshed.sleep_ms(min(millis, 2**63 - 1))
    if code:
        _raise_host(code)


_time.sleep = _sleep


# --- threads ----------------------------------------------------------------

try:
    import threading as _threading

    def _no_threads(self, *args, **kwargs):
        raise RuntimeError(
            "the toolshed sandbox has no threads; use run_composio_tools(...) to run "
            "tool calls concurrently (concurrent.futures.ThreadPoolExecutor runs tasks inline)"
        )

    _threading.Thread.start = _no_threads
except ImportError:
    _threading = None


# --- tool helpers -----------------------------------------------------------

def run_composio_tools(calls, max_concurrency=None):
    """Runs many tool calls concurrently on the host.

    `calls` is a list of dicts `{"tool_slug", "arguments", "account"?}` (or
    tuples `(tool_slug, arguments[, account])`). Returns a list of
    `(result, error)` tuples in the same order: `({"data": ...}, "")` on
    success, `(data_or_{}, "message")` on failure. `max_concurrency` caps
    how many run at once (default: the sandbox's setting).
    """
    if max_concurrency is None:
        max_concurrency = 0
    elif type(max_concurrency) is not int or max_concurrency < 1:
        raise ValueError("max_concurrency must be a positive integer or None")
    if type(calls) is not list:
        calls = list(calls)
    results = _toolshed.run_tools(calls, max_concurrency)
    if type(results) is int:
        _raise_host(results)
    return results


def run_composio_tool(tool_slug, arguments=None, account=None, **_compat):
    """Runs one tool. Returns `({"data": ...}, "")` on success and
    `(data_or_{}, "message")` on failure; check the error first."""
    return run_composio_tools([{"tool_slug": tool_slug, "arguments": arguments, "account": account}])[0]


# --- concurrent.futures -----------------------------------------------------

try:
    import concurrent.futures as _cf
    import concurrent.futures.thread as _cf_thread

    class _NoThreadLock:
        """The lock of an inline future's condition: there is only one
        thread, so it is always free and always ours."""

        def acquire(self, blocking=True, timeout=-1):
            return True

        def release(self):
            pass

        def locked(self):
            return False

        def _is_owned(self):
            return True

        def _release_save(self):
            return None

        def _acquire_restore(self, state):
            pass

        def __enter__(self):
            return True

        def __exit__(self, *exc):
            return False

    class _InlineExecutor(_cf.Executor):
        """ThreadPoolExecutor for a sandbox without threads: each task runs to
        completion when it is submitted, so results (and their order) are the
        same as with threads. For concurrent tool calls use
        run_composio_tools, which the host runs in parallel."""

        def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
            if max_workers is not None and max_workers <= 0:
                raise ValueError("max_workers must be greater than 0")
            self._max_workers = max_workers or 5
            self._shutdown = False
            if initializer is not None:
                initializer(*initargs)

        def submit(self, fn, /, *args, **kwargs):
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = _cf.Future()
            future._condition = _threading.Condition(_NoThreadLock())
            try:
                result = fn(*args, **kwargs)
            except (CellTimeout, ToolCallLimitExceeded, OutputLimitExceeded, KeyboardInterrupt):
                raise
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            return future

        def shutdown(self, wait=True, *, cancel_futures=False):
            self._shutdown = True

    _cf.ThreadPoolExecutor = _InlineExecutor
    _cf_thread.ThreadPoolExecutor = _InlineExecutor
except ImportError:
    pass


# --- os functions WASI lacks --------------------------------------------------

import os as _os

if not hasattr(_os, "chmod"):
    def _chmod(path, mode, *, dir_fd=None, follow_symlinks=True):
        """WASI files have no permission bits: succeed for existing paths
        (so shutil.copy and friends work), fail like chmod otherwise."""
        _os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    _os.chmod = _chmod


# --- warm imports (paid once, before the snapshot) ---------------------------

import json, re, math, collections, itertools, functools, datetime, csv, io  # noqa: E401,F401
import os, os.path, random, base64, hashlib, uuid, decimal, dataclasses, typing  # noqa: E401,F401
import statistics, textwrap, string, traceback as _traceback, ast as _ast  # noqa: E401,F401

_json_loads = json.loads


def _loads(s, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
           parse_constant=None, object_pairs_hook=None, **kw):
    """json.loads with a fast path: plain calls parse in Rust (same result,
    same key order); anything else, or any text the fast parser does not
    read exactly like Python (errors, NaN, huge integers), goes to the
    standard implementation."""
    if (cls is None and object_hook is None and parse_float is None and parse_int is None
            and parse_constant is None and object_pairs_hook is None and not kw):
        text = s
        if isinstance(text, (bytes, bytearray)):
            try:
                text = text.decode(json.detect_encoding(text), "surrogatepass")
            except (UnicodeDecodeError, LookupError):
                text = None
        if type(text) is str:
            ok, value = _toolshed.loads_fast(text)
            if ok:
                return value
    return _json_loads(s, cls=cls, object_hook=object_hook, parse_float=parse_float,
                       parse_int=parse_int, parse_constant=parse_constant,
                       object_pairs_hook=object_pairs_hook, **kw)


_loads.__doc__ = (_json_loads.__doc__ or "") + "\n\n" + _loads.__doc__
json.loads = _loads

if "_HOST_LIB_PATH" not in globals():
    _HOST_LIB_PATH = None


def _scrub(text):
    """Removes build-host paths (the frozen stdlib's origin) from text that
    reaches the cell."""
    if _HOST_LIB_PATH and _HOST_LIB_PATH in text:
        text = text.replace(_HOST_LIB_PATH, "/usr/lib/python3")
    return text


# --- the cell loop ----------------------------------------------------------

_user_globals = {
    "__name__": "__main__",
    "__doc__": None,
    "__builtins__": builtins,
    "run_composio_tool": run_composio_tool,
    "run_composio_tools": run_composio_tools,
    "CellTimeout": CellTimeout,
}
sys.modules["__main__"] = type(sys)("__main__")
sys.modules["__main__"].__dict__.update(_user_globals)
_user_globals = sys.modules["__main__"].__dict__

_seeded = False


def _trace_hook(frame, event, arg):
    if _state.interrupted and _state.user_running:
        raise CellTimeout("this cell ran past its deadline")
    return _trace_hook


def _arm():
    """Called by the host once the deadline passed (and again on every tick
    until the cell returns): the next line or call in user code raises
    CellTimeout, so the interpreter's state stays consistent."""
    _state.interrupted = True
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename != _DRIVER_FILE:
            frame.f_trace = _trace_hook
            frame.f_trace_lines = True
        frame = frame.f_back
    sys.settrace(_trace_hook)


def _error(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _DRIVER_FILE:
        tb = tb.tb_next
    try:
        text = "".join(_traceback.format_exception(type(exc), exc, tb))
    except BaseException:
        text = f"{type(exc).__name__}: <the traceback could not be formatted>\n"
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception message could not be formatted>"
    return {"type": type(exc).__name__, "message": _scrub(message), "traceback": _scrub(text)}


def _syntax_error(exc):
    text = "".join(_traceback.format_exception_only(type(exc), exc))
    return {"type": type(exc).__name__, "message": _scrub(str(exc)), "traceback": _scrub(text)}


def _run_cell(source):
    """Runs one cell. Returns (repr of the trailing expression or None,
    error dict or None)."""
    global _seeded
    if not _seeded:
        # Instances start from one snapshot: give each its own random state.
        random.seed()
        _seeded = True
    _state.interrupted = False
    try:
        tree = compile(source, "<cell>", "exec", _ast.PyCF_ONLY_AST)
        last = None
        if tree.body and isinstance(tree.body[-1], _ast.Expr):
            last = _ast.Expression(tree.body.pop().value)
        body = compile(tree, "<cell>", "exec")
        tail = compile(last, "<cell>", "eval") if last is not None else None
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        return None, _syntax_error(exc) if isinstance(exc, SyntaxError) else _error(exc)
    try:
        _state.user_running = True
        try:
            exec(body, _user_globals)
            result = None
            if tail is not None:
                value = eval(tail, _user_globals)
                if value is not None:
                    _user_globals["_"] = value
                    result = repr(value)
        finally:
            _state.user_running = False
    except BaseException as exc:
        sys.settrace(None)
        _state.interrupted = False
        return None, _error(exc)
    sys.settrace(None)
    _state.interrupted = False
    return result, None


# --- the sandbox shell (COMPOSIO_REMOTE_BASH_TOOL) ---------------------------

import types as _types

_shell = _types.ModuleType("_toolshed_shell")
if "_SHELL_SOURCE" in globals():
    exec(compile(_SHELL_SOURCE, "<toolshed-shell>", "exec"), _shell.__dict__)
    sys.modules["_toolshed_shell"] = _shell


class _RawJson(str):
    """A str whose repr() is itself: the cell result of a bash call is the
    JSON document, not a quoted Python literal."""

    def __repr__(self):
        return str.__str__(self)


def _python_runner(path, argv, stdin):
    """`python FILE [args]` / `python -c CODE` inside the shell: runs in the
    session's interpreter (its globals), output captured for the pipeline."""
    import io
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr, sys.argv, getattr(sys, "stdin", None)
    code = 0
    try:
        if path is None:
            source, name = argv[1] if len(argv) > 1 else "", "<string>"
            sys.argv = ["-c"] + list(argv[2:])
        else:
            with open(path) as f:
                source = f.read()
            name = path
            sys.argv = [path] + list(argv)
        sys.stdout, sys.stderr = out, err
        sys.stdin = io.StringIO(stdin or "")
        exec(compile(source, name, "exec"), _user_globals)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            err.write(f"{exc.code}\n")
    except (CellTimeout, ToolCallLimitExceeded, OutputLimitExceeded):
        raise
    except BaseException as exc:
        err.write(_error(exc)["traceback"])
        code = 1
    finally:
        sys.stdout, sys.stderr, sys.argv = saved[0], saved[1], saved[2]
        if saved[3] is not None:
            sys.stdin = saved[3]
    return out.getvalue(), err.getvalue(), code


def __toolshed_bash__(command):
    result = _shell.run(command, python_runner=_python_runner)
    return _RawJson(json.dumps(result))


_user_globals["__toolshed_bash__"] = __toolshed_bash__
