"""Generated from serve/realtime.proto by `python -m serve.gen_grpc`; do not edit."""
