# The toolshed driver: loaded once, before the snapshot, in a namespace of
# its own. Cells never see these globals; they get `_user_globals`.
#
# It installs: output streams that go straight to the host, the sandbox's
# import policy, a deadline-aware time.sleep, UTC time zone data, the
# Composio-style helpers (run_composio_tool, run_composio_tools,
# proxy_execute), an inline
# ThreadPoolExecutor, and the functions the cell loop (runtime/src/cell.rs)
# calls: _cell_starting, _error, _syntax_error and _shell_run. The cell loop
# itself and the deadline interrupt are native (cell.rs, interrupt.rs), so a
# cell that replaces attributes of sys or builtins cannot disable them.

import sys
import builtins
import _toolshed

_DRIVER_FILE = "<toolshed>"

# Native exceptions (runtime/src/exceptions.rs), all BaseException subclasses.
CellTimeout = _toolshed.CellTimeout
ToolCallLimitExceeded = _toolshed.ToolCallLimitExceeded
OutputLimitExceeded = _toolshed.OutputLimitExceeded


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
            _toolshed.write(self._stream, text)
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


_STDOUT = _HostStream(1, "<stdout>")
_STDERR = _HostStream(2, "<stderr>")
sys.stdout = sys.__stdout__ = _STDOUT
sys.stderr = sys.__stderr__ = _STDERR


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
    _toolshed.sleep_ms(min(millis, 2**63 - 1))


_time.sleep = _sleep

# The sandbox's clock is UTC (TZ=UTC). RustPython's time module on WASI has
# no time zone data; _strptime, email.utils and friends need these.
_time.tzname = ("UTC", "UTC")
_time.timezone = 0
_time.altzone = 0
_time.daylight = 0

# RustPython's strftime spells %c, %x, %X and %r its own way, and takes the
# weekday from the date rather than from the tuple it is given; _strptime
# learns the locale's formats from strftime and relies on both. Names and
# composite formats are filled in here, as CPython does in the C locale;
# numbers are left to the native strftime.
_C_LOCALE_FORMATS = {"c": "%a %b %e %H:%M:%S %Y", "x": "%m/%d/%y", "X": "%H:%M:%S",
                     "r": "%I:%M:%S %p"}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")
_strftime = _time.strftime


def _c_locale(fmt, t):
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] != "%" or i + 1 == len(fmt):
            out.append(fmt[i])
            i += 1
            continue
        d = fmt[i + 1]
        i += 2
        if d in _C_LOCALE_FORMATS:
            out.append(_c_locale(_C_LOCALE_FORMATS[d], t))
        elif d == "a":
            out.append(_DAY_NAMES[t[6] % 7][:3])
        elif d == "A":
            out.append(_DAY_NAMES[t[6] % 7])
        elif d in "bh":
            out.append(_MONTH_NAMES[(t[1] - 1) % 12][:3])
        elif d == "B":
            out.append(_MONTH_NAMES[(t[1] - 1) % 12])
        elif d == "p":
            out.append("AM" if t[3] < 12 else "PM")
        else:
            out.append("%" + d)
    return "".join(out)


def strftime(format, t=None, /):
    native = _strftime(format) if t is None else _strftime(format, t)
    if "%" not in format:
        return native
    # The native call above validated the arguments.
    tt = _time.localtime() if t is None else tuple(t)
    return _strftime(_c_locale(format, tt), *(() if t is None else (t,)))


strftime.__doc__ = _strftime.__doc__
_time.strftime = strftime
del strftime


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


# --- zoneinfo: UTC without a time zone database -------------------------------

# The sandbox has no /usr/share/zoneinfo and no tzdata package; the UTC zone
# (TZif, as zic writes it) is enough for ZoneInfo("UTC") and its aliases.
# Other keys raise ZoneInfoNotFoundError as usual.
_UTC_TZIF = b'TZif2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00UTC\x00TZif2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00UTC\x00\nUTC0\n'
_UTC_KEYS = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}

try:
    import io as _io
    import zoneinfo._common as _zoneinfo_common

    _load_tzdata = _zoneinfo_common.load_tzdata

    def _load_tzdata_with_utc(key):
        if key in _UTC_KEYS:
            return _io.BytesIO(_UTC_TZIF)
        return _load_tzdata(key)

    _zoneinfo_common.load_tzdata = _load_tzdata_with_utc
