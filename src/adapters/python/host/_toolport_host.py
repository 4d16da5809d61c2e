"""The code of toolport's Python host (main.py runs it): imports one ScaiWave plugin file or
package unmodified and answers toolport's JSON-lines RPC on file descriptor 3. stdout and stderr
stay free for whatever the plugin prints; toolport logs them. Standard library only, Python >= 3.9.
A module rather than the script itself so that Python can read it compiled: the build writes
its bytecode to __pycache__, where a started script is compiled from source every time."""
from __future__ import annotations

import sys
import asyncio
import contextvars
import enum
import errno
import importlib
import importlib.util
import inspect
import json
import logging
import os
import pkgutil
import signal
import socket
import threading
import time
import traceback
import types

RPC_FD = 3
MAX_LINE = 256 * 1024 * 1024
HOST_DIR = os.path.dirname(os.path.abspath(__file__))
SHIM_DIR = os.path.join(HOST_DIR, "shim")
BUILTIN_PACKAGE = "app.plugins.builtin"

CURRENT_CALL = contextvars.ContextVar("toolport_call_id", default=None)
# One encoder for every message: json.dumps with options builds a new one per call.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=repr)

log = logging.getLogger("toolport.host")


# ---------------------------------------------------------------------------
# Values handed to plugins
# ---------------------------------------------------------------------------


