"""The one door through which the crew runs anything: every command in a bubblewrap sandbox.

Nothing else in :mod:`atoll.agents` starts a process. A command sees:

- the run's staged copy, read-write, at ``/workspace`` (its working directory): the only
  place it can write that outlives it;
- the system's ``/usr`` (and the ``/bin``, ``/lib`` links), a handful of ``/etc`` files
  that programs need, and the toolchains the user bound in machine-scope configuration
  (``agents.sandbox.binds``), all read-only;
- a synthetic ``/etc/passwd`` and ``/etc/group`` (no accounts of this machine), a fresh,
  size-limited tmpfs for ``/tmp`` and for ``HOME`` — no user home, no ``/root``, no
  original workspace, no other runs;
- its own user, PID, network, IPC and UTS namespaces: no network but its own loopback,
  no processes of the machine, and every process it starts dies with it (``setsid`` and
  ``nohup`` included), at its timeout or when atoll exits (``--die-with-parent``);
- limits on CPU time, file size, address space and processes (``ulimit`` inside the
  sandbox, so a fork bomb stops at the limit), on top of the wall-clock timeout and the
  head-and-tail output cap.

Run as root (CI, containers), bubblewrap sets the sandbox up with root's rights (so it
can reach a staged copy under ``/root``) and the command then runs as ``nobody`` with no
capabilities (``setpriv``), because the kernel does not hold root's processes to a
process limit.

Where bubblewrap is missing or cannot create namespaces, :func:`probe` says why and how
to fix it, and the crew's command tools are off; ``agents.sandbox.mode = "unsandboxed"``
(machine scope only) runs commands directly, with a warning on every run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Literal

DEFAULT_OUTPUT_CHARS = 8000
WORKSPACE = "/workspace"
HOME = "/home/atoll"
NOBODY = 65534
SETPRIV = "/usr/bin/setpriv"  # util-linux: drops root to nobody inside the sandbox
SandboxMode = Literal["bwrap", "off", "unsandboxed"]
# /etc entries programs need to start (the loader, alternatives, certificates, time).
# Nothing that names the machine's users, hosts or secrets.
ETC_ENTRIES = (
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates",
    "localtime", "timezone", "nsswitch.conf", "os-release", "debian_version", "mime.types",
    "terminfo", "inputrc", "protocols", "services", "bash.bashrc", "profile",
)  # fmt: skip
TOP_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
INSTALL_HINT = (
    "install the `bubblewrap` package (Debian/Ubuntu: apt-get install bubblewrap; "
    "Fedora: dnf install bubblewrap)"
)


class SandboxUnavailable(RuntimeError):
    """Commands cannot run here; the message names the cause and the fix."""


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None: killed at the timeout
    output: str
    timed_out: bool
    seconds: float

    def for_model(self) -> str:
        status = (
            "timed out and was killed" if self.timed_out else f"exited with code {self.exit_code}"
        )
        return f"$ {self.command}\n[{status} after {self.seconds:.1f}s]\n{self.output}"


@dataclass(frozen=True)
class SandboxPolicy:
    """What a command may use; built from ``agents.sandbox`` (machine scope)."""

    mode: SandboxMode = "bwrap"
    bwrap: str = "bwrap"
    binds: tuple[str, ...] = ()  # "PATH" or "SOURCE:TARGET", read-only
    path: tuple[str, ...] = ()  # extra PATH entries inside the sandbox, first
    cpu_s: int = 300
    memory_mb: int = 8192
    file_mb: int = 256
    processes: int = 512
    tmp_mb: int = 1024
    # Folders never visible inside, even below a bound one (the workspace, other runs).
    hide: tuple[Path, ...] = ()

    @classmethod
    def from_config(cls, sandbox: object, *, hide: Sequence[Path] = ()) -> SandboxPolicy:
        """From an ``atoll.config.SandboxConfig`` (typed loosely: agents stands on config)."""
        get = functools.partial(getattr, sandbox)
        return cls(
            mode=get("mode"),
            bwrap=get("bwrap"),
            binds=tuple(get("binds")),
            path=tuple(get("path")),
            cpu_s=get("cpu_s"),
            memory_mb=get("memory_mb"),
            file_mb=get("file_mb"),
            processes=get("processes"),
            tmp_mb=get("tmp_mb"),
            hide=tuple(hide),
        )


@dataclass(frozen=True)
class SandboxStatus:
    """Whether commands can run, and one line saying how (or why not, and the fix)."""

    mode: SandboxMode
    available: bool
    message: str
    version: str = ""
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "warnings": list(self.warnings)}


def cap_output(text: str, limit: int = DEFAULT_OUTPUT_CHARS) -> str:
    """At most ``limit`` characters: a quarter from the head, the rest from the tail."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [{cut} characters cut] ...\n{text[-tail:]}"


