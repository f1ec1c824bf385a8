"""Index files read with `os.pread`: no copy of the index in any process's memory.

Why this exists: Whoosh assembles each segment into one compound file (``.seg``) and,
with its `FileStorage`, memory-maps it and hands every part of it out as a
`whoosh.filedb.structfile.BufferFile`, whose constructor wraps the part in a `BytesIO`
-- which *copies* it.  Every reader therefore held a private copy of its segments'
postings, terms and stored fields: each gunicorn worker carried the whole index (about
770 MB at 200,000 posts), and a worker that opened a new searcher after a commit briefly
held two.  Whoosh has no other read path that avoids it (with ``supports_mmap=False`` the
parts share one file object and one file position, which is not safe for threads).

`PreadStorage` is a `FileStorage` whose files are `PreadFile`s: a window (start, length)
on a shared read-only descriptor, read with ``os.pread`` at explicit offsets.  Bytes are
read only when asked for, and the kernel's page cache (shared by every process, and not
part of any process's RSS) holds the file.  Whoosh's `CompoundStorage` is given
``supports_mmap = False`` and so opens its parts through `PreadFile.subset`: a window on
the same descriptor, no copy.  Memory-mapping without the copy would work too, but the
pages a worker touches would then count in its resident set, growing with the index.

What is read into memory is what the `Engine` decodes, bounded by its `PostingCache`.
Writing is unchanged (`FileStorage.create_file`).
"""

from __future__ import annotations

import os
import threading
from array import array
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

__all__ = ["PreadStorage", "PreadFile"]

_IS_LITTLE = array("i", [1]).tobytes()[0] == 1


class _Descriptor:
    """One read-only file descriptor, closed when the last window on it is garbage.

    The windows of a compound segment outlive the `CompoundStorage` that opened them
    when a search is still running on a replaced searcher, so no window closes the
    descriptor itself; reference counting does it, deterministically on CPython.
    """

    __slots__ = ("fd", "size")

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self.size = os.fstat(self.fd).st_size

    def __del__(self) -> None:
        # No fd when os.open failed (a concurrent commit deleted the file): nothing to close.
        fd = getattr(self, "fd", None)
        if fd is None:
            return
        try:
            os.close(fd)
        except OSError:  # pragma: no cover - already closed at interpreter exit
            pass


class _Window:
    """A file-like view of ``[start, start + length)`` of a descriptor.

    Gives `StructFile` and `pickle.load` the read/readline/readinto/seek/tell they call.
    The position is per thread: Whoosh's readers share one file per segment part between
    all the searches of a searcher, and some of them read statefully (a posting block's
    header is seek, read_int, read_pickle, tell).  Threads searching at once would move
    each other's position; ``os.pread`` releases the GIL, so they did, within a few
    queries (`tests/search/test_memory.py`).  Every Whoosh read sequence starts with a
    seek or a positioned `get`, so a thread's first read never depends on another's.
    """

    def __init__(self, fd: _Descriptor, start: int, length: int) -> None:
        self._fd: _Descriptor | None = fd
        self.start = start
        self.length = length
        self._local = threading.local()

    @property
    def pos(self) -> int:
        pos: int = getattr(self._local, "pos", 0)
        return pos

    @pos.setter
    def pos(self, value: int) -> None:
        self._local.pos = value

    @property
    def descriptor(self) -> _Descriptor:
        if self._fd is None:
            raise ValueError("I/O operation on closed file")
        return self._fd

    def pread(self, position: int, size: int) -> bytes:
        """Up to `size` bytes at `position` of the window (fewer at its end); no state."""
        if position < 0:
            raise ValueError(f"negative position {position}")
        size = max(0, min(size, self.length - position))
        if size == 0:
            return b""
        fd, offset = self.descriptor.fd, self.start + position
        data = os.pread(fd, size, offset)
        while len(data) < size:  # short reads are allowed by POSIX; loop until EOF
            more = os.pread(fd, size - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.length - self.pos
        data = self.pread(self.pos, size)
        self.pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.length - self.pos if size is None or size < 0 else size
        out = b""
        while len(out) < limit:
            chunk = self.pread(self.pos, min(256, limit - len(out)))
            if not chunk:
                break
            end = chunk.find(b"\n")
            if end >= 0:
                chunk = chunk[: end + 1]
            out += chunk
            self.pos += len(chunk)
            if end >= 0:
                break
        return out

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._fd = None  # the descriptor closes when its last window is gone

    @property
    def closed(self) -> bool:
        return self._fd is None


class PreadFile(StructFile):  # type: ignore[misc]  # whoosh ships no types
    """A `StructFile` over a `_Window`: positioned reads without a shared file position.

    `get` and `get_array` (what Whoosh's readers use for postings, terms, columns and
    stored fields) read at their offset with one ``pread`` and then leave the position
    after the bytes read, as `StructFile.get` does.
    """

    def __init__(self, window: _Window, name: str | None = None, onclose: Any = None) -> None:
        super().__init__(window, name=name, onclose=onclose)
        self._window = window
        self.is_real = False  # no fileno(): array.fromfile would bypass the window

    def subset(self, offset: int, length: int, name: str | None = None) -> PreadFile:
        """A window on the same descriptor (how `CompoundStorage` opens a segment's parts)."""
        w = self._window
        if offset < 0 or length < 0 or offset + length > w.length:
            raise ValueError(f"subset {offset}+{length} outside a file of {w.length} bytes")
        return PreadFile(_Window(w.descriptor, w.start + offset, length), name=name or self._name)

    def get(self, position: int, length: int) -> bytes:
        data = self._window.pread(position, length)
        self._window.pos = position + len(data)
        return data

    def get_array(self, position: int, typecode: str, length: int) -> array[Any]:
        out = array(typecode)
        out.frombytes(self.get(position, length * out.itemsize))
        if _IS_LITTLE:  # Whoosh stores arrays big-endian (see StructFile.read_array)
            out.byteswap()
        return out

    def read_array(self, typecode: str, length: int) -> array[Any]:
        return self.get_array(self._window.pos, typecode, length)

    def __len__(self) -> int:
        return self._window.length


class PreadStorage(FileStorage):  # type: ignore[misc]  # whoosh ships no types
    """`FileStorage` reading every file through `PreadFile` (see the module docstring).

    ``supports_mmap`` is False so that Whoosh's `CompoundStorage` takes its sub-file
    path (`PreadFile.subset`) instead of mapping the segment and copying its parts.
    """

    supports_mmap = False

    def __init__(self, path: str, readonly: bool = False, debug: bool = False) -> None:
        super().__init__(path, supports_mmap=False, readonly=readonly, debug=debug)

    def open_file(self, name: str, **kwargs: Any) -> PreadFile:
        """Open `name` for reading.

        Raises:
            FileNotFoundError: no such file (Whoosh's readers rely on this while a
                writer replaces the table of contents).
        """
        fd = _Descriptor(self._fpath(name))
        return PreadFile(_Window(fd, 0, fd.size), name=name, **kwargs)
