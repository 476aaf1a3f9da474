"""The report folder: refuse any place bayeswd did not make, then replace it atomically.

A folder bayeswd writes carries a manifest (``MANIFEST``) listing every file in it.
``check_output`` accepts only a missing path, an empty folder, or a folder whose
manifest covers everything in it; anything else (a file, a user's folder, the current
folder or one of its parents, the home folder, a folder holding ``.git``) is refused
with an :class:`OutputError` before any work is done. ``atomic_directory`` builds the
new report beside the target and swaps it in under a file lock, so concurrent writers
take turns and a reader always finds a complete report.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from glob import escape as glob_escape
from pathlib import Path

__all__ = ["MANIFEST", "OutputError", "check_output", "atomic_directory", "write_text_atomic"]

MANIFEST = ".bayeswd-report.json"
_LOCK_TIMEOUT_S = 600
# Room a report needs while it is built beside the old one: a full report is about 3 MB; ask for a margin.
REPORT_BYTES = 20 * 2**20


class OutputError(ValueError):
    """The output path is not one bayeswd may replace; the message says what to give instead."""


def check_output(target) -> Path:
    """Return ``target`` resolved, or raise :class:`OutputError` if bayeswd must not replace it.

    Also checks that the folder it would be written in can be written to, so that a bad
    ``--out`` fails in a second instead of after the whole computation.
    """
    raw = Path(target).expanduser()
    shown = str(raw) if len(str(raw)) <= 120 else str(raw)[:60] + " … " + str(raw)[-40:]
    try:
        return _check_output(raw, shown)
    except RuntimeError as err:           # Path.resolve on a symlink loop
        raise OutputError(f"--out {shown} cannot be resolved ({err}); give a plain folder path") from None
    except OSError as err:                # a name or path too long, a folder that cannot be listed, …
        raise OutputError(f"--out {shown} cannot be used ({err.strerror or err}); give a shorter, plain folder "
                          "path you can write to") from None


def _check_output(raw: Path, shown: str) -> Path:
    path = raw.resolve()
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents:
        raise OutputError(f"--out {shown} is the current folder or one of its parents; give a new folder such as "
                          f"--out bayeswd-report")
    if path == Path.home().resolve():
        raise OutputError(f"--out {shown} is your home folder; give a new folder such as --out ~/bayeswd-report")
    if path.exists() or path.is_symlink():
        if os.path.ismount(path):
            # The new report is built beside the old one and renamed over it; a mount point cannot be renamed.
            raise OutputError(f"--out {shown} is a mount point; give a folder inside it, such as "
                              f"--out {shown.rstrip('/')}/bayeswd-report")
        if not path.is_dir():
            raise OutputError(f"--out {shown} is a file, not a folder; give a new folder name")
        if (path / ".git").exists():
            raise OutputError(f"--out {shown} holds a .git folder; give a new folder outside the repository's root")
        foreign = _foreign_entries(path)
        if foreign is None:
            raise OutputError(f"--out {shown} is a folder bayeswd did not write (it is not empty and has no "
                              f"{MANIFEST}); give a new or empty folder")
        if foreign:
            listed = ", ".join(sorted(foreign)[:3]) + (" …" if len(foreign) > 3 else "")
            raise OutputError(f"--out {shown} holds files bayeswd did not write ({listed}); move them out or give "
                              f"another folder")
    _check_writable(path.parent, shown)
    return path


def _foreign_entries(folder: Path) -> set[str] | None:
    """Paths under ``folder`` that its manifest does not list; None when it has no valid manifest.

    An empty folder has nothing foreign in it. A folder without a manifest is answered from its first
    entry, never walked (``--out /usr`` is refused at once); only a report's own folder is listed.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        listed = set(manifest["entries"])
        if manifest.get("tool") != "bayeswd" or not all(isinstance(e, str) for e in listed):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        with os.scandir(folder) as entries:
            return set() if next(entries, None) is None else None
    present = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    return present - listed - {MANIFEST}


def _check_writable(parent: Path, shown: str) -> None:
    ancestor = parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"--out {shown} lies under {ancestor}, which is a file; give a path in a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".bayeswd-probe-", dir=ancestor)).rmdir()
    except OSError as err:
        raise OutputError(f"cannot write in {ancestor} ({err.strerror}); give --out a folder you can write to") \
            from None
    free = shutil.disk_usage(ancestor).free
    if free < REPORT_BYTES:
        raise OutputError(f"--out {shown}: only {free / 2**20:.1f} MB free in {ancestor}, and a report needs up to "
                          f"{REPORT_BYTES // 2**20} MB; free some space or give --out on another disk")


@contextlib.contextmanager
def atomic_directory(target):
    """Yield an empty staging folder; on success it replaces ``target`` in one step.

    ``target`` is checked with :func:`check_output` before and again, under the lock, just
    before the swap. On any error or interrupt the staging folder is removed and ``target``
    is left exactly as it was. Folder modes follow the umask.
    """
    target = check_output(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-{os.getpid()}-", dir=target.parent))
    try:
        yield staging
        _write_manifest(staging)
        _apply_umask(staging)
        with _lock_for(target):
            check_output(target)  # another process (or the user) may have changed it meanwhile
            _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # on success it holds the old report, or is gone


def _remove_stale_staging(target: Path) -> None:
    """Remove staging folders of ``target`` that a killed run left (SIGKILL, power loss): bayeswd names them
    ``.NAME.building-PID-…``, so one whose process is gone is stale; a live run's is left alone."""
    for folder in target.parent.glob(f".{glob_escape(target.name)}.building-*"):
        pid = folder.name[len(f".{target.name}.building-"):].split("-", 1)[0]
        if not pid.isdigit() or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (PermissionError, OverflowError):
            continue


def _write_manifest(folder: Path) -> None:
    entries = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    (folder / MANIFEST).write_text(json.dumps({"tool": "bayeswd", "entries": entries}, indent=1), encoding="utf-8")


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)  # no /proc: read it by setting it (briefly) and putting it back
    os.umask(current)
    return current


def _apply_umask(folder: Path) -> None:
    """``mkdtemp`` makes 0700 folders; give the report the mode any new folder would have."""
    mode = 0o777 & ~_umask()
    folder.chmod(mode)
    for sub in folder.rglob("*"):
        if sub.is_dir():
            sub.chmod(mode)


def _lock_for(target: Path):
    """A lock per target path, kept in the user cache folder (or the temp folder), not beside the report."""
    from filelock import FileLock

    digest = hashlib.sha256(str(target).encode()).hexdigest()[:24]
    for folder in (_user_cache_dir() / "locks", Path(tempfile.gettempdir()) / "bayeswd-locks"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return FileLock(folder / f"{digest}.lock", timeout=_LOCK_TIMEOUT_S)
    raise OutputError("found no writable folder for the report's lock file; set XDG_CACHE_HOME to a writable folder")


def _user_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bayeswd", appauthor=False))


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; afterwards ``staging`` holds the previous report, if any."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return
    # No atomic exchange on this system: two renames, a brief moment with no report.
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(target, old)
    os.rename(staging, target)
    os.rename(old, staging)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux's renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_text_atomic(path, text: str) -> None:
    """Write a file via a temporary sibling and ``os.replace``; the temporary is removed on failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