class _HeadTail:
    """Reads a pipe to its end keeping only the first and last ``window`` bytes."""

    def __init__(self, pipe: IO[bytes], window: int) -> None:
        self.window = window
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_bytes = 0
        self.total = 0
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := pipe.read(65536):
                self.total += len(chunk)
                room = self.window - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    self.tail.append(chunk)
                    self.tail_bytes += len(chunk)
                    while self.tail_bytes - len(self.tail[0]) >= self.window:
                        self.tail_bytes -= len(self.tail.popleft())

    def text(self, timeout: float) -> str:
        self._thread.join(timeout)
        tail = b"".join(self.tail)[-self.window :]
        cut = self.total - len(self.head) - len(tail)
        middle = f"\n... [{cut} bytes cut] ...\n" if cut > 0 else ""
        return self.head.decode("utf-8", "replace") + middle + tail.decode("utf-8", "replace")


def minimal_environment(path: Sequence[str] = ()) -> dict[str, str]:
    """A minimal environment: nothing of the user's (keys, tokens, proxies) gets in."""
    standard = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return {
        "PATH": ":".join([*path, standard]),
        "HOME": HOME,
        "USER": "atoll",
        "LOGNAME": "atoll",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _sandbox_uid() -> int:
    """The uid commands run as: ours, or ``nobody`` when we are root."""
    return NOBODY if os.geteuid() == 0 else os.geteuid()


def _count_tasks(uid: int) -> int:
    """Processes and threads of ``uid`` now: the kernel's process limit counts them all."""
    count = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def _limits(policy: SandboxPolicy, uid: int) -> str:
    """``ulimit`` for the command: hard limits it cannot raise again."""
    processes = _count_tasks(uid) + policy.processes
    return (
        f"ulimit -t {policy.cpu_s} -f {policy.file_mb * 1024} "
        f"-v {policy.memory_mb * 1024} -u {processes} || exit 126"
    )


def _passwd(uid: int) -> bytes:
    return (
        f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
        f"atoll:x:{uid}:{uid}:atoll sandbox:{HOME}:/bin/bash\n"
    ).encode()


def _group(uid: int) -> bytes:
    return f"root:x:0:\natoll:x:{uid}:\n".encode()


def _bind_spec(spec: str) -> tuple[Path, str]:
    source, sep, target = spec.partition(":")
    src = Path(source).expanduser()
    return src, (target if sep and target else str(src))


class _Mounts:
    """The bwrap arguments and the file descriptors they refer to."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.fds: list[int] = []

    def data(self, content: bytes, target: str) -> None:
        read, write = os.pipe()
        os.write(write, content)  # far below a pipe's buffer
        os.close(write)
        self.fds.append(read)
        self.args += ["--perms", "0644", "--ro-bind-data", str(read), target]

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _bwrap_args(policy: SandboxPolicy, work: Path, uid: int) -> _Mounts:
    """Everything before the command (binds that do not exist are skipped; see probe)."""
    m = _Mounts()
    m.args += ["--die-with-parent", "--new-session", "--hostname", "atoll-sandbox"]
    m.args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    m.args += ["--unshare-cgroup-try"]
    if os.geteuid() != 0:  # as root, setpriv drops to nobody instead (see the module doc)
        m.args += ["--unshare-user", "--disable-userns"]
    # Modes matter when bubblewrap runs as root and the command as nobody.
    m.args += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/usr", "/usr"]
    for name in TOP_LINKS:
        top = Path("/") / name
        if top.is_symlink():
            m.args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            m.args += ["--ro-bind", str(top), str(top)]
    for name in ETC_ENTRIES:
        if (Path("/etc") / name).exists():
            m.args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    m.data(_passwd(uid), "/etc/passwd")
    m.data(_group(uid), "/etc/group")
    m.data(b"127.0.0.1 localhost atoll-sandbox\n::1 localhost\n", "/etc/hosts")
    m.args += ["--proc", "/proc", "--dev", "/dev"]
    size = str(policy.tmp_mb * 1024 * 1024)
    m.args += ["--perms", "01777", "--size", size, "--tmpfs", "/tmp"]
    m.args += ["--perms", "0755", "--size", size, "--tmpfs", "/home"]
    m.args += ["--perms", "01777", "--dir", HOME]
    for spec in policy.binds:
        source, target = _bind_spec(spec)
        if not source.exists():
            continue
        for parent in reversed(Path(target).parents[:-1]):  # traversable for nobody too
            m.args += ["--perms", "0755", "--dir", str(parent)]
        m.args += ["--ro-bind", str(source), target]
    for hidden in policy.hide:
        if hidden.is_dir() and _under_bound(hidden, policy):
            m.args += ["--tmpfs", str(hidden)]
    m.args += ["--bind", str(work), WORKSPACE, "--chdir", WORKSPACE]
    # The sandbox's own root (a tmpfs holding the mount points) is not a place to write.
    m.args += ["--remount-ro", "/"]
    return m


def _under_bound(path: Path, policy: SandboxPolicy) -> bool:
    bound = [Path("/usr"), *(Path(_bind_spec(s)[1]) for s in policy.binds)]
    bound += [Path("/etc") / name for name in ETC_ENTRIES]
    return any(path == b or b in path.parents for b in bound)


def _give_to(work: Path, uid: int) -> None:
    """Make the staged copy the sandbox user's (when we are root and it runs as nobody)."""
    if os.geteuid() != 0 or uid == 0:
        return
    os.lchown(work, uid, uid)
    for folder, dirs, files in os.walk(work):
        for name in (*dirs, *files):
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(folder, name), uid, uid)


