"""A hostile array CLI for bench/cli_campaign.py (copied into the run folder; standard library only).

    python fakecli.py MODE SEED ARGHEX N REAL_CLI(N words)... COMMAND...

Runs the real CLI (the simulated server's hpacucli) with COMMAND, then answers a mangled copy of its
answer, as MODE says; ARGHEX is a mode's argument, hex-encoded bytes. irecovery appends COMMAND itself.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys


def mangle(mode: str, rng: random.Random, arg: bytes, out: bytes) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit status) of a CLI answering ``out`` the ``mode`` way."""
    if mode == "verbatim":
        return out, b"", 0
    if mode == "invalid-utf8":
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(out))
            out = out[:at] + rng.choice([b"\xff", b"\xfe\xfe", b"\xc3", b"\xed\xa0\x80", b"\x80"]) + out[at:]
        return out, b"", 0
    if mode == "random":
        return rng.randbytes(rng.randint(0, 4096)), b"", 0
    if mode == "huge":
        line = b"      physicaldrive 1I:1:1 (port 1I:box 1:bay 1, SAS, 450 GB, OK)\n"
        return out + line * ((16 << 20) // len(line)), b"", 0
    if mode == "empty":
        return b"", b"", 0
    if mode == "empty-fail":
        return b"", b"", 1
    if mode == "stderr":
        return b"", b"\x1b[2J\x1b[1;1HSystem restore complete. \xff\x07\n" + arg, 1
    if mode == "escapes":
        return out.replace(b": ", b": \x1b[2J\x1b[1;1H\x1b]0;owned\x07", rng.randint(1, 8)), b"", 0
    if mode == "controls":
        chars = [b"\x00", b"\x07", b"\x08", b"\r", b"\x0c", b"\x7f", b"\xc2\x9b"]
        for _ in range(rng.randint(1, 8)):
            at = rng.randint(0, len(out))
            out = out[:at] + rng.choice(chars) + out[at:]
        return out, b"", 0
    if mode == "truncate":
        return out[: rng.randint(0, len(out))], b"", 0
    if mode == "crlf":
        return out.replace(b"\n", b"\r\n"), b"", 0
    if mode == "mutate":
        words = re.split(rb"(\s+)", out)
        nasty = [
            b"",
            b"0",
            b"-1",
            b"18446744073709551616",
            b"1e999",
            b"nan",
            b"..",
            b"/",
            b"\x00",
            b"(",
            b")",
            b":",
            b"RAID",
            b"GB",
            b"TB",
            b"OK",
            b"Failed",
            b"\xff",
            arg,
        ]
        for _ in range(rng.randint(1, 6)):
            words[rng.randrange(len(words))] = rng.choice(nasty)
        return b"".join(words), b"", 0
    if mode == "exit":
        return out, b"", int(arg or b"1")
    if mode == "twice":
        return out + out, b"", 0
    if mode == "identity":  # every Unique Identifier becomes ARG (another disk's serial, say)
        return re.sub(rb"(Unique Identifier: )\S+", lambda m: m.group(1) + arg, out), b"", 0
    if mode == "status":
        return out.replace(b"Status: OK", b"Status: " + arg).replace(b", OK)", b", " + arg + b")"), b"", 0
    if mode == "long-lines":
        return b"\n".join(line + b" " * (1 << 20) for line in out.split(b"\n")), b"", 0
    return out, b"", 0


def main() -> None:
    mode, seed, arghex, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    real, command = sys.argv[5 : 5 + count], sys.argv[5 + count :]
    out = subprocess.run(real + command, capture_output=True, stdin=subprocess.DEVNULL).stdout
    rng = random.Random(f"{seed}:{' '.join(command)}")
    stdout, stderr, status = mangle(mode, rng, bytes.fromhex(arghex), out)
    sys.stdout.buffer.write(stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(stderr)
    sys.stderr.flush()
    if mode == "signal":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(status)


if __name__ == "__main__":
    main()