except ImportError:
    pass


# --- files across hibernation ------------------------------------------------

# A checkpoint keeps the interpreter, not the host's open files. Files
# opened with open()/io.open() are tracked (weakly): before a checkpoint
# they are flushed, so what was written lands in its own file; in a
# restored interpreter they are closed before the first cell, while no
# other file is open (their descriptors do not exist there, and must not
# reach a file opened later). Using one afterwards raises "ValueError:
# I/O operation on closed file": reopen it.
#
# Raw descriptors (os.open, os.dup) are numbers the program keeps: after a
# restore the same numbers would go to the next files opened. So the
# numbers open at the checkpoint are held by placeholders in the restored
# interpreter, and every os function given one raises OSError(EBADF) that
# says why; os.close() of one frees it.
import weakref as _weakref
import io as _io_files

_open_files = _weakref.WeakSet()
_io_open = _io_files.open


def _tracked_open(*args, **kwargs):
    target = args[0] if args else kwargs.get("file")
    if type(target) is int and target in _stale_fds:
        raise _stale_fd(target)
    f = _io_open(*args, **kwargs)
    try:
        _open_files.add(f)
    except TypeError:
        pass
    return f


_tracked_open.__name__ = "open"
_tracked_open.__qualname__ = "open"
_tracked_open.__doc__ = _io_open.__doc__
builtins.open = _tracked_open
_io_files.open = _tracked_open


import os as _os_fds
import errno as _errno

_raw_fds = set()
_stale_fds = set()
_fds_at_checkpoint = []
_os_open = _os_fds.open
_os_dup = getattr(_os_fds, "dup", None)  # WASI has no dup
_os_close = _os_fds.close
_os_fstat = _os_fds.fstat


def _stale_fd(fd):
    return OSError(
        _errno.EBADF,
        "descriptor %d was opened before this interpreter was restored from a "
        "checkpoint and no longer refers to a file; open the file again" % fd,
    )


def _open_fd(*args, **kwargs):
    fd = _os_open(*args, **kwargs)
    _raw_fds.add(fd)
    return fd


def _dup_fd(fd, *args, **kwargs):
    if type(fd) is int and fd in _stale_fds:
        raise _stale_fd(fd)
    new = _os_dup(fd, *args, **kwargs)
    _raw_fds.add(new)
    return new


def _close_fd(fd):
    if type(fd) is int and fd in _stale_fds:
        _stale_fds.discard(fd)
    else:
        _raw_fds.discard(fd)
    _os_close(fd)


def _guard_fd(fn):
    def checked(fd, *args, **kwargs):
        if type(fd) is int and fd in _stale_fds:
            raise _stale_fd(fd)
        return fn(fd, *args, **kwargs)

    checked.__name__ = fn.__name__
    checked.__qualname__ = fn.__name__
    checked.__doc__ = fn.__doc__
    return checked


for _name in ("read", "write", "lseek", "fstat", "fsync", "fdatasync", "ftruncate",
              "pread", "pwrite", "readv", "writev", "isatty", "dup2", "fchmod",
              "fstatvfs", "get_blocking", "set_blocking", "get_inheritable",
              "set_inheritable", "fdopen"):
    if hasattr(_os_fds, _name):
        setattr(_os_fds, _name, _guard_fd(getattr(_os_fds, _name)))
_os_fds.open = _open_fd
_os_fds.open.__name__ = "open"
if _os_dup is not None:
    _os_fds.dup = _dup_fd
    _os_fds.dup.__name__ = "dup"
_os_fds.close = _close_fd
_os_fds.close.__name__ = "close"
del _name


def _flush_open_files():
    held = set(_raw_fds) | set(_stale_fds)
    for f in list(_open_files):
        try:
            if not f.closed:
                f.flush()
                held.add(f.fileno())
        except Exception:
            pass
    _fds_at_checkpoint[:] = sorted(fd for fd in held if type(fd) is int and fd > 2 and _is_open(fd))


def _is_open(fd):
    try:
        _os_fstat(fd)
        return True
    except OSError:
        return False