@functools.cache
def _probe_bwrap(bwrap: str, euid: int) -> SandboxStatus:
    exe = shutil.which(bwrap)
    if exe is None:
        return SandboxStatus(
            "bwrap", False, f"bubblewrap ({bwrap}) is not installed: {INSTALL_HINT}"
        )
    if euid == 0 and not os.access(SETPRIV, os.X_OK):
        return SandboxStatus(
            "bwrap", False, f"running as root needs {SETPRIV} (util-linux) to drop to nobody"
        )
    version = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        version = out.stdout.strip().removeprefix("bubblewrap ").strip()
    with tempfile.TemporaryDirectory(prefix="atoll-probe-") as scratch:
        probe = Sandbox(SandboxPolicy(bwrap=exe), Path(scratch), _probing=True)
        try:
            result = probe.run("touch /workspace/ok && ! test -e /root", timeout_s=20)
        except (OSError, SandboxUnavailable) as exc:
            return SandboxStatus("bwrap", False, f"bubblewrap cannot start: {exc}", version)
    if result.exit_code != 0:
        detail = result.output.strip().splitlines()[-1:] or [f"exit {result.exit_code}"]
        return SandboxStatus(
            "bwrap",
            False,
            f"bubblewrap cannot create its namespaces ({detail[0]}): allow unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ "
            "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap)",
            version,
        )
    as_who = " as nobody" if euid == 0 else ""
    return SandboxStatus(
        "bwrap",
        True,
        f"bubblewrap {version}: commands run{as_who} in the staged copy only, "
        "without network, with CPU, memory, file-size and process limits",
        version,
    )


def probe(policy: SandboxPolicy) -> SandboxStatus:
    """Whether the crew's commands can run under ``policy`` (cached per executable)."""
    if policy.mode == "off":
        return SandboxStatus("off", False, 'command tools are off (agents.sandbox.mode = "off")')
    if policy.mode == "unsandboxed":
        return SandboxStatus(
            "unsandboxed",
            True,
            "WARNING: commands run UNSANDBOXED, with your authority "
            '(agents.sandbox.mode = "unsandboxed"); they can read and write anything you can',
        )
    status = _probe_bwrap(policy.bwrap, os.geteuid())
    missing = [s for s in policy.binds if not _bind_spec(s)[0].exists()]
    if missing:
        notes = tuple(f"agents.sandbox.binds: {s} does not exist (skipped)" for s in missing)
        status = SandboxStatus(status.mode, status.available, status.message, status.version, notes)
    return status


