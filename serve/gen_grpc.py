"""Regenerate ``serve/grpc_gen/`` from ``serve/realtime.proto`` (run after editing the proto).

The generated modules are committed so that installing the service needs no protoc step.
protoc stamps them with guards that refuse any protobuf/grpcio runtime older than the
generating tools, but the environments rtt runs in differ (the research extras pin
protobuf 4.x and an older grpcio), so the guards are removed after generation, as is the
``_registered_method`` keyword that older grpcio lacks; what remains uses APIs that protobuf
>= 4.21 and grpcio >= 1.60 provide.  ``tests/test_serve_grpc.py`` checks that the committed
descriptor matches the proto.  The committed files were made with grpcio-tools 1.62.3
(protobuf 4.25 gencode), the oldest toolchain the project's extras install.  Usage: ``python -m serve.gen_grpc [OUT_DIR]``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
PROTO = HERE / "realtime.proto"
OUT = HERE / "grpc_gen"
FILES = ("realtime_pb2.py", "realtime_pb2.pyi", "realtime_pb2_grpc.py")


def make_portable(text: str) -> str:
    """Drop protoc's runtime-version guards and the newest-grpcio-only registration calls."""
    text = re.sub(r"^from google\.protobuf import runtime_version as _runtime_version\n", "", text, flags=re.M)
    text = re.sub(r"^_runtime_version\.ValidateProtobufRuntimeVersion\(.*?\n\)\n", "", text, flags=re.M | re.S)
    text = re.sub(r"^GRPC_GENERATED_VERSION = .*?^    \)\n", "", text, flags=re.M | re.S)
    text = re.sub(r",\s*_registered_method=True\)", ")", text)
    text = re.sub(
        r"^(    )server\.add_registered_method_handlers\((.*)\)$",
        r"\1if hasattr(server, 'add_registered_method_handlers'):\n\1    server.add_registered_method_handlers(\2)",
        text,
        flags=re.M,
    )
    return text


def descriptor_from_proto() -> bytes:
    """The serialized FileDescriptorProto protoc makes from the proto now (for drift checks)."""
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "realtime.desc"
        if protoc.main(["protoc", f"-I{HERE}", f"--descriptor_set_out={out}", str(PROTO)]) != 0:
            raise RuntimeError("protoc failed")
        proto = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
        # The embedded descriptor in *_pb2.py omits json_name; so must the comparison.
        stack = list(proto.message_type)
        while stack:
            message = stack.pop()
            for f in message.field:
                f.ClearField("json_name")
            stack.extend(message.nested_type)
        return bytes(proto.SerializeToString())


def generate(out_dir: Path = OUT) -> list[Path]:
    from grpc_tools import protoc

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        args = ["protoc", f"-I{HERE}", f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}",
                str(PROTO)]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed")
        written = []
        for name in FILES:
            text = (Path(tmp) / name).read_text()
            # protoc writes a top-level import; the package lives in serve.grpc_gen.
            text = re.sub(r"^import realtime_pb2 as", "from serve.grpc_gen import realtime_pb2 as", text, flags=re.M)
            text = make_portable(text)
            target = out_dir / name
            target.write_text(text)
            written.append(target)
    init = out_dir / "__init__.py"
    if not init.exists():
        init.write_text('"""Generated from serve/realtime.proto by `python -m serve.gen_grpc`; do not edit."""\n')
    return written


if __name__ == "__main__":
    for path in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
