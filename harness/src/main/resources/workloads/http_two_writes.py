"""An HTTP/1.1 keep-alive service that writes each reply in two parts, headers then body, as many servers do.

Python's BaseHTTPRequestHandler is unbuffered: end_headers() sends the headers, the body is a second send().
GET /N answers a body of N bytes (default 6).
"""
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        size = int(self.path.strip("/") or 6)
        body = (b"x" * (size - 1) + b"\n") if size > 0 else b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()  # first write: the headers
        self.wfile.write(body)  # second write: the body

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("0.0.0.0", int(sys.argv[1]) if len(sys.argv) > 1 else 8080), Handler).serve_forever()