class Sandbox:
    """Runs commands for one staged copy (``work``) under one policy."""

    def __init__(self, policy: SandboxPolicy, work: Path, *, _probing: bool = False) -> None:
        self.policy = policy
        self.work = work
        self._probing = _probing

    def status(self) -> SandboxStatus:
        return probe(self.policy)

    def argv(self, command: str) -> tuple[list[str], _Mounts | None]:
        """The full command line (and the descriptors to pass) for ``command``."""
        if self.policy.mode == "unsandboxed":
            script = f'{_limits(self.policy, os.geteuid())}; exec bash -c "$1"'
            return ["bash", "-c", script, "sh", command], None
        uid = _sandbox_uid()
        mounts = _bwrap_args(self.policy, self.work, uid)
        script = f'{_limits(self.policy, uid)}; exec /bin/bash -c "$1"'
        drop: list[str] = []
        if os.geteuid() == 0:
            drop = [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            drop += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        argv = [self.policy.bwrap, *mounts.args, *drop, "/bin/bash", "-c", script, "sh", command]
        return argv, mounts

    def run(
        self, command: str, *, timeout_s: float, limit: int = DEFAULT_OUTPUT_CHARS
    ) -> CommandResult:
        """Run ``command`` with bash in the sandbox; stdout and stderr interleaved, capped."""
        if not self._probing:
            status = self.status()
            if not status.available:
                raise SandboxUnavailable(status.message)
        uid = _sandbox_uid()
        if self.policy.mode == "bwrap":
            _give_to(self.work, uid)
        argv, mounts = self.argv(command)
        started = time.perf_counter()
        try:
            with self._spawn(argv, mounts) as proc:
                assert proc.stdout is not None
                reader = _HeadTail(proc.stdout, 4 * limit)
                timed_out = _wait(proc, timeout_s)
                output = reader.text(timeout=5)
        finally:
            if mounts is not None:
                mounts.close()
        return CommandResult(
            command=command,
            exit_code=None if timed_out else proc.returncode,
            output=cap_output(output, limit),
            timed_out=timed_out,
            seconds=time.perf_counter() - started,
        )

    @contextlib.contextmanager
    def _spawn(self, argv: list[str], mounts: _Mounts | None) -> Iterator[subprocess.Popen[bytes]]:
        proc = subprocess.Popen(
            argv,
            cwd=self.work if self.policy.mode == "unsandboxed" else "/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=minimal_environment(self.policy.path),
            start_new_session=True,
            pass_fds=tuple(mounts.fds) if mounts else (),
        )
        try:
            yield proc
        finally:
            _kill_group(proc)


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait for the command; on timeout kill its whole group. True when it timed out."""
    try:
        proc.wait(timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.wait()
        return True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # bwrap's own init dies with it, and the kernel then kills the whole PID namespace.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def describe(argv: Sequence[str]) -> str:
    """A command line as a shell would show it (for logs and the doctor)."""
    return shlex.join(argv)


def init_repository(work: Path) -> bool:
    """Make the fresh staged copy a git repository of its own, with one commit.

    Runs on the host, once, before the crew has run anything: the copy holds only the
    user's files (no ``.git``), and git reads no system or global configuration here, so
    no hook, filter or fsmonitor can run. After this, git runs only inside the sandbox.
    Returns False (and the crew works without history) where git is missing.
    """
    git = shutil.which("git")
    if git is None:
        return False
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "atoll",
        "GIT_AUTHOR_EMAIL": "atoll@localhost",
        "GIT_COMMITTER_NAME": "atoll",
        "GIT_COMMITTER_EMAIL": "atoll@localhost",
    }
    safe = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    steps = (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--allow-empty", "--no-verify", "-m", "atoll: the staged copy"],
    )
    for step in steps:
        try:
            done = subprocess.run(
                [git, *safe, *step], cwd=work, env=env, capture_output=True, timeout=120
            )
        except (OSError, subprocess.SubprocessError):
            return False
        if done.returncode != 0:
            return False
    return True
