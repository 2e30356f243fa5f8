"""Helpers shared by test fixtures."""

import socket


def free_port() -> int:
    """A TCP port free on the loopback interface now (for a test server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
