#!/usr/bin/python3
"""One call to sluiced from Python's grpcio, over TLS, for tests/e2e/security_test.cc.

Generates the stubs from protos/ into a temporary directory, then makes one call:
`push` sends one record over PushBatches and waits for its ack, `stats` calls
AdminService.GetStats. Prints OK and exits 0 when the call succeeded; else prints the
status code and message and exits 1.
    tls_client.py --protos DIR --target HOST:PORT --ca ca.pem [--cert c.pem --key c.key]
                  [--token TOKEN] [--call push|stats]
"""

import argparse
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protos", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--token")
    parser.add_argument("--call", choices=["push", "stats"], default="push")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sluice-tls-py-") as out_dir:
        subprocess.run(
            [
                "/usr/bin/protoc", "-I", args.protos, "--python_out=" + out_dir,
                "--grpc_out=" + out_dir, "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                "sluice/v1/logs.proto", "sluice/v1/admin.proto",
            ],
            check=True)
        sys.path.insert(0, out_dir)
        import grpc
        from sluice.v1 import admin_pb2, admin_pb2_grpc, logs_pb2, logs_pb2_grpc

        def read(path):
            with open(path, "rb") as f:
                return f.read()

        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.ca),
            private_key=read(args.key) if args.key else None,
            certificate_chain=read(args.cert) if args.cert else None)
        metadata = [("authorization", "Bearer " + args.token)] if args.token else []
        with grpc.secure_channel(args.target, credentials) as channel:
            try:
                if args.call == "stats":
                    admin_pb2_grpc.AdminServiceStub(channel).GetStats(
                        admin_pb2.GetStatsRequest(), metadata=metadata, timeout=30)
                else:
                    batch = logs_pb2.LogBatch(sequence=1, records=[
                        logs_pb2.LogRecord(level=logs_pb2.LEVEL_INFO, logger="python",
                                           message="over tls")])
                    acks = logs_pb2_grpc.LogServiceStub(channel).PushBatches(
                        iter([batch]), metadata=metadata, timeout=30)
                    for ack in acks:
                        if ack.sequence == 1:
                            break
            except grpc.RpcError as error:
                print("%s: %s" % (error.code().name, error.details()))
                return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
