"""Read a GGUF file's header and metadata without loading the model.

Pure Python and streaming: the tensor data is never touched, so even a 20 GB file
is described in well under a second. Used by completion (to pick a fill-in-the-middle
template from the tokenizer's special tokens) and by ``atoll models`` / ``atoll doctor``.

Format (little-endian): ``b"GGUF"``, ``u32`` version, ``u64`` tensor count, ``u64``
key/value count (``u32`` counts in version 1), then the key/value pairs, each a
string key, a ``u32`` value type and the value.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
# Token types in ``tokenizer.ggml.token_type`` (llama.cpp's llama_token_type).
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED = 1, 2, 3, 4
TOKEN_UNUSED, TOKEN_BYTE = 5, 6

# llama.cpp's llama_ftype: the ``general.file_type`` values people know by name.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}

# Value types: struct format for the scalar ones.
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
# Arrays longer than this are kept only for the tokenizer keys we need.
_KEEP_ARRAY = 64
_TOKENIZER_ARRAYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type")
# Substrings that mark a fill-in-the-middle or repository-level token.
FIM_MARKERS = (
    "fim",
    "<PRE>",
    "<SUF>",
    "<MID>",
    "[SUFFIX]",
    "[PREFIX]",
    "[MIDDLE]",
)
# Repository-level prompt tokens (some models have these without FIM ones).
REPO_MARKERS = ("repo_name", "reponame", "file_sep", "file_separator", "filename")


class GgufError(ValueError):
    """The file is not a readable GGUF (wrong magic, truncated, corrupt)."""


@dataclass(frozen=True)
class GgufInfo:
    """What a GGUF file says about itself."""

    path: Path
    version: int
    tensor_count: int
    architecture: str
    name: str
    file_type: int | None
    context_length: int | None
    # Scalars and short arrays; the token list lives in ``tokens``.
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    tokens: tuple[str, ...] = field(default=(), repr=False)
    token_types: tuple[int, ...] = field(default=(), repr=False)

    @property
    def quantization(self) -> str:
        """``Q4_K_M``, ``Q4_1`` ... (or ``unknown``)."""
        if self.file_type is None:
            return "unknown"
        return FILE_TYPES.get(self.file_type, f"type {self.file_type}")

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    @property
    def chat_template(self) -> str:
        value = self.metadata.get("tokenizer.chat_template", "")
        return value if isinstance(value, str) else ""

    def token_id(self, text: str) -> int | None:
        """The id of a token whose text is exactly ``text``."""
        try:
            return self.tokens.index(text)
        except ValueError:
            return None

    @property
    def special_tokens(self) -> tuple[str, ...]:
        """Control and user-defined tokens (``<|endoftext|>``, ``<|fim_prefix|>``, ...).

        When the file has no token types, tokens that look special (``<...>`` or
        ``[...]``) stand in.
        """
        if self.token_types and len(self.token_types) == len(self.tokens):
            return tuple(
                tok
                for tok, kind in zip(self.tokens, self.token_types, strict=True)
                if kind in (TOKEN_CONTROL, TOKEN_USER_DEFINED)
            )
        return tuple(t for t in self.tokens if _looks_special(t))

    @property
    def fim_tokens(self) -> tuple[str, ...]:
        """Special tokens used for fill-in-the-middle or repository-level prompts."""
        candidates = set(self.special_tokens)
        # CodeLlama's FIM tokens are normal-typed pieces such as "▁<PRE>".
        candidates.update(t for t in self.tokens if t.lstrip("▁") in ("<PRE>", "<SUF>", "<MID>"))
        return tuple(sorted(t for t in candidates if any(m in t for m in FIM_MARKERS)))

    @property
    def repo_tokens(self) -> tuple[str, ...]:
        """Special tokens for repository-level context (``<|repo_name|>``, ``<|file_sep|>``)."""
        return tuple(sorted(t for t in self.special_tokens if any(m in t for m in REPO_MARKERS)))

    @property
    def has_fim(self) -> bool:
        """Whether the tokenizer can express a fill-in-the-middle prompt."""
        return bool(self.fim_tokens) or any(
            key.startswith("tokenizer.ggml.fim_") for key in self.metadata
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-able description (what ``atoll models`` prints)."""
        return {
            "path": str(self.path),
            "gguf_version": self.version,
            "architecture": self.architecture,
            "name": self.name,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "tensors": self.tensor_count,
            "vocab_size": len(self.tokens),
            "fim_tokens": list(self.fim_tokens),
            "repo_tokens": list(self.repo_tokens),
            "has_chat_template": bool(self.chat_template),
        }


def _looks_special(token: str) -> bool:
    return len(token) > 2 and (
        (token.startswith("<") and token.endswith(">"))
        or (token.startswith("[") and token.endswith("]"))
    )