def _close_stale_files():
    for f in list(_open_files):
        try:
            f.close()
        except Exception:
            pass
    _open_files.clear()
    _raw_fds.clear()
    _stale_fds.clear()
    wanted = set(_fds_at_checkpoint)
    if not wanted:
        return
    # New descriptors take the lowest free numbers: open placeholders (the
    # files mount, read-only) until the highest held number is reached,
    # keep the ones that were open at the checkpoint, close the rest.
    top = max(wanted)
    held = []
    try:
        for _ in range(top + 1):
            fd = _os_open("/mnt/files", _os_fds.O_RDONLY)
            held.append(fd)
            if fd >= top:
                break
    finally:
        for fd in held:
            if fd in wanted:
                _stale_fds.add(fd)
            else:
                _os_close(fd)


_toolshed._flush_open_files = _flush_open_files
_toolshed._close_stale_files = _close_stale_files


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
    return _toolshed.run_tools(calls, max_concurrency)


def run_composio_tool(tool_slug, arguments=None, account=None, **_compat):
    """Runs one tool. Returns `({"data": ...}, "")` on success and
    `(data_or_{}, "message")` on failure; check the error first."""
    return run_composio_tools([{"tool_slug": tool_slug, "arguments": arguments, "account": account}])[0]


def proxy_execute(method, endpoint, toolkit, query_params=None, body=None, headers=None, account=None):
    """Sends an authenticated request to `toolkit`'s own API with the
    user's connected account, for endpoints no tool covers: `endpoint` is a
    path under the toolkit's API ("/user/repos") or a full URL under it;
    `body` (JSON) is required for POST, PUT and PATCH and not allowed for
    GET and DELETE. Returns `({"status", "data", "headers"}, "")`, or
    `(None, "message")` when the request could not be made; an upstream
    error status is a result, not an error: check `status`."""
    parameters = []
    for kind, values in (("query", query_params), ("header", headers)):
        if values is None:
            continue
        if not isinstance(values, dict):
            raise TypeError(f"{kind} parameters must be a dict of names to values")
        for name, value in values.items():
            parameters.append({"name": str(name), "type": kind, "value": value if isinstance(value, str) else str(value)})
    arguments = {"toolkit_slug": toolkit, "endpoint": endpoint, "method": str(method).upper(),
                 "body": body, "parameters": parameters}
    if account is not None:
        arguments["account"] = account
    result, error = run_composio_tools([{"tool_slug": "COMPOSIO_PROXY_EXECUTE", "arguments": arguments}])[0]
    if error:
        return None, error
    return result.get("data"), ""


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
import _strptime  # noqa: E402

# Its locale data was learned from strftime, maybe before the patch above.
_strptime._TimeRE_cache = _strptime.TimeRE()
_strptime._regex_cache.clear()

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


def invoke_llm(query, reasoning_effort=None):
    """Asks the language model the server's operator configured (an
    OpenAI-compatible chat model) one question. Returns `(text, "")`, or
    `(None, "message")` when there is no model or it failed. The model's
    address and key never enter the sandbox. `reasoning_effort` is
    "minimal", "low", "medium" or "high" for models that take it."""
    if not isinstance(query, str):
        raise TypeError("query must be a string")
    arguments = {"query": query}
    if reasoning_effort is not None:
        arguments["reasoning_effort"] = str(reasoning_effort)
    result, error = run_composio_tools([{"tool_slug": "TOOLSHED_INVOKE_LLM", "arguments": arguments}])[0]
    if error:
        return None, error
    return result.get("data", {}).get("text"), ""


def web_search(query):
    """Searches the web with the search tool the server's operator
    configured, as the session's user. Returns `(answer, "")` (the tool's
    data) or `(None, "message")`."""
    if not isinstance(query, str):
        raise TypeError("query must be a string")
    result, error = run_composio_tools([{"tool_slug": "TOOLSHED_WEB_SEARCH", "arguments": {"query": query}}])[0]
    if error:
        return None, error
    return result.get("data"), ""


