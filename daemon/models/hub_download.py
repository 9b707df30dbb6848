"""The files of one pinned revision of a Hugging Face repository, downloaded resumably and
checked against the repository's own checksums.

huggingface_hub does the talking: the endpoint (`HF_ENDPOINT`, or the one given), the token
(`HF_TOKEN` or `huggingface-cli login`), redirects, the progress bar, and a Range request that
picks a file up where a dropped connection left it. Two things it does not do, and this module
does: keep a partial file across runs (hf_hub_download writes a per-process temporary file and
deletes it when interrupted, which costs a user with a 16 GB checkpoint the whole transfer) and
check the contents (it checks the size only). Each file is written to `<name>.part`, kept when
the transfer stops; the next run asks for the rest; a complete file is compared with the
repository's listing (the sha256 of an LFS file, the git blob id of a small one) before it
takes its name, and removed when it differs.

Every failure is a `HubError` whose message is one line naming the repository and what to do.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

CHUNK = 8 * 2**20


class HubError(RuntimeError):
    """A download that cannot go on; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int | None
    sha256: str | None = None  # LFS files
    blob_id: str | None = None  # git blob sha1 of small files


@dataclass(frozen=True)
class RepoRevision:
    """A repository at one commit: what `pull` downloads and records."""

    repo: str
    commit: str
    files: tuple[RemoteFile, ...]
    gated: bool
    licence: str | None  # from the model card, when it says

    def file(self, name: str) -> RemoteFile:
        return next(f for f in self.files if f.name == name)


def endpoint_url(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


def has_token() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


@contextmanager
def hub_errors(repo: str, endpoint: str | None, what: str = "") -> Iterator[None]:
    """Turn huggingface_hub's and the network's exceptions into one-line HubErrors."""
    from huggingface_hub import errors

    where = endpoint_url(endpoint)
    page = f"{where}/{repo}"
    token = "HF_TOKEN is set but was refused" if has_token() else "HF_TOKEN is not set"
    try:
        yield
    except errors.GatedRepoError:
        raise HubError(
            f"{repo} is gated: accept its licence at {page} (logged in), then set HF_TOKEN to a "
            f"read token of that account ({token})"
        ) from None
    except errors.RevisionNotFoundError:
        raise HubError(f"{repo}: no such revision on {where}") from None
    except errors.RemoteEntryNotFoundError:
        raise HubError(f"{repo}: {what or 'a file'} is not in the repository on {where}") from None
    except errors.RepositoryNotFoundError:
        raise HubError(
            f"{repo}: no such repository on {where} (a private or gated one needs HF_TOKEN; "
            f"{token})"
        ) from None
    except errors.OfflineModeIsEnabled:
        raise HubError(f"{repo}: HF_HUB_OFFLINE is set, so nothing can be downloaded") from None
    except errors.HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        hint = f" ({token})" if status in (401, 403) else ""
        raise HubError(f"{repo}: {where} answered HTTP {status}{hint}") from None
    except errors.HTTPError as error:  # the network: refused, reset, timed out
        raise HubError(f"{repo}: cannot reach {where}: {error or type(error).__name__}") from None


def resolve(repo: str, revision: str | None, endpoint: str | None) -> RepoRevision:
    """The commit `revision` (default: main) points to now, and its files with their sizes and
    checksums: everything after this is pinned to that commit."""
    from huggingface_hub import HfApi

    with hub_errors(repo, endpoint):
        info = HfApi(endpoint=endpoint_url(endpoint)).model_info(
            repo, revision=revision, files_metadata=True
        )
    if not info.sha:
        raise HubError(f"{repo}: {endpoint_url(endpoint)} did not say which commit it serves")
    files = tuple(
        RemoteFile(
            sibling.rfilename,
            sibling.lfs.size if sibling.lfs else sibling.size,
            sibling.lfs.sha256 if sibling.lfs else None,
            None if sibling.lfs else sibling.blob_id,
        )
        for sibling in info.siblings or ()
    )
    card = info.card_data
    licence = getattr(card, "license", None) if card is not None else None
    return RepoRevision(info.id or repo, info.sha, files, bool(info.gated), licence)


def partial_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def download(pinned: RepoRevision, remote: RemoteFile, target: Path, endpoint: str | None) -> Path:
    """`remote` of `pinned` at `target`: resumed from `<target>.part` if a previous run left
    one, checked, then renamed. A file already there and matching its checksum is kept."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    if target.is_file() and _matches(target, remote):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(target)
    url = hf_hub_url(pinned.repo, remote.name, revision=pinned.commit, endpoint=endpoint)
    headers = build_hf_headers()
    with hub_errors(pinned.repo, endpoint, remote.name):
        metadata = get_hf_file_metadata(url, headers=headers, endpoint=endpoint)
        size = metadata.size if metadata.size is not None else remote.size
        location = metadata.location or url
        if urlparse(location).netloc != urlparse(url).netloc:
            headers.pop("authorization", None)  # a signed CDN address: no token to a third party
        done = part.stat().st_size if part.exists() else 0
        if size is not None and done > size:
            part.unlink()
            done = 0
        try:
            with part.open("ab") as out:
                http_get(
                    location,
                    out,
                    resume_size=done,
                    headers=headers,
                    expected_size=size,
                    displayed_filename=remote.name,
                )
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise HubError(
                    f"{target.parent}: no space left on device while downloading {remote.name} "
                    f"({part.stat().st_size:,} bytes kept in {part.name}: free space and pull "
                    "again to resume)"
                ) from None
            if "Consistency check failed" in str(error):
                part.unlink(missing_ok=True)
                raise HubError(
                    f"{pinned.repo}: {remote.name} arrived with the wrong size (removed: pull "
                    "again)"
                ) from None
            raise
    if not _matches(part, remote):
        part.unlink()
        raise HubError(
            f"{pinned.repo}: {remote.name} does not match the repository's checksum "
            f"({_expected(remote)}); the download was removed: pull again"
        )
    os.replace(part, target)
    return target


def _expected(remote: RemoteFile) -> str:
    return f"sha256 {remote.sha256}" if remote.sha256 else f"git blob {remote.blob_id}"


def _matches(path: Path, remote: RemoteFile) -> bool:
    if remote.size is not None and path.stat().st_size != remote.size:
        return False
    if remote.sha256:
        return _digest(path, hashlib.sha256()) == remote.sha256
    if remote.blob_id:
        git = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
        return _digest(path, git) == remote.blob_id
    return True  # the listing gave no checksum: the size is all there is to compare


def _digest(path: Path, digest) -> str:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
