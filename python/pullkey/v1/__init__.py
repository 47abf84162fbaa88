"""pullkey's gRPC API, version 1 (``package pullkey.v1``).

The ``*_pb2*.py`` / ``*.pyi`` modules here are GENERATED from ``protos/pullkey/v1/credential.proto`` by
``scripts/gen_protos.sh`` (``make protos``) and checked in; never edit them by hand. This file is the only
hand-written one. The daemon lives in :mod:`pullkey.server`.

Nothing is imported eagerly: ``import pullkey`` (and the kubelet exec path) must not pay for grpcio or
protobuf. Use ``from pullkey.v1 import credential_pb2, credential_pb2_grpc``.
"""

#: Fully-qualified name of the service, as used by health checks and reflection.
SERVICE_NAME = "pullkey.v1.CredentialService"

__all__ = ["SERVICE_NAME"]