def upload_local_file(*paths):
    """Makes workbench files downloadable: one file gets a download URL;
    several are zipped into one (`/mnt/files/uploads/upload-N.zip`) first.
    A file outside /mnt/files is copied to /mnt/files/uploads/. Returns
    `({"url", "s3_url", "mount_relative_path", "size", "uploaded_file",
    "expires_in_seconds"}, "")` or `(None, "message")`. The URL works for
    an hour and needs no key."""
    import zipfile
    if not paths:
        return None, "give at least one path"
    files = []
    for given in paths:
        try:
            given = _os.fspath(given)
        except TypeError:
            return None, f"{given!r}: not a path"
        full = _os.path.normpath(given if given.startswith("/") else _os.path.join(_os.getcwd(), given))
        if not _os.path.isfile(full):
            return None, f"{given}: no such file"
        files.append(full)
    mount = "/mnt/files/"
    uploads = mount + "uploads"

    def fresh(name):
        stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        candidate, n = name, 1
        while _os.path.exists(f"{uploads}/{candidate}"):
            candidate = f"{stem}-{n}{dot}{ext}"
            n += 1
        return f"{uploads}/{candidate}"

    try:
        if len(files) == 1 and files[0].startswith(mount):
            target = files[0]
        else:
            _os.makedirs(uploads, exist_ok=True)
            if len(files) == 1:
                target = fresh(_os.path.basename(files[0]))
                with open(files[0], "rb") as src, open(target, "wb") as dst:
                    while True:
                        block = src.read(1 << 20)
                        if not block:
                            break
                        dst.write(block)
            else:
                target = fresh("upload.zip")
                names = set()
                with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                    for full in files:
                        name, n = _os.path.basename(full), 1
                        while name in names:
                            stem, dot, ext = _os.path.basename(full).rpartition(".")
                            name = f"{stem or ext}-{n}{dot if stem else ''}{ext if stem else ''}"
                            n += 1
                        names.add(name)
                        archive.write(full, arcname=name)
    except OSError as e:
        return None, f"could not prepare the upload: {e}"
    result, error = run_composio_tools([{"tool_slug": "TOOLSHED_UPLOAD_LOCAL_FILE",
                                         "arguments": {"mount_relative_path": target[len(mount):]}}])[0]
    if error:
        return None, error
    info = dict(result.get("data") or {})
    info["uploaded_file"] = files[0] if len(files) == 1 else files
    return info, ""


# --- smart_file_extract -----------------------------------------------------
#
# Text out of the documents agents meet, parsed here in the sandbox (so a
# hostile file meets the sandbox's memory and time limits, never the host)
# with the standard library's parsers and explicit bounds: inputs over
# _EXTRACT_MAX_INPUT, archive members that inflate past _EXTRACT_MAX_MEMBER
# (zip bombs: members are read with a cap, whatever their headers claim),
# XML with a DTD (entity bombs), and PDF streams that inflate past the cap
# are refused with a message, not run out of memory.

_EXTRACT_MAX_INPUT = 50 << 20
_EXTRACT_MAX_MEMBER = 100 << 20
_EXTRACT_MAX_TEXT = 20 << 20


class _ExtractRefused(Exception):
    pass


def _extract_zip_member(archive, name):
    with archive.open(name) as member:
        data = member.read(_EXTRACT_MAX_MEMBER + 1)
    if len(data) > _EXTRACT_MAX_MEMBER:
        raise _ExtractRefused(f"{name} inflates past {_EXTRACT_MAX_MEMBER >> 20} MB")
    return data


def _extract_xml(data):
    import xml.etree.ElementTree as ET
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise _ExtractRefused("XML with a DTD or entities is refused")
    return ET.fromstring(data)


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _extract_docx(path):
    import zipfile
    with zipfile.ZipFile(path) as archive:
        root = _extract_xml(_extract_zip_member(archive, "word/document.xml"))
    paragraphs = []
    for para in root.iter():
        if _local(para.tag) != "p":
            continue
        text = "".join(node.text or "" for node in para.iter() if _local(node.tag) == "t")
        paragraphs.append(text)
    return "\n".join(paragraphs).strip()


