"""GGUF files are untrusted input: a directory, a truncated or corrupt file, a header that
claims a 4-billion-token context, a huge vocabulary. Each gets one line in words (no
traceback) from `papercycle inspect` and `papercycle models add`, and the header is read as a
stream (daemon/models/gguf_header.py), never the whole vocabulary."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import pytest
from click.testing import CliRunner
from papercycle.cli.main import cli
from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERCYCLE_HOME", str(tmp_path / "home"))
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


def test_a_directory_named_gguf_is_one_line(home):
    folder = home / "x.gguf"
    folder.mkdir()
    code, output = run("inspect", str(folder))
    assert (
        code != 0
        and output.strip() == f"papercycle: error: {folder} is a directory, not a GGUF file"
    )
    (folder / "config.json").write_text("{}")
    code, output = run("models", "add", "mine", str(folder))
    assert code != 0 and "Traceback" not in output
    assert output.strip() == (
        f"papercycle: error: model 'mine': {folder} is a Hugging Face checkpoint, not a GGUF "
        f"file: run `papercycle export {folder}` to convert it, or `papercycle models pull NAME` "
        "for a catalogue model (`papercycle models catalogue`)"
    )


def test_a_truncated_download_says_where_the_file_ends(tiny_gguf, home):
    data = tiny_gguf.read_bytes()
    cut = home / "cut.gguf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(GGUFError) as error:
        read_gguf_metadata(cut)
    end = read_header_end(tiny_gguf)
    assert str(error.value) == (
        f"{cut}: corrupt or truncated GGUF: the file ends at byte {len(data) // 2} but its tensor table needs {end} bytes: "
        "truncated download?"
    )
    cut.write_bytes(data[:200])  # inside the key/value pairs
    code, output = run("inspect", str(cut))
    assert code != 0 and "the file ends at byte 200 but" in output
    assert "truncated download?" in output and "IndexError" not in output


def read_header_end(path: Path) -> int:
    from papercycle.daemon.models.gguf_header import read_header, tensor_bytes

    header = read_header(path)
    return max(header.data_start + t.offset + tensor_bytes(t) for t in header.tensors)


def test_an_absurd_tensor_count_is_named(tiny_gguf, home):
    data = bytearray(tiny_gguf.read_bytes())
    data[8:16] = struct.pack("<Q", 2**60)  # the tensor count
    bad = home / "bad.gguf"
    bad.write_bytes(bytes(data))
    with pytest.raises(GGUFError, match=r"the header declares 1152921504606846976 tensors, more"):
        read_gguf_metadata(bad)


def test_a_context_of_four_billion_tokens_is_refused_at_add_with_the_estimate(tiny_gguf, home):
    data = tiny_gguf.read_bytes()
    key = b"llama.context_length"
    at = data.index(key) + len(key)
    assert struct.unpack("<I", data[at : at + 4])[0] == 4  # GGUF's uint32 value type
    huge = home / "huge.gguf"
    huge.write_bytes(data[: at + 4] + struct.pack("<I", 0xFFFFFFFF) + data[at + 8 :])
    assert read_gguf_metadata(huge).context_length == 0xFFFFFFFF
    code, output = run("models", "add", "huge", str(huge), "--n-ctx", "4000000000")
    kv_gib = read_gguf_metadata(huge).kv_cache_bytes(4_000_000_000) / 2**30
    assert code != 0
    assert f"n_ctx 4000000000 needs a KV cache of about {kv_gib:,.1f} GiB" in output
    assert "set a smaller n_ctx (--n-ctx)" in output
    assert (
        not (home / "home" / "config" / "config.toml").exists()
        or "huge" not in (home / "home" / "config" / "config.toml").read_text()
    )


def test_a_vocabulary_only_file_is_counted_not_read(home):
    path = home / "vocab.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_token_list([f"token{i}".encode() for i in range(150_000)])
    writer.add_token_types([1] * 150_000)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    meta = read_gguf_metadata(path)
    assert meta.vocab_size == 150_000 and meta.parameters == 0
    assert meta.architecture == "llama" and meta.kv_bytes_per_token is None
