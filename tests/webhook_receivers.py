"""Webhook receivers on this machine for the tests: real HTTP servers in threads, each answering its way."""

from __future__ import annotations

import datetime
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder(BaseHTTPRequestHandler):
    """Answers 204 at once, and keeps (arrival time, headers, body) of every request in `server.received`."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((time.monotonic(), dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Dribbler(Recorder):
    """Answers a byte every `server.pace` seconds, for as long as the client listens."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((time.monotonic(), dict(self.headers), b""))
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000
        try:
            for byte in answer:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.server.pace)
        except OSError:  # the client hung up
            self.server.hung_up.append(time.monotonic())


class Flood(Recorder):
    """Answers 200 and then bytes without end, counting how many the client took."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((time.monotonic(), dict(self.headers), b""))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        chunk = b"y" * 65536
        try:
            while True:
                self.wfile.write(chunk)
                self.server.sent += len(chunk)
        except OSError:
            self.server.hung_up.append(time.monotonic())


def serve(handler, *, tls: ssl.SSLContext | None = None, pace: float = 1.0, status: int = 204):
    """Start `handler` on 127.0.0.1 in a thread; return the server (`.url`, `.received`; call `.shutdown()`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.received, server.hung_up, server.sent, server.pace, server.status = [], [], 0, pace, status
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if tls else "http"
    server.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    return server


def tls_context_for(name: str, tmp_path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context whose certificate (self-signed) names `name`; also the certificate's file, to
    trust. The context records the SNI names clients send in `.sni_seen`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_seen = []
    context.sni_callback = lambda sock, server_name, ctx: context.sni_seen.append(server_name)
    return context, str(cert_file)
