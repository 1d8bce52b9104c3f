"""Compile Protobuf sources into a FileDescriptorSet with protoc from grpcio-tools.

Three paths, all returning ``(main file name, serialized FileDescriptorSet)``:
- .proto text whose references are text: protoc in process (``get_protos``), which reports errors as data;
- a serialized FileDescriptorProto (base64, as Confluent's serializers send it) whose references are
  serialized too: its dependencies are gathered and the set is validated by a fresh descriptor pool;
- a mix of both: ``python -m grpc_tools.protoc`` with ``--descriptor_set_in``, its stderr made one line.
Results are cached: the same schema text is parsed again and again.
"""

from __future__ import annotations

import ast
import base64
import binascii
import functools
import importlib.util
import logging
import re
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path, PurePosixPath

import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import DecodeError
from grpc_tools import _protoc_compiler

from registry.errors import InvalidSchemaError

logger = logging.getLogger(__name__)

WELL_KNOWN_DIR = Path(grpc_tools.__file__).parent / "_proto"
OWN_PROTO_DIR = Path(__file__).parent / "proto"
DEFAULT_FILE_NAME = "schema.proto"
BUILTIN_PREFIXES = ("google/protobuf/", "google/type/", "confluent/")
_TIMEOUT_SECONDS = 60
_BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n]+")
_MAX_ERROR_CHARS = 600
_PROTOC_LOCK = threading.Lock()


def _google_types_root() -> Path | None:
    """The directory holding ``google/type/*.proto`` (googleapis-common-protos), when installed."""
    spec = importlib.util.find_spec("google.type")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "date.proto").exists():
            return Path(location).parent.parent
    return None


def include_paths() -> list[Path]:
    """Where imports resolve after the schema's own references: Confluent's files, well-known types, and
    Google's common types (``google/type/…``), which Confluent clients also treat as built in."""
    google_types = _google_types_root()
    return [OWN_PROTO_DIR, WELL_KNOWN_DIR, *([google_types] if google_types else [])]


_EMBEDDED = re.compile(r"AddSerializedFile\((b'(?:[^'\\]|\\.)*')\)")

FileSet = descriptor_pb2.FileDescriptorSet
FileProto = descriptor_pb2.FileDescriptorProto


def decode_serialized(text: str) -> FileProto | None:
    """The FileDescriptorProto ``text`` encodes in base64, or None when it is not one."""
    stripped = text.strip()
    if not stripped or not _BASE64.fullmatch(stripped):
        return None
    try:
        return FileProto.FromString(base64.b64decode(stripped, validate=False))
    except (binascii.Error, ValueError, DecodeError):
        return None


def compile_schema(text: str, references: tuple[tuple[str, str], ...]) -> tuple[str, bytes]:
    """Compile ``text`` (proto source or base64 descriptor) with its references (import name, text).

    Returns the main file's name and the serialized FileDescriptorSet (dependencies first, main last).
    """
    return _compile_cached(text, references)


@functools.lru_cache(maxsize=1024)
def _compile_cached(text: str, references: tuple[tuple[str, str], ...]) -> tuple[str, bytes]:
    serialized: dict[str, FileProto] = {}
    sources: dict[str, str] = {}
    for name, ref_text in references:
        _check_import_path(name)
        fdp = decode_serialized(ref_text)
        if fdp is None:
            sources[name] = ref_text
        else:
            fdp.name = name
            serialized[name] = fdp
    main = decode_serialized(text)
    if main is None:
        main_name = _free_name(DEFAULT_FILE_NAME, set(sources) | set(serialized))
        sources[main_name] = text
        if not serialized:
            return main_name, _compile_in_process(main_name, sources)
        return main_name, _run_protoc(main_name, sources, list(serialized.values()))
    main.name = main.name or DEFAULT_FILE_NAME
    _check_import_path(main.name)
    if not sources:
        return main.name, _assemble(main, serialized)
    return main.name, _run_protoc(main.name, sources, [*serialized.values(), main])


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name = "_" + name
    return name


def _check_import_path(name: str) -> None:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        raise InvalidSchemaError(f"reference name {name!r} is not a valid relative import path")


def _write_sources(src: Path, sources: dict[str, str]) -> None:
    for name, content in sources.items():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8", errors="surrogatepass")


def _compile_in_process(main_name: str, sources: dict[str, str]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="spine-protoc-") as tmp:
        src = Path(tmp)
        _write_sources(src, sources)
        return _get_protos(main_name, [src, *include_paths()]).SerializeToString()


