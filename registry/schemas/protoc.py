"""Compile Protobuf sources into a FileDescriptorSet with protoc from grpcio-tools.

Runs ``python -m grpc_tools.protoc`` in a subprocess over a temporary directory so its diagnostics can be
captured; results are cached because the same schema text is parsed again and again. Serialized
FileDescriptorProtos (base64, as Confluent's serializers send them) go in through ``--descriptor_set_in``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

import grpc_tools
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from registry.errors import InvalidSchemaError

logger = logging.getLogger(__name__)

WELL_KNOWN_DIR = Path(grpc_tools.__file__).parent / "_proto"
OWN_PROTO_DIR = Path(__file__).parent / "proto"
DEFAULT_FILE_NAME = "schema.proto"
_TIMEOUT_SECONDS = 60
_BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n]+")
_MAX_ERROR_CHARS = 600


def decode_serialized(text: str) -> descriptor_pb2.FileDescriptorProto | None:
    """The FileDescriptorProto ``text`` encodes in base64, or None when it is not one."""
    stripped = text.strip()
    if not stripped or not _BASE64.fullmatch(stripped):
        return None
    try:
        data = base64.b64decode(stripped, validate=False)
        return descriptor_pb2.FileDescriptorProto.FromString(data)
    except (binascii.Error, ValueError, DecodeError):
        return None


def compile_schema(text: str, references: tuple[tuple[str, str], ...]) -> tuple[str, bytes]:
    """Compile ``text`` (proto source or base64 descriptor) with its references.

    Returns the main file's name and the serialized FileDescriptorSet (dependencies first, main last).
    """
    return _compile_cached(text, references)


@functools.lru_cache(maxsize=1024)
def _compile_cached(text: str, references: tuple[tuple[str, str], ...]) -> tuple[str, bytes]:
    serialized = descriptor_pb2.FileDescriptorSet()
    sources: dict[str, str] = {}
    for name, ref_text in references:
        _check_import_path(name)
        fdp = decode_serialized(ref_text)
        if fdp is None:
            sources[name] = ref_text
        else:
            fdp.name = name
            serialized.file.append(fdp)
    main = decode_serialized(text)
    if main is None:
        main_name = _free_name(DEFAULT_FILE_NAME, set(sources))
        sources[main_name] = text
    else:
        main_name = main.name or DEFAULT_FILE_NAME
        _check_import_path(main_name)
        main.name = main_name
        serialized.file.append(main)
    return main_name, _run_protoc(main_name, sources, serialized)


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name = "_" + name
    return name


def _check_import_path(name: str) -> None:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        raise InvalidSchemaError(f"reference name {name!r} is not a valid relative import path")


def _run_protoc(
    main_name: str, sources: dict[str, str], serialized: descriptor_pb2.FileDescriptorSet
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="spine-protoc-") as tmp:
        root = Path(tmp)
        src = root / "src"
        src.mkdir()
        for name, content in sources.items():
            target = src / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8", errors="surrogatepass")
        out = root / "out.bin"
        args = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={src}",
            f"--proto_path={OWN_PROTO_DIR}",
            f"--proto_path={WELL_KNOWN_DIR}",
            "--include_imports",
            f"--descriptor_set_out={out}",
        ]
        if serialized.file:
            given = root / "in.bin"
            given.write_bytes(serialized.SerializeToString())
            args.append(f"--descriptor_set_in={given}")
        args.append(main_name)
        try:
            done = subprocess.run(args, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise InvalidSchemaError("protoc took too long to compile the schema") from exc
        if done.returncode != 0 or not out.exists():
            raise InvalidSchemaError(_clean_error(done.stderr.decode("utf-8", "replace"), root))
        return out.read_bytes()


def _clean_error(stderr: str, root: Path) -> str:
    lines = []
    for line in stderr.splitlines():
        line = line.replace(f"{root}/src/", "").replace(str(root), "").strip()
        line = line.rstrip(".")
        if line and not line.startswith("warning:") and line not in lines:
            lines.append(line)
    message = "; ".join(lines) or "protoc rejected the schema"
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return f"invalid Protobuf schema: {message}"
