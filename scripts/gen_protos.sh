#!/usr/bin/env bash
# Regenerate python/pullkey/v1/*_pb2*.py{,i} from protos/pullkey/v1/*.proto.
# The one command behind `make protos`; `make protos-check` runs it then `git diff --exit-code python/pullkey/v1`.
# Needs grpcio-tools==1.85.1 and mypy-protobuf==5.1.0 (pinned in pyproject's dev group) in $PYTHON's environment.
set -euo pipefail
cd "$(dirname "$0")/.."
# $PYTHON wins; else the worktree venv if there is one; else python3 on PATH.
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
# protoc-gen-mypy / protoc-gen-mypy_grpc live next to the interpreter
export PATH="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')"):$PATH"
rm -f python/pullkey/v1/*_pb2.py python/pullkey/v1/*_pb2.pyi python/pullkey/v1/*_pb2_grpc.py python/pullkey/v1/*_pb2_grpc.pyi
"$PYTHON" -m grpc_tools.protoc -I protos \
    --python_out=python --grpc_python_out=python --mypy_out=python --mypy_grpc_out=python \
    protos/pullkey/v1/*.proto
