"""A real SMTP server for keibi-notify's email tests (written for keibi, Apache-2.0).

aiosmtpd (PyPI) on 127.0.0.1:PORT that stores every message it accepts as
DIR/NNNN.eml (the bytes after DATA, exactly as received) and DIR/NNNN.json (the
envelope: MAIL FROM, RCPT TO, whether the session was TLS and who authenticated),
each written to a temporary name and renamed, so a test sees whole files only.

    python smtp_recorder.py --port P --dir D [--starttls CERT KEY | --implicit CERT KEY]
                            [--auth USER PASSWORD] [--reply CODE]

--starttls: STARTTLS offered and required before MAIL; --implicit: TLS from the
first byte (port 465 style); --auth: AUTH PLAIN/LOGIN required, only with these
credentials (aiosmtpd refuses AUTH before TLS); --reply CODE: answer every DATA
with CODE instead of storing (451: a transient failure, 554: a permanent one).
Prints READY on standard output once it accepts connections, then serves until
killed.
"""

import argparse
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory, reply):
        self.directory = directory
        self.reply = reply
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return "%d test server refuses this message" % self.reply
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "login": (
                session.auth_data.login.decode("utf-8", "replace")
                if isinstance(session.auth_data, LoginPassword)
                else None
            ),
        }
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        for suffix, payload in ((".eml", data), (".json", json.dumps(meta).encode())):
            with open(base + suffix + ".tmp", "wb") as f:
                f.write(payload)
            os.rename(base + suffix + ".tmp", base + suffix)
        return "250 2.0.0 stored as %04d" % self.count


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--implicit", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
    p.add_argument("--reply", type=int)
    a = p.parse_args()

    kwargs = {"hostname": "127.0.0.1", "port": a.port, "enable_SMTPUTF8": False}
    if a.starttls:
        kwargs["tls_context"] = tls_context(*a.starttls)
        kwargs["require_starttls"] = True
    if a.implicit:
        kwargs["ssl_context"] = tls_context(*a.implicit)
    if a.auth:
        kwargs["authenticator"] = Authenticator(*a.auth)
        kwargs["auth_required"] = True
    controller = Controller(Recorder(a.dir, a.reply), **kwargs)
    controller.start()
    print("READY", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
