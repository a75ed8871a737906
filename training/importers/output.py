"""Writing an import's files so that a reader never sees half of them.

Everything is rendered to bytes first (after all parsing succeeded). A new output directory is
written as a temporary sibling and renamed into place in one step; an existing one (which may hold
other files we must not delete) gets each file replaced atomically (temp file + fsync + os.replace).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from recommender.files import fsync_dir

from .report import ERROR, ImportFailed, Issue


def render_csv(columns: Iterable[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    columns = list(columns)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue().encode("utf-8")


def _umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_file(path: Path, data: bytes, mode: int) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)


def write_outputs(out_dir: Path, files: Mapping[str, bytes]) -> None:
    """Put ``files`` (name -> bytes) into ``out_dir`` atomically (see the module docstring)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ImportFailed([Issue(str(out_dir), "output path exists and is not a directory", ERROR)])
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if not out_dir.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.importing-", dir=parent))
        mask = _umask()
        try:
            os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it private; the output is an ordinary folder
            for name, data in files.items():
                _write_file(tmp / name, data, 0o666 & ~mask)
            fsync_dir(tmp)
            os.rename(tmp, out_dir)
        except OSError:
            for child in tmp.iterdir() if tmp.exists() else ():
                child.unlink()
            if tmp.exists():
                tmp.rmdir()
            if out_dir.exists():  # created by someone else meanwhile: fall back to per-file replace
                _replace_files(out_dir, files)
                return
            raise
        fsync_dir(parent)
        return
    _replace_files(out_dir, files)


def _replace_files(out_dir: Path, files: Mapping[str, bytes]) -> None:
    temps: dict[str, Path] = {}
    mask = _umask()
    try:
        for name, data in files.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            os.close(fd)
            temps[name] = Path(tmp_name)
            _write_file(temps[name], data, 0o666 & ~mask)
        # Only once every file is safely on disk do the replacements start.
        for name, tmp in temps.items():
            os.replace(tmp, out_dir / name)
        fsync_dir(out_dir)
    finally:
        for tmp in temps.values():
            if tmp.exists():
                tmp.unlink()
