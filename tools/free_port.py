"""Prints a TCP port that is free on this machine (for torchrun)."""
import socket

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    sock.bind(('', 0))
    print(sock.getsockname()[1])
