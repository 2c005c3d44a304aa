#!/usr/bin/env python3
"""The server under systemd's notify protocol, and the unit's hardening.

A real server is started with $NOTIFY_SOCKET pointing at a datagram socket
this test owns, as systemd would: READY=1 must come only once the server
answers (its port file is written first), RELOADING=1 then READY=1 around a
SIGHUP plugin reload, STOPPING=1 when SIGTERM starts the drain. Then
`systemd-analyze security --offline` must rate deploy/achilles-server.service
at most 2.5.  Usage: systemd_test.py BUILD_DIR SOURCE_DIR
"""
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile

BUILD = pathlib.Path(sys.argv[1]).resolve()
SRC = pathlib.Path(sys.argv[2]).resolve()
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def receive(sock, want):
    """Datagrams until one holds `want`; all of them, in order."""
    got = []
    while True:
        try:
            message = sock.recv(4096).decode()
        except socket.timeout:
            return got
        got.append(message)
        if want in message.split("\n"):
            return got


def check_notify(work):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(work / "notify"))
    sock.settimeout(20)
    port_file = work / "port"
    env = dict(os.environ, NOTIFY_SOCKET=str(work / "notify"))
    server = subprocess.Popen(
        [BUILD / "services/server/achilles-server", "--listen=127.0.0.1:0",
         f"--data_dir={work / 'data'}", f"--port_file={port_file}",
         "--log_level=warning"], env=env)
    try:
        got = receive(sock, "READY=1")
        check(got and "READY=1" in got[-1].split("\n"), f"no READY=1: {got}")
        check(port_file.exists(), "READY=1 before the server was listening")
        check(any(m.startswith("STATUS=serving on port") for m in
                  got[-1].split("\n")), f"no STATUS with the port: {got}")
        server.send_signal(signal.SIGHUP)
        got = receive(sock, "READY=1")
        flat = [line for m in got for line in m.split("\n")]
        check("RELOADING=1" in flat and flat[-1:] != [] and "READY=1" in flat
              and flat.index("RELOADING=1") < flat.index("READY=1"),
              f"reload not announced as RELOADING then READY: {got}")
        server.send_signal(signal.SIGTERM)
        got = receive(sock, "STOPPING=1")
        check(any("STOPPING=1" in m.split("\n") for m in got),
              f"no STOPPING=1 at SIGTERM: {got}")
        check(server.wait(timeout=30) == 0, "server did not exit cleanly")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


# System calls the server and the plugin workers' sandbox
# (plugins/host/internal/sandbox.cc, server.cc's descriptor limit) make, which
# a unit's filter must allow or the workers fail closed.
NEEDED_SYSCALLS = {
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "seccomp", "prctl", "unshare", "capset", "setrlimit", "prlimit64",
    "setuid", "setgid", "setgroups", "execve", "clone", "clone3", "wait4",
    "socketpair", "sendmsg", "recvmsg", "kill", "mmap", "mprotect",
}


def expand(name, seen=None):
    """A filter entry's system calls: a group expanded with systemd-analyze."""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            calls |= expand(entry, seen)
    return calls


def check_syscall_filter(unit):
    allowed = set()
    for line in unit.read_text().splitlines():
        if line.startswith("SystemCallFilter=") and "~" not in line:
            for entry in line.split("=", 1)[1].split():
                allowed |= expand(entry)
    missing = sorted(NEEDED_SYSCALLS - allowed)
    check(not missing, f"the unit's SystemCallFilter forbids {missing}")


def check_unit():
    check_syscall_filter(SRC / "deploy" / "achilles-server.service")
    unit = SRC / "deploy" / "achilles-server.service"
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=25",
         str(unit)], capture_output=True, text=True)
    overall = [l for l in result.stdout.splitlines() if "Overall" in l]
    check(result.returncode == 0, f"unit exposure above 2.5: {overall}")
    print(overall[0] if overall else result.stderr.strip())


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as d:
        check_notify(pathlib.Path(d))
    check_unit()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