class ToolportSettings(dict):
    """`ctx.settings`: the plugin's `settings` map from the toolport config, readable as
    `settings["key"]`, `settings.get("key")` or `settings.key`."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                "settings has no '%s'; add it under 'settings:' in this plugin's toolport config" % name
            ) from None


class _Done:
    """An awaitable that is already finished: lets `svc.publish(x)` work with or without await."""

    def __await__(self):
        return iter(())


class ApprovalDecision:
    """What an approval request answers: truthy when approved."""

    def __init__(self, approved, reason):
        self.approved = bool(approved)
        self.status = "approved" if self.approved else "rejected"
        self.reason = reason

    def __bool__(self):
        return self.approved

    def __repr__(self):
        return "ApprovalDecision(approved=%r, reason=%r)" % (self.approved, self.reason)


class ApprovalService:
    """`ctx.approval_service`: any method a plugin calls on it becomes an approval request
    to toolport (ScaiWave's own method names are not public, so none is assumed)."""

    def __init__(self, host, call_id, plugin_index):
        self._host = host
        self._call_id = call_id
        self._plugin = plugin_index

    def __getattr__(self, method):
        if method.startswith("__"):
            raise AttributeError(method)

        async def request(*args, **kwargs):
            answer = await self._host.request_node(
                "approval",
                {
                    "call_id": self._call_id,
                    "plugin": self._plugin,
                    "method": method,
                    "args": _jsonable(list(args)),
                    "kwargs": _jsonable(kwargs),
                },
            )
            return ApprovalDecision(answer.get("approved"), answer.get("reason"))

        return request


class EventService:
    """What `ctx.event_service_factory(...)` returns: every method call is an event that
    toolport logs and passes to the calling client as a log message."""

    def __init__(self, host, call_id, plugin_index, scope):
        self._host = host
        self._call_id = call_id
        self._plugin = plugin_index
        self._scope = scope

    def __getattr__(self, method):
        if method.startswith("__"):
            raise AttributeError(method)

        def emit(*args, **kwargs):
            self._host.send(
                {
                    "method": "event",
                    "params": {
                        "call_id": self._call_id,
                        "plugin": self._plugin,
                        "method": method,
                        "scope": self._scope,
                        "args": _jsonable(list(args)),
                        "kwargs": _jsonable(kwargs),
                    },
                }
            )
            return _Done()

        return emit


def _jsonable(value):
    return json.loads(json.dumps(value, default=repr))


# ---------------------------------------------------------------------------
# Reading manifests
# ---------------------------------------------------------------------------


def _getter(obj):
    if isinstance(obj, dict):
        return lambda key, default=None: obj.get(key, default)
    return lambda key, default=None: getattr(obj, key, default)


def _permission_names(values):
    if values is None:
        return []
    if isinstance(values, (str, enum.Enum)):
        values = [values]
    names = []
    for value in values:
        names.append(value.name if isinstance(value, enum.Enum) else str(value))
    return names


def describe_tool(tool):
    if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
        # OpenAI function-calling shape: {"type": "function", "function": {...}}
        tool = {**tool["function"], **{k: v for k, v in tool.items() if k not in ("function", "type")}}
    get = _getter(tool)
    return {
        "name": get("name"),
        "description": get("description"),
        "parameters": get("parameters"),
        "usage": get("usage"),
        "permissions_required": _permission_names(get("permissions_required")),
        "side_effects": get("side_effects", False),
    }


def describe_manifest(manifest):
    get = _getter(manifest)
    tools = get("tools")
    return {
        "id": get("id"),
        "name": get("name"),
        "version": get("version"),
        "description": get("description"),
        "tools": [describe_tool(tool) for tool in tools] if isinstance(tools, (list, tuple)) else tools,
        "permissions": _permission_names(get("permissions")),
        "injects_context": get("injects_context", False),
        "scope": get("scope"),
    }


def describe_exception(error, root=None):
    info = {
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
    }
    if isinstance(error, SyntaxError):
        info["message"] = error.msg or str(error)
        info["file"] = error.filename
        info["line"] = error.lineno
        return info
    if root is not None:
        for frame in traceback.extract_tb(error.__traceback__):
            if os.path.abspath(frame.filename).startswith(root):
                info["file"] = frame.filename
                info["line"] = frame.lineno
    return info


def to_text(value):
    """A tool's return value as text: ScaiWave tools return str; anything else is kept readable."""
    if value is None:
        return "", "none"
    if isinstance(value, str):
        return value, "str"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace"), "bytes"
    try:
        return json.dumps(value, ensure_ascii=False, default=str), "json"
    except (TypeError, ValueError):
        return str(value), "other"


# ---------------------------------------------------------------------------
# Finding plugins
# ---------------------------------------------------------------------------


def _is_plugin_object(value, base):
    return isinstance(value, base) or (
        hasattr(type(value), "manifest") and callable(getattr(value, "execute_tool", None))
    )


def _plugin_classes(module, base, prefix):
    found = []
    for value in list(vars(module).values()):
        if (
            inspect.isclass(value)
            and issubclass(value, base)
            and value is not base
            and (value.__module__ == prefix or value.__module__.startswith(prefix + "."))
        ):
            found.append(value)
    # An abstract class that another found class extends is a shared base, not a plugin.
    return [
        cls
        for cls in found
        if not (inspect.isabstract(cls) and any(other is not cls and issubclass(other, cls) for other in found))
    ]


def _instantiate(entries, base):
    plugins = []
    for entry in entries:
        if inspect.isclass(entry):
            try:
                instance = entry()
            except Exception as error:
                raise RuntimeError("cannot create %s() without arguments: %s: %s" % (entry.__name__, type(error).__name__, error)) from error
        else:
            instance = entry
        if not _is_plugin_object(instance, base):
            raise TypeError("%r is not a plugin: it needs a `manifest` property and `execute_tool`" % (entry,))
        plugins.append(instance)
    return plugins


def _install_builtin_package(search_path):
    """`app.plugins.builtin` points at the plugin's own folder, so sibling imports written
    for a ScaiWave tree (`from app.plugins.builtin.x import y`) keep working."""
    package = types.ModuleType(BUILTIN_PACKAGE)
    package.__path__ = [search_path]
    package.__package__ = BUILTIN_PACKAGE
    sys.modules[BUILTIN_PACKAGE] = package
    import app.plugins  # noqa: F401  (the shim)

    setattr(sys.modules["app.plugins"], "builtin", package)
    return package


# ---------------------------------------------------------------------------
# Grants: a deny-by-default guard on network, files and processes
# ---------------------------------------------------------------------------
# An audit hook (PEP 578) refuses what the plugin's config does not grant, with a message
# naming the grant, for code that goes through Python's own APIs. It is not the boundary:
# plugin code can get around it (native code, or finding the hook object), so the kernel
# enforces the same grants underneath (the bubblewrap sandbox toolport starts the host in,
# and the seccomp filter below); the hook is there for the friendly PermissionError.

NETWORK_EVENTS = frozenset(
    ["socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"]
)
PROCESS_EVENTS = frozenset(["subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn"])
WRITE_EVENTS = {
    "os.remove": 1, "os.rename": 2, "os.rmdir": 1, "os.mkdir": 1, "os.chmod": 1, "os.chown": 1,
    "os.truncate": 1, "os.link": 2, "os.symlink": 2, "os.utime": 1, "shutil.rmtree": 1, "shutil.copyfile": 2,
    "shutil.copytree": 2, "shutil.move": 2,
}
READ_EVENTS = {"os.listdir": 1, "os.scandir": 1}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# System folders code reads without asking (time zones, certificates, locales, devices).
# Of /proc only the host's own entries (through realpath, /proc/self is /proc/<pid>).
SYSTEM_READS = ["/usr", "/lib", "/lib64", "/etc", "/dev/null", "/dev/urandom", "/dev/random", "/sys/devices/system/cpu"]


def _normalise(path):
    """The path as the kernel will find it: absolute, with symlinks and /proc/self/root
    resolved (else /proc/self/root/<anything> would pass as a read of /proc/self)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        return None
    return os.path.realpath(os.path.join(os.getcwd(), path))


def _under(path, roots):
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            return True
    return False


class Guard:
    def __init__(self, label, grants, root):
        self.label = label
        self.network = bool(grants.get("network"))
        self.subprocess = bool(grants.get("subprocess"))
        files = grants.get("files") or {}
        self.writes = [os.path.realpath(path) for path, mode in files.items() if mode == "rw"] + ["/dev/null"]
        prefixes = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, HOST_DIR, root, "/proc/%d" % os.getpid()]
        self.reads = sorted(
            {os.path.realpath(path) for path in list(files) + prefixes + SYSTEM_READS + [p for p in sys.path if p] if path}
        )

    def refuse(self, what, grant):
        return PermissionError(
            "toolport: %s is not granted to this plugin; to allow it, set in its config: %s" % (what, grant)
        )

    def check_path(self, path, write):
        normal = _normalise(path)
        if normal is None:
            return
        if write and not _under(normal, self.writes):
            raise self.refuse("writing %s" % normal, "grants: { files: { %s: rw } }" % os.path.dirname(normal))
        if not write and not _under(normal, self.reads):
            raise self.refuse("reading %s" % normal, "grants: { files: { %s: ro } }" % os.path.dirname(normal))

    def __call__(self, event, args):
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if path is None or isinstance(path, int):
                return
            write = bool(mode and any(c in str(mode) for c in "wax+")) or bool(isinstance(flags, int) and flags & WRITE_FLAGS)
            self.check_path(path, write)
        elif event in NETWORK_EVENTS:
            if not self.network:
                raise self.refuse("network access", "grants: { network: true }")
        elif event in WRITE_EVENTS:
            for path in args[: WRITE_EVENTS[event]]:
                if isinstance(path, (str, bytes, os.PathLike)):
                    self.check_path(path, True)
        elif event in READ_EVENTS:
            if args and isinstance(args[0], (str, bytes, os.PathLike)):
                self.check_path(args[0], False)
        elif event in PROCESS_EVENTS:
            if not self.subprocess:
                raise self.refuse("starting a process", "allowSubprocess: true")



# ---------------------------------------------------------------------------
# The kernel's part (Linux): no program start without the grant, no life after the parent
# ---------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
# Per architecture: its audit id, execve and execveat, and the seccomp system call.
SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, 59, 322, 317),
    "aarch64": (0xC00000B7, 221, 281, 277),
}


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def exit_with_parent():
    """The host ends when the process that started it ends (toolport, or the sandbox's init),
    even while a plugin blocks the event loop: the kernel's parent-death signal on Linux, a
    watcher thread elsewhere."""
    parent = os.getppid()
    armed = False
    if sys.platform.startswith("linux"):
        try:
            ctypes, libc = _libc()
            armed = libc.prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
        except Exception:
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if armed:
        return

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="toolport-parent-watch", daemon=True).start()


def refuse_program_starts():
    """Makes execve and execveat fail with EPERM for this process, its threads and whatever
    it forks, enforced by the kernel (a seccomp filter; it cannot be removed). The audit hook
    refuses subprocess and os.exec* with a message; this also stops what goes around it
    (_posixsubprocess.fork_exec, ctypes). Returns why it could not, or None."""
    machine = os.uname().machine if hasattr(os, "uname") else ""
    if not sys.platform.startswith("linux") or machine not in SECCOMP_ARCHES:
        return "no seccomp filter for %s %s" % (sys.platform, machine)
    arch, execve, execveat, seccomp = SECCOMP_ARCHES[machine]
    ctypes, libc = _libc()

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | errno.EPERM
    # x32 system calls on x86-64 have bit 30 set; no other ABI may be used at all.
    x32 = 0x40000000 if machine == "x86_64" else 0xFFFFFFFF
    program = [
        (load, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, deny),
        (load, 0, 0, 0),  # seccomp_data.nr
        (jge, 3, 0, x32),
        (jeq, 2, 0, execve),
        (jeq, 1, 0, execveat),
        (ret, 0, 0, allow),
        (ret, 0, 0, deny),
    ]
    filters = (SockFilter * len(program))(*[SockFilter(*instruction) for instruction in program])
    fprog = SockFprog(len(program), filters)
    long = ctypes.c_long
    if libc.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        return "prctl(PR_SET_NO_NEW_PRIVS) failed: %s" % os.strerror(ctypes.get_errno())
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog): every thread at once.
    if libc.syscall(long(seccomp), long(1), long(1), ctypes.byref(fprog)) != 0:
        return "seccomp failed: %s" % os.strerror(ctypes.get_errno())
    return None


def load_plugins(path):
    """Imports the plugin file or package at `path`; returns (plugin instances, root folder)."""
    from app.plugins.base import BasePlugin

    path = os.path.abspath(path)
    is_package = os.path.isdir(path) or os.path.basename(path) == "__init__.py"
    if is_package:
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        init = os.path.join(folder, "__init__.py")
        if not os.path.isfile(init):
            raise FileNotFoundError("%s is a folder without __init__.py, not a Python package" % folder)
        sys.path.insert(1, os.path.dirname(folder))
        spec = importlib.util.spec_from_file_location(BUILTIN_PACKAGE, init, submodule_search_locations=[folder])
        module = importlib.util.module_from_spec(spec)
        sys.modules[BUILTIN_PACKAGE] = module
        setattr(sys.modules["app.plugins"], "builtin", module)
        spec.loader.exec_module(module)
        name, root = BUILTIN_PACKAGE, folder
    else:
        folder = os.path.dirname(path)
        sys.path.insert(1, folder)
        _install_builtin_package(folder)
        stem = os.path.splitext(os.path.basename(path))[0]
        name = "%s.%s" % (BUILTIN_PACKAGE, stem.replace("-", "_").replace(".", "_"))
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None:
            raise ImportError("cannot import %s as Python" % path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        root = folder

    registry = getattr(module, "BUILTIN_PLUGINS", None)
    if registry is not None:
        if not isinstance(registry, (list, tuple)):
            raise TypeError("BUILTIN_PLUGINS must be a list, not %s" % type(registry).__name__)
        return _instantiate(registry, BasePlugin), root
    classes = _plugin_classes(module, BasePlugin, name)
    if not classes and is_package:
        for info in pkgutil.iter_modules(module.__path__):
            sub = importlib.import_module("%s.%s" % (name, info.name))
            classes.extend(cls for cls in _plugin_classes(sub, BasePlugin, sub.__name__) if cls not in classes)
    return _instantiate(classes, BasePlugin), root


def _overrides(instance, method):
    from app.plugins.base import BasePlugin

    own = getattr(type(instance), method, None)
    if own is None:
        return False
    return own is not getattr(BasePlugin, method, None)


# ---------------------------------------------------------------------------
# The host
# ---------------------------------------------------------------------------


class RpcLogHandler(logging.Handler):
    """Python `logging` records (the plugin's and ours) go to toolport's log, with levels."""

    def __init__(self, host):
        super().__init__()
        self.host = host

    def emit(self, record):
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            self.host.send(
                {
                    "method": "log",
                    "params": {
                        "level": record.levelname.lower(),
                        "logger": record.name,
                        "message": message,
                        "call_id": CURRENT_CALL.get(),
                    },
                }
            )
        except Exception:
            self.handleError(record)


class PluginEntry:
    def __init__(self, instance):
        self.instance = instance
        self.execute_is_async = inspect.iscoroutinefunction(getattr(instance, "execute_tool", None))
        self.dynamic = _overrides(instance, "get_dynamic_tools")
        self.dynamic_fingerprint = None
        self.refreshing = False
        self.refresh_again = False


class Host:
    def __init__(self):
        self.loop = None
        self.loop_thread = None
        self.sock = None
        self.stopped = None
        self.incoming = bytearray()
        self.chunk = bytearray(64 * 1024)
        self.chunk_view = memoryview(self.chunk)
        self.scanned = 0
        self.outgoing = bytearray()
        self.plugins = []
        self.root = None
        self.calls = {}
        self.node_requests = {}
        self.next_node_request = 0
        self.settings = ToolportSettings()
        self.tenant = None
        self.user_token = None
        self.services = {}
        self.default_ctx = {}
        self.background = set()
        self.handlers = {
            "load": self.on_load,
            "call": self.on_call,
            "system_context": self.on_system_context,
        }

    # -- wire --------------------------------------------------------------
    # Plain non-blocking socket I/O on the loop (add_reader/add_writer): asyncio streams
    # cost about 100 µs more per round trip here, which is most of the call overhead.

    def send(self, message):
        if self.sock is None:
            return
        if threading.get_ident() != self.loop_thread:
            self.loop.call_soon_threadsafe(self.send, message)
            return
        data = (ENCODER.encode(message) + "\n").encode("utf-8", "replace")
        if self.outgoing:
            self.outgoing += data
            return
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return
        if sent < len(data):
            self.outgoing += data[sent:]
            self.loop.add_writer(self.sock.fileno(), self.on_writable)

    def on_writable(self):
        try:
            sent = self.sock.send(self.outgoing)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.outgoing.clear()
            sent = 0
        del self.outgoing[:sent]
        if not self.outgoing:
            self.loop.remove_writer(self.sock.fileno())

    def on_readable(self):
        try:
            # Into a buffer kept across reads: recv(n) allocates n bytes every time.
            size = self.sock.recv_into(self.chunk)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            size = 0
        if size == 0:
            self.loop.remove_reader(self.sock.fileno())
            if not self.stopped.done():
                self.stopped.set_result(None)
            return
        self.incoming += self.chunk_view[:size]
        while True:
            end = self.incoming.find(b"\n", self.scanned)
            if end < 0:
                self.scanned = len(self.incoming)
                if self.scanned > MAX_LINE:
                    log.error("a request was larger than %d bytes; stopping", MAX_LINE)
                    self.loop.remove_reader(self.sock.fileno())
                    self.stopped.set_result(None)
                return
            line = bytes(self.incoming[:end])
            del self.incoming[: end + 1]
            self.scanned = 0
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                log.error("unreadable request line from toolport: %r", line[:200])
                continue
            self.dispatch(message)

    async def request_node(self, method, params):
        self.next_node_request += 1
        request_id = "h%d" % self.next_node_request
        future = self.loop.create_future()
        self.node_requests[request_id] = future
        self.send({"id": request_id, "method": method, "params": params})
        try:
            return await future
        finally:
            self.node_requests.pop(request_id, None)

    def spawn(self, coroutine):
        task = self.loop.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.stopped = self.loop.create_future()
        sock = socket.socket(fileno=RPC_FD)
        sock.set_inheritable(False)
        sock.setblocking(False)
        self.sock = sock
        root_logger = logging.getLogger()
        root_logger.handlers = [RpcLogHandler(self)]
        root_logger.setLevel(logging.INFO)
        self.loop.add_reader(sock.fileno(), self.on_readable)
        await self.stopped
        await self.shutdown()
        # Leave now: asyncio.run would wait for worker threads of synchronous tools still running.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def dispatch(self, message):
        method = message.get("method")
        message_id = message.get("id")
        if method is None:
            future = self.node_requests.get(message_id)
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(RuntimeError(str(message["error"])))
                else:
                    future.set_result(message.get("result") or {})
            return
        params = message.get("params") or {}
        if method == "cancel":
            task = self.calls.get(params.get("id"))
            if task is not None:
                task.cancel()
            return
        handler = self.handlers.get(method)
        if handler is None:
            self.send({"id": message_id, "error": {"type": "MethodNotFound", "message": "unknown method %s" % method}})
            return
        if method == "call":
            # The calls table holds the task (for cancel) until it answered.
            self.calls[message_id] = self.loop.create_task(self.answer(message_id, handler, params))
        else:
            self.spawn(self.answer(message_id, handler, params))

    async def answer(self, message_id, handler, params):
        try:
            result = await handler(params)
        except asyncio.CancelledError:
            self.send({"id": message_id, "cancelled": True})
            return
        except SystemExit as error:
            self.send({"id": message_id, "error": {"type": "SystemExit", "message": "the tool called sys.exit(%s)" % (error.code,), "traceback": traceback.format_exc()}})
            return
        except Exception as error:
            self.send({"id": message_id, "error": describe_exception(error, self.root)})
            return
        finally:
            self.calls.pop(message_id, None)
        self.send({"id": message_id, "result": result})

    async def shutdown(self):
        for task in list(self.calls.values()):
            task.cancel()
        if self.calls:
            await asyncio.wait(list(self.calls.values()), timeout=1)
        try:
            # Children the plugin started share our process group; take them along.
            if os.getpgid(0) == os.getpid():
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                os.killpg(os.getpid(), signal.SIGTERM)
        except (OSError, AttributeError):
            pass

    # -- context -----------------------------------------------------------

    def context(self, params, plugin_index):
        from app.plugins.protocol import PluginContext

        call_id = params.get("call_id")
        host = self

        def event_service_factory(*args, **kwargs):
            scope = _jsonable({"args": list(args), "kwargs": kwargs})
            return EventService(host, call_id, plugin_index, scope)

        async def elicit(message, schema=None):
            """Asks the user: answers {"action": "accept"|"decline"|"cancel", "content": {...}}."""
            return await host.request_node(
                "elicit",
                {"call_id": call_id, "message": str(message), "schema": _jsonable(schema or {"type": "object", "properties": {}})},
            )

        async def sample(prompt, max_tokens=512, system_prompt=None):
            """Asks the client's model; answers its text."""
            answer = await host.request_node(
                "sample",
                {"call_id": call_id, "prompt": str(prompt), "max_tokens": int(max_tokens), "system_prompt": system_prompt},
            )
            return answer.get("text", "")

        return PluginContext(
            db=self.services.get("db"),
            tenant=self.tenant,
            settings=self.settings,
            redis=self.services.get("redis"),
            room_id=params.get("room_id"),
            sender_id=params.get("sender_id"),
            user_token=self.user_token,
            scaigrid=self.services.get("scaigrid"),
            arq=self.services.get("arq"),
            approval_service=ApprovalService(self, call_id, plugin_index),
            event_service_factory=event_service_factory,
            elicit=elicit,
            sample=sample,
        )

    # -- methods -----------------------------------------------------------

    async def on_load(self, params):
        from app.plugins.protocol import TenantContext

        self.settings = ToolportSettings(params.get("settings") or {})
        self.tenant = TenantContext(params.get("tenant") or {})
        self.user_token = params.get("user_token")
        self.default_ctx = params.get("default_ctx") or {}
        level = params.get("log_level")
        if isinstance(level, str) and level.upper() in logging._nameToLevel:
            logging.getLogger().setLevel(level.upper())
        path = os.path.abspath(params["path"])
        self.root = path if os.path.isdir(path) else os.path.dirname(path)
        grants = params.get("grants")
        if grants is not None:
            # Installed before the plugin's code runs; an audit hook cannot be removed.
            sys.addaudithook(Guard(os.path.basename(path), grants, self.root))
            if not grants.get("subprocess"):
                why = refuse_program_starts()
                if why is not None:
                    log.warning("starting programs is refused by the audit hook only: %s", why)
        try:
            instances, self.root = load_plugins(path)
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] == "app" and not (error.name or "").startswith(BUILTIN_PACKAGE):
                raise ModuleNotFoundError(
                    "%s (toolport provides only app.plugins.base and app.plugins.protocol of ScaiWave)" % error,
                    name=error.name,
                ) from error
            raise
        for name, target in (params.get("services") or {}).items():
            self.services[name] = await self.make_service(name, target)
        self.plugins = [PluginEntry(instance) for instance in instances]
        described = []
        for index, entry in enumerate(self.plugins):
            cls = type(entry.instance).__name__
            try:
                manifest = describe_manifest(entry.instance.manifest)
            except Exception as error:
                raise RuntimeError("reading %s.manifest failed: %s: %s" % (cls, type(error).__name__, error)) from error
            item = {
                "class": cls,
                "manifest": manifest,
                "dynamic": entry.dynamic,
                "system_context": _overrides(entry.instance, "get_system_context"),
                "sync_execute": not inspect.iscoroutinefunction(getattr(entry.instance, "execute_tool", None)),
            }
            if entry.dynamic:
                tools = await self.fetch_dynamic(index, self.default_ctx)
                entry.dynamic_fingerprint = json.dumps(tools, sort_keys=True, default=repr)
                item["dynamic_tools"] = tools
            described.append(item)
        seconds = params.get("dynamic_refresh_seconds") or 0
        if seconds > 0 and any(entry.dynamic for entry in self.plugins):
            self.spawn(self.refresh_periodically(seconds))
        return {"python": "%d.%d.%d" % sys.version_info[:3], "plugins": described}

    async def make_service(self, name, target):
        module_name, _, attribute = str(target).partition(":")
        if not module_name or not attribute:
            raise ValueError("services.%s: expected 'module:callable', got %r" % (name, target))
        factory = getattr(importlib.import_module(module_name), attribute)
        value = factory() if callable(factory) else factory
        if inspect.isawaitable(value):
            value = await value
        return value

    async def on_call(self, params):
        index = params["plugin"]
        entry = self.plugins[index]
        ctx_params = params.get("ctx") or {}
        token = CURRENT_CALL.set(ctx_params.get("call_id"))
        try:
            ctx = self.context(ctx_params, index)
            execute = entry.instance.execute_tool
            if entry.execute_is_async:
                value = await execute(params["tool"], params["args"], ctx)
            else:
                # A synchronous tool must not stall every other call on the loop.
                run = contextvars.copy_context().run
                value = await self.loop.run_in_executor(None, run, execute, params["tool"], params["args"], ctx)
            if inspect.isawaitable(value):
                value = await value
        finally:
            CURRENT_CALL.reset(token)
            self.schedule_dynamic_refresh(index, ctx_params)
        text, kind = to_text(value)
        return {"text": text, "type": kind}

    async def on_system_context(self, params):
        ctx_params = params.get("ctx") or {}
        contexts = []
        for index, entry in enumerate(self.plugins):
            if index not in (params.get("plugins") or range(len(self.plugins))):
                continue
            try:
                text = await entry.instance.get_system_context(self.context(ctx_params, index))
            except Exception as error:
                log.error("%s.get_system_context failed", type(entry.instance).__name__, exc_info=error)
                continue
            if text:
                contexts.append({"plugin": index, "text": str(text)})
        return {"contexts": contexts}

    # -- dynamic tools -----------------------------------------------------

    async def fetch_dynamic(self, index, ctx_params):
        entry = self.plugins[index]
        tools = await asyncio.wait_for(entry.instance.get_dynamic_tools(self.context(ctx_params, index)), 10)
        if tools is None:
            return []
        if not isinstance(tools, (list, tuple)):
            raise TypeError("get_dynamic_tools must return a list, not %s" % type(tools).__name__)
        return [describe_tool(tool) for tool in tools]

    def schedule_dynamic_refresh(self, index, ctx_params):
        entry = self.plugins[index]
        if not entry.dynamic:
            return
        if entry.refreshing:
            entry.refresh_again = True
            return
        entry.refreshing = True
        self.spawn(self.refresh_dynamic(index, ctx_params))

    async def refresh_dynamic(self, index, ctx_params):
        entry = self.plugins[index]
        try:
            while True:
                entry.refresh_again = False
                tools = await self.fetch_dynamic(index, ctx_params)
                fingerprint = json.dumps(tools, sort_keys=True, default=repr)
                if fingerprint != entry.dynamic_fingerprint:
                    entry.dynamic_fingerprint = fingerprint
                    self.send({"method": "dynamic_tools", "params": {"plugin": index, "tools": tools}})
                if not entry.refresh_again:
                    break
        except Exception as error:
            log.error("%s.get_dynamic_tools failed", type(entry.instance).__name__, exc_info=error)
        finally:
            entry.refreshing = False

    async def refresh_periodically(self, seconds):
        while True:
            await asyncio.sleep(seconds)
            for index in range(len(self.plugins)):
                self.schedule_dynamic_refresh(index, self.default_ctx)


def main():
    # The shim's `app` package is where plugins import ScaiWave's classes from (main.py has
    # taken this folder off sys.path).
    sys.path.insert(0, SHIM_DIR)
    sys.dont_write_bytecode = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    try:
        os.fstat(RPC_FD)
    except OSError:
        sys.stderr.write("toolport: the python plugin host is started by toolport (it talks on fd 3)\n")
        sys.exit(2)
    asyncio.run(Host().run())
