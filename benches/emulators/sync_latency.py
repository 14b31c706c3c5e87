"""The disk's sync latency floor for the journal (BENCHMARKS.md §8): one 2,400-byte write (a batch
of 16 UpdateJobExecution records) then its sync, 400 times, in a fresh file of the directory given
(default: target/), five ways:

- append:     write at the end (the file grows), then fdatasync (flushes the new size too)
- zerofill:   the file zero-filled and synced first, then overwritten in place + fdatasync (the
              emulator's journal: segments grow 1 MiB of zeros at a time, ahead of the records)
- fallocate:  posix_fallocate'd first (unwritten extents: the first write to each still changes
              metadata), then written + fdatasync
- dsync-app:  O_DSYNC, appending (the write returns once synced)
- dsync-zero: O_DSYNC, overwriting a zero-filled file

Usage: python3 benches/emulators/sync_latency.py [DIR]"""
import os
import statistics
import sys
import time

N, REC = 400, b"x" * 2400


def run(directory, name, zerofill=False, dsync=False, falloc=False):
    path = os.path.join(directory, f".sync-latency-{os.getpid()}")
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | (os.O_DSYNC if dsync else 0))
    try:
        size = N * len(REC) + 4096
        if zerofill:
            os.write(fd, b"\0" * size)
            os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_SET)
        if falloc:
            os.posix_fallocate(fd, 0, size)
            os.fsync(fd)
        lat = []
        for _ in range(N):
            t = time.perf_counter()
            os.write(fd, REC)
            if not dsync:
                os.fdatasync(fd)
            lat.append((time.perf_counter() - t) * 1e3)
    finally:
        os.close(fd)
        os.remove(path)
    lat.sort()
    print(f"{name:11s} p50 {lat[N // 2]:.2f} ms  p90 {lat[N * 9 // 10]:.2f} ms  "
          f"p99 {lat[N * 99 // 100]:.2f} ms  mean {statistics.mean(lat):.2f} ms")


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "target"
    os.makedirs(d, exist_ok=True)
    run(d, "append")
    run(d, "zerofill", zerofill=True)
    run(d, "fallocate", falloc=True)
    run(d, "dsync-app", dsync=True)
    run(d, "dsync-zero", zerofill=True, dsync=True)