def _extract_xlsx(path):
    import zipfile
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            for item in _extract_xml(_extract_zip_member(archive, "xl/sharedStrings.xml")):
                shared.append("".join(n.text or "" for n in item.iter() if _local(n.tag) == "t"))
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        out = []
        for sheet in sheets:
            root = _extract_xml(_extract_zip_member(archive, sheet))
            out.append(f"# {sheet.rsplit('/', 1)[-1][:-4]}")
            for row in root.iter():
                if _local(row.tag) != "row":
                    continue
                cells = []
                for cell in row:
                    if _local(cell.tag) != "c":
                        continue
                    kind = cell.get("t")
                    value = next((n.text or "" for n in cell.iter() if _local(n.tag) in ("v", "t")), "")
                    if kind == "s" and value.isdigit() and int(value) < len(shared):
                        value = shared[int(value)]
                    cells.append(value)
                out.append("\t".join(cells))
    return "\n".join(out).strip()


def _extract_html(text):
    import html.parser

    class _Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1
            elif tag in ("p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in ("script", "style") and self.skip:
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_strings(content):
    """The text shown by a content stream's Tj, TJ, ' and " operators."""
    out, i, n = [], 0, len(content)
    line = []
    while i < n:
        c = content[i]
        if c == 0x28:  # ( literal string )
            depth, j, buf = 1, i + 1, bytearray()
            while j < n and depth:
                ch = content[j]
                if ch == 0x5C and j + 1 < n:  # backslash escape
                    nxt = content[j + 1]
                    buf += {0x6E: b"\n", 0x72: b"\r", 0x74: b"\t", 0x28: b"(", 0x29: b")", 0x5C: b"\\"}.get(nxt, bytes([nxt]))
                    j += 2
                    continue
                if ch == 0x28:
                    depth += 1
                elif ch == 0x29:
                    depth -= 1
                    if not depth:
                        break
                buf.append(ch)
                j += 1
            line.append(buf.decode("latin-1"))
            i = j + 1
        elif c == 0x3C and i + 1 < n and content[i + 1] != 0x3C:  # <hex string>
            j = content.find(b">", i)
            if j < 0:
                break
            try:
                line.append(bytes.fromhex(content[i + 1:j].decode("ascii", "ignore")).decode("latin-1"))
            except ValueError:
                pass
            i = j + 1
        elif content.startswith(b"ET", i) or content.startswith(b"T*", i) or content.startswith(b"Td", i) or content.startswith(b"TD", i):
            if line:
                out.append("".join(line))
                line = []
            i += 2
        else:
            i += 1
    if line:
        out.append("".join(line))
    return "\n".join(out)


def _extract_pdf(data):
    import zlib
    import re
    if not data.startswith(b"%PDF"):
        raise _ExtractRefused("not a PDF (no %PDF header)")
    texts, budget = [], _EXTRACT_MAX_MEMBER
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        raw = data[start:end]
        head = data[max(0, match.start() - 512):match.start()]
        if b"/FlateDecode" in head:
            inflater = zlib.decompressobj()
            try:
                raw = inflater.decompress(raw, budget + 1)
            except zlib.error:
                continue
            if len(raw) > budget:
                raise _ExtractRefused(f"its streams inflate past {_EXTRACT_MAX_MEMBER >> 20} MB")
        elif b"/Filter" in head:
            continue  # images and other encodings carry no text we read
        budget -= len(raw)
        if b"BT" in raw:
            text = _pdf_strings(raw)
            if text.strip():
                texts.append(text)
    return "\n".join(texts).strip()


def smart_file_extract(path, show_preview=True):
    """Text out of a workbench file: PDF (text streams), DOCX, XLSX (each
    sheet as tab-separated rows), CSV/TSV, JSON (pretty-printed), HTML (the
    visible text) and plain text. Returns `(text, "")` or `(None,
    "message")`; with `show_preview` the first 1,000 characters are
    printed. Scanned PDFs (images) have no text to extract."""
    try:
        path = _os.fspath(path)
    except TypeError:
        return None, f"{path!r}: not a path"
    if not _os.path.isfile(path):
        return None, f"{path}: no such file"
    size = _os.path.getsize(path)
    if size > _EXTRACT_MAX_INPUT:
        return None, f"{path}: {size >> 20} MB is over the {_EXTRACT_MAX_INPUT >> 20} MB limit"
    ext = _os.path.splitext(path)[1].lower()
    try:
        if ext == ".docx":
            text = _extract_docx(path)
        elif ext in (".xlsx", ".xlsm"):
            text = _extract_xlsx(path)
        else:
            with open(path, "rb") as f:
                data = f.read()
            if ext == ".pdf" or data.startswith(b"%PDF"):
                text = _extract_pdf(data)
                if not text:
                    return None, f"{path}: no text found (a scanned PDF has only images)"
            else:
                decoded = data.decode("utf-8", "replace")
                if ext == ".json":
                    import json as _json
                    text = _json.dumps(_json.loads(decoded), indent=2, ensure_ascii=False)
                elif ext in (".html", ".htm"):
                    text = _extract_html(decoded)
                elif ext in (".csv", ".tsv"):
                    import csv as _csv
                    rows = _csv.reader(decoded.splitlines(), delimiter="\t" if ext == ".tsv" else ",")
                    text = "\n".join("\t".join(row) for row in rows)
                else:
                    text = decoded
    except _ExtractRefused as e:
        return None, f"{path}: refused: {e}"
    except MemoryError:
        return None, f"{path}: too large to extract in this sandbox's memory"
    except Exception as e:
        return None, f"{path}: cannot extract text ({type(e).__name__}: {e})"
    if len(text) > _EXTRACT_MAX_TEXT:
        text = text[:_EXTRACT_MAX_TEXT]
    if show_preview:
        print(text[:1000] + ("..." if len(text) > 1000 else ""))
    return text, ""


# --- the cell loop ----------------------------------------------------------

_user_globals = {
    "__name__": "__main__",
    "__doc__": None,
    "__builtins__": builtins,
    "run_composio_tool": run_composio_tool,
    "run_composio_tools": run_composio_tools,
    "proxy_execute": proxy_execute,
    "invoke_llm": invoke_llm,
    "web_search": web_search,
    "upload_local_file": upload_local_file,
    "smart_file_extract": smart_file_extract,
    "CellTimeout": CellTimeout,
}
sys.modules["__main__"] = type(sys)("__main__")
sys.modules["__main__"].__dict__.update(_user_globals)
_user_globals = sys.modules["__main__"].__dict__

# The cell loop (runtime/src/cell.rs) restores, before every cell, what a
# previous cell may have broken around it: sys.stdout/sys.stderr (_STDOUT,
# _STDERR), the import policy (_SandboxPolicy) and the cells' __builtins__;
# it seeds `random` (_seed_random) once per instance, and the host calls it
# again after restoring a checkpoint. RustPython's argument-less
# random.seed() is the same in every instance made from one snapshot, so the
# seed comes from the host's entropy (os.urandom) instead.
def _seed_random():
    random.seed(int.from_bytes(_os.urandom(32), "big"))


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
    try:
        text = "".join(_traceback.format_exception_only(type(exc), exc))
    except BaseException:
        text = f"{type(exc).__name__}: <the error could not be formatted>\n"
    return {"type": type(exc).__name__, "message": _scrub(str(exc)), "traceback": _scrub(text)}


# --- the sandbox shell (COMPOSIO_REMOTE_BASH_TOOL) ---------------------------

# A frozen package (runtime/src/python/_toolshed_shell), imported before the
# snapshot so bash cells pay nothing for it.
import _toolshed_shell as _shell


def _python_runner(path, argv, stdin, env=None):
    """`python FILE [args]` / `python -c CODE` inside the shell: runs in the
    session's interpreter (its globals), output captured for the pipeline;
    os.environ is the command's environment (what the shell exported)
    while it runs."""
    import io
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr, sys.argv, getattr(sys, "stdin", None)
    saved_environ = _os.environ
    if env is not None:
        _os.environ = dict(env)
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
        _os.environ = saved_environ
    return out.getvalue(), err.getvalue(), code


def _shell_run(command):
    """Runs a shell command line (a bash cell); returns
    {"stdout", "stderr", "exit_code"}."""
    return _shell.run(command, python_runner=_python_runner)


# --- snapshot ---------------------------------------------------------------

# Everything loaded so far lives as long as the interpreter: move it out of
# the cycle collector's generations, so collections during cells do not
# traverse it (measured: little effect on its own; see docs/BENCHMARKS.md).
import gc as _gc

_gc.collect()
_gc.freeze()