class _Reader:
    def __init__(self, stream: BinaryIO, path: Path) -> None:
        self.stream = stream
        self.path = path

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise GgufError(f"{self.path} is truncated (wanted {size} more bytes)")
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.scalar("<Q")
        if length > 1 << 28:
            raise GgufError(f"{self.path}: implausible string length {length} (corrupt file?)")
        return self.read(length).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind = self.scalar("<I")
            count = self.scalar("<Q")
            if count > 1 << 28:
                raise GgufError(f"{self.path}: implausible array length {count} (corrupt file?)")
            if item_kind in _SCALARS:
                fmt = _SCALARS[item_kind]
                raw = self.read(count * struct.calcsize(fmt))
                return list(struct.unpack(f"<{count}{fmt[1:]}", raw))
            return [self.value(item_kind) for _ in range(count)]
        raise GgufError(f"{self.path}: unknown metadata value type {kind} (corrupt file?)")


def read_gguf_metadata(path: str | Path) -> GgufInfo:
    """Read a GGUF file's metadata (no tensors, no model load).

    Raises :class:`GgufError` for a missing, non-GGUF, truncated or corrupt file.
    """
    path = Path(path).expanduser()
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise GgufError(f"cannot open {path}: {exc.strerror or exc}") from None
    with stream:
        reader = _Reader(stream, path)
        magic = stream.read(4)
        if magic != MAGIC:
            raise GgufError(f"{path} is not a GGUF file (starts with {magic!r}, expected b'GGUF')")
        version = reader.scalar("<I")
        if version not in (1, 2, 3):
            raise GgufError(f"{path}: unsupported GGUF version {version}")
        count_fmt = "<I" if version == 1 else "<Q"
        tensor_count = reader.scalar(count_fmt)
        kv_count = reader.scalar(count_fmt)
        if kv_count > 1 << 20:
            raise GgufError(f"{path}: implausible metadata count {kv_count} (corrupt file?)")
        metadata: dict[str, Any] = {}
        arrays: dict[str, list[Any]] = {}
        for _ in range(kv_count):
            key = reader.string()
            kind = reader.scalar("<I")
            wanted = kind != _ARRAY or key in _TOKENIZER_ARRAYS
            value: Any = reader.value(kind) if wanted else _short_array(reader)
            if key in _TOKENIZER_ARRAYS:
                arrays[key] = list(value or [])
            elif value is not None:
                metadata[key] = value
    arch = str(metadata.get("general.architecture", ""))
    ctx = metadata.get(f"{arch}.context_length")
    file_type = metadata.get("general.file_type")
    tokens = arrays.get("tokenizer.ggml.tokens") or []
    return GgufInfo(
        path=path,
        version=version,
        tensor_count=int(tensor_count),
        architecture=arch,
        name=str(metadata.get("general.name", "") or path.stem),
        file_type=int(file_type) if isinstance(file_type, int) else None,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        metadata=metadata,
        tokens=tuple(str(t) for t in tokens),
        token_types=tuple(int(t) for t in arrays.get("tokenizer.ggml.token_type") or []),
    )


def _short_array(reader: _Reader) -> list[Any] | None:
    """An array we do not need in full (merges, scores): kept only when short."""
    item_kind = reader.scalar("<I")
    count = reader.scalar("<Q")
    if count > 1 << 28:
        raise GgufError(f"{reader.path}: implausible array length {count} (corrupt file?)")
    if item_kind in _SCALARS:
        width = struct.calcsize(_SCALARS[item_kind])
        if count <= _KEEP_ARRAY:
            raw = reader.read(count * width)
            return list(struct.unpack(f"<{count}{_SCALARS[item_kind][1:]}", raw))
        reader.stream.seek(count * width, 1)
        return None
    items = [reader.value(item_kind) for _ in range(count)]
    return items if count <= _KEEP_ARRAY else None


def write_gguf(path: Path, metadata: dict[str, Any], *, tensor_count: int = 0) -> None:
    """Write a metadata-only GGUF (v3). For tests and fixtures: no tensor data.

    Values: ``str``, ``bool``, ``int`` (as i64... u32 for token types), ``float``, or
    lists of those.
    """
    out = bytearray(MAGIC)
    out += struct.pack("<IQQ", 3, tensor_count, len(metadata))
    for key, value in metadata.items():
        out += _pack_string(key)
        out += _pack_value(value)
    path.write_bytes(bytes(out))


def _pack_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _kind_of(value: Any) -> tuple[int, str]:
    if isinstance(value, bool):
        return 7, "<?"
    if isinstance(value, int):
        return (5, "<i") if -(2**31) <= value < 2**31 else (11, "<q")
    if isinstance(value, float):
        return 6, "<f"
    return _STRING, ""


def _pack_value(value: Any) -> bytes:
    if isinstance(value, list | tuple):
        items: Iterable[Any] = value
        first = value[0] if value else ""
        kind, fmt = _kind_of(first)
        body = struct.pack("<IIQ", _ARRAY, kind, len(value))
        for item in items:
            body += _pack_string(item) if kind == _STRING else struct.pack(fmt, item)
        return body
    kind, fmt = _kind_of(value)
    if kind == _STRING:
        return struct.pack("<I", kind) + _pack_string(str(value))
    return struct.pack("<I", kind) + struct.pack(fmt, value)