def _get_protos(main_name: str, include: list[Path]) -> FileSet:
    with _PROTOC_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            generated = _protoc_compiler.get_protos(main_name.encode(), [str(p).encode() for p in include])
        except _protoc_compiler.ProtocErrors as exc:
            raise InvalidSchemaError(_describe_errors(exc.errors())) from exc
    result = FileSet()
    for module, code in generated:
        proto_name = module.decode("utf-8").removesuffix("_pb2.py") + ".proto"
        if proto_name != main_name and proto_name.startswith(BUILTIN_PREFIXES):
            known = {f.name: f for f in _builtin(proto_name).file}
            if proto_name in known:
                result.file.append(known[proto_name])
                continue
        result.file.append(FileProto.FromString(_serialized_file(code.decode("utf-8"))))
    return result


def _serialized_file(code: str) -> bytes:
    """The descriptor bytes protoc's Python generator embeds in ``AddSerializedFile(b'...')``."""
    match = _EMBEDDED.search(code)
    value = ast.literal_eval(match[1]) if match else None
    if isinstance(value, bytes):
        return value
    raise InvalidSchemaError("protoc produced no descriptor for the schema")


def _describe_errors(errors: list[_protoc_compiler.ProtocError]) -> str:
    lines = []
    for error in errors:
        where = error.filename.decode("utf-8", "replace")
        if error.line >= 0:
            where += f":{error.line + 1}:{error.column + 1}"
        lines.append(f"{where}: {error.message.decode('utf-8', 'replace').rstrip('.')}")
    return _one_line(lines)


@functools.lru_cache(maxsize=64)
def _builtin(name: str) -> FileSet:
    """A built-in file (well-known type or Confluent's meta/decimal) with its dependencies."""
    return _get_protos(name, include_paths())


def _assemble(main: FileProto, given: dict[str, FileProto]) -> bytes:
    files: dict[str, FileProto] = {}

    def need(name: str, chain: tuple[str, ...]) -> None:
        if name in files:
            return
        if name in chain:
            raise InvalidSchemaError(f"invalid Protobuf schema: import cycle through {name!r}")
        if name in given:
            for dependency in given[name].dependency:
                need(dependency, (*chain, name))
            files[name] = given[name]
        elif name.startswith(BUILTIN_PREFIXES):
            for builtin in _builtin(name).file:
                files.setdefault(builtin.name, builtin)
        else:
            raise InvalidSchemaError(f"invalid Protobuf schema: import {name!r} is not among the references")

    for dependency in main.dependency:
        need(dependency, (main.name,))
    result = FileSet(file=[*files.values(), main])
    pool = descriptor_pool.DescriptorPool()
    try:
        for each in result.file:
            pool.AddSerializedFile(each.SerializeToString())
        pool.FindFileByName(main.name)
    except Exception as exc:  # the pool raises TypeError, KeyError or a C++ error text depending on backend
        message = str(exc).replace("Couldn't build proto file into descriptor pool: ", "")
        raise InvalidSchemaError(f"invalid Protobuf descriptor: {_one_line([message])}") from exc
    return result.SerializeToString()


def _run_protoc(main_name: str, sources: dict[str, str], serialized: list[FileProto]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="spine-protoc-") as tmp:
        root = Path(tmp)
        src = root / "src"
        src.mkdir()
        _write_sources(src, sources)
        out = root / "out.bin"
        given = root / "in.bin"
        given.write_bytes(FileSet(file=serialized).SerializeToString())
        args = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={src}",
            *(f"--proto_path={path}" for path in include_paths()),
            "--include_imports",
            f"--descriptor_set_out={out}",
            f"--descriptor_set_in={given}",
            main_name,
        ]
        try:
            done = subprocess.run(args, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise InvalidSchemaError("protoc took too long to compile the schema") from exc
        if done.returncode != 0 or not out.exists():
            stderr = done.stderr.decode("utf-8", "replace").replace(f"{src}/", "").replace(str(root), "")
            raise InvalidSchemaError(_one_line([line.rstrip(".") for line in stderr.splitlines()]))
        return out.read_bytes()


def _one_line(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        line = " ".join(line.split())
        if line and not line.startswith("warning:") and line not in kept:
            kept.append(line)
    message = "; ".join(kept) or "protoc rejected the schema"
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return message if message.startswith("invalid Protobuf") else f"invalid Protobuf schema: {message}"
