"""A real SeaweedFS (master, volume, filer and S3 gateway in one ``weed server``) on loopback
ports, with a signed-request identity, for the S3 backend tests and the S3 bench."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "AVLTESTKEY"
SECRET_KEY = "avl-test-secret-0123456789"


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Seaweed:
    proc: subprocess.Popen[bytes]
    endpoint: str
    workdir: Path

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          s3={"addressing_style": "path"}))

    def credentials_file(self) -> Path:
        path = self.workdir / "credentials"
        path.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\n"
                        f"aws_secret_access_key = {SECRET_KEY}\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(binary: str, workdir: Path, timeout: float = 90) -> Seaweed:
    """Start ``weed server -s3`` in ``workdir`` and wait until the gateway answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    identities = {"identities": [{"name": "avledger", "credentials": [
        {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    (workdir / "s3.json").write_text(json.dumps(identities), encoding="utf-8")
    p = _free_ports(8)
    args = [binary, "server", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p[0]}", f"-master.port.grpc={p[1]}", f"-volume.port={p[2]}",
            f"-volume.port.grpc={p[3]}", f"-filer.port={p[4]}", f"-filer.port.grpc={p[5]}",
            "-s3", f"-s3.port={p[6]}", f"-s3.port.grpc={p[7]}", "-s3.port.iceberg=0",
            "-s3.port.lance=0", f"-s3.config={workdir / 's3.json'}", "-volume.max=500",
            "-master.volumeSizeLimitMB=128"]
    log = open(workdir / "weed.log", "wb")  # noqa: SIM115 - the server's lifetime
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                            env=dict(os.environ), start_new_session=True)
    sw = Seaweed(proc, f"http://127.0.0.1:{p[6]}", workdir)
    deadline = time.monotonic() + timeout
    probe = f"avl-probe-{os.getpid()}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode}; see {workdir}/weed.log")
        try:
            c = sw.client()
            c.create_bucket(Bucket=probe, ObjectLockEnabledForBucket=True)
            c.put_object(Bucket=probe, Key="ready", Body=b"ok")
            return sw
        except Exception as exc:
            if time.monotonic() > deadline:
                sw.stop()
                raise RuntimeError(f"SeaweedFS did not come up in {timeout:.0f} s: {exc}; "
                                   f"see {workdir}/weed.log") from exc
            time.sleep(0.5)
