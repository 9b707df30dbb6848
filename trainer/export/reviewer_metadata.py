"""The review format and modes a checkpoint was trained for, carried into its GGUF.

`sft-reviewer` writes `papercycle-reviewer.json` beside the weights; a GGUF travels without
its folder, so the export copies the two facts into the GGUF's own metadata
(`papercycle.reviewer.format`, a string, and `papercycle.reviewer.modes`, an array of strings),
where the daemon reads them (daemon/models/gguf_metadata.py) to offer only those modes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from papercycle.trainer.export.errors import ExportError

SIDECAR = "papercycle-reviewer.json"
FORMAT_KEY = "papercycle.reviewer.format"
MODES_KEY = "papercycle.reviewer.modes"


def read_sidecar(checkpoint: Path) -> dict | None:
    """The checkpoint's `papercycle-reviewer.json`, or None when it has none."""
    path = checkpoint / SIDECAR
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ExportError(f"{path}: not readable JSON ({error})") from None
    fmt, modes = (data.get("format"), data.get("modes")) if isinstance(data, dict) else (0, 0)
    if not isinstance(fmt, str) or not (
        isinstance(modes, list) and modes and all(isinstance(m, str) for m in modes)
    ):
        raise ExportError(f'{path}: needs "format" (a string) and "modes" (a list of strings)')
    return {"format": fmt, "modes": modes}


def stamp(gguf_path: Path, trained_for: dict) -> None:
    """Rewrite `gguf_path` with the two keys added (gguf-py copies the tensors as they are)."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(gguf_path)
    architecture = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    stamped = gguf_path.with_name(gguf_path.name + ".stamped")
    writer = gguf.GGUFWriter(
        stamped, arch=architecture.contents() if architecture else "llama",
        endianess=reader.endianess,
    )  # fmt: skip
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment.contents()
    string, array = gguf.GGUFValueType.STRING, gguf.GGUFValueType.ARRAY
    copy_with_new_metadata(
        reader,
        writer,
        {
            FORMAT_KEY: MetadataDetails(string, trained_for["format"]),
            MODES_KEY: MetadataDetails(array, list(trained_for["modes"]), sub_type=string),
        },
        [],
    )
    del reader  # its memory map, before the file is replaced
    os.replace(stamped, gguf_path)
