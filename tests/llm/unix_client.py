"""A stdlib-only client for the gateway socket, run as a separate process by the tests
(as an agent inside a sandbox would): `python unix_client.py SOCKET METHOD PATH [BODY_JSON]`.
Prints one JSON line: {"status": <int>, "body": <parsed JSON>}.
"""

import http.client
import json
import socket
import sys


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def main() -> None:
    sock_path, method, path = sys.argv[1:4]
    body = sys.argv[4] if len(sys.argv) > 4 else None
    results = []
    conn = UnixHTTPConnection(sock_path)
    # several bodies separated by \x1e are sent over one keep-alive connection
    for one in (body.split("\x1e") if body else [None]):
        headers = {"Content-Type": "application/json"} if one is not None else {}
        conn.request(method, path, body=one.encode() if one is not None else None, headers=headers)
        resp = conn.getresponse()
        results.append({"status": resp.status, "body": json.loads(resp.read() or b"null")})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
