"""Print the first free TCP port on 127.0.0.1 from the one given (for `make lab`'s link).

The link `make lab` prints must be the one the server really listens on, so the port is
chosen here and passed to JupyterLab with no retries.
"""
import socket
import sys


def free_port(start: int, tries: int = 50) -> int:
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {start}..{start + tries - 1}: set LAB_PORT to another number")


if __name__ == "__main__":
    print(free_port(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
