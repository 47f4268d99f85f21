"""A real SMTP server for the tests and the demo: aiosmtpd on a free loopback port, each message parsed by Python's
email package and written as one JSON file (from, to, subject, text, html) into the folder given as argument.

    smtp_sink.py FOLDER                      the tests: prints `PORT <n>` once listening, exits when its standard
                                             input closes (the test process ended)
    smtp_sink.py FOLDER --inbox --keep 50    the demo: also an inbox web page on another free loopback port
                                             (prints `INBOX <n>` after `PORT <n>`), keeps only the newest 50
                                             messages, runs until it is killed

The inbox (loopback only, answers only Host 127.0.0.1 / localhost):
    GET /                     the messages, newest first
    GET /messages/<id>        one message: its text with the links clickable, and its HTML part (no scripts)
    GET /api/messages         JSON [{id, received, from, to, subject, text, html, links}], oldest first;
                              ?to=<address> keeps the messages to that address
Messages larger than --max-message-bytes (256 KiB) are refused by SMTP (552)."""

import argparse
import asyncio
import collections
import html
import json
import os
import re
import sys
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import SMTP

LINK = re.compile(r"https?://[^\s<>\"')\]]+")


class Sink:
    """Receives messages: one JSON file each, and (for the inbox) the newest `keep` in memory."""

    def __init__(self, folder, keep):
        self.folder = folder
        self.keep = keep
        self.count = 0
        self.lock = threading.Lock()
        self.recent = collections.deque()

    async def handle_DATA(self, server, session, envelope):
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        text = msg.get_body(("plain",))
        body = msg.get_body(("html",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"] or ""),
            "text": text.get_content() if text is not None else None,
            "html": body.get_content() if body is not None else None,
        }
        with self.lock:
            self.count += 1
            number = self.count
            record_in_memory = dict(record, id=number, received=int(time.time() * 1000))
            record_in_memory["links"] = LINK.findall(record["text"] or "")
            if self.keep:
                self.recent.append(record_in_memory)
                while len(self.recent) > self.keep:
                    old = self.recent.popleft()
                    try:
                        os.remove(self.path(old["id"]))
                    except FileNotFoundError:
                        pass
        name = self.path(number)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(name + ".tmp", name)
        return "250 Message accepted"

    def path(self, number):
        return os.path.join(self.folder, f"{number:05d}.json")

    def messages(self):
        with self.lock:
            return list(self.recent)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 1rem; border-radius: 6px; }}
iframe {{ width: 100%; height: 26rem; border: 1px solid #ddd; border-radius: 6px; }}
.muted {{ color: #777; }}
</style></head><body>{body}</body></html>"""


def page(title, body):
    return PAGE.format(title=html.escape(title), body=body).encode()


def linkified(text):
    """`text` escaped for HTML, each http(s) URL in it a link."""
    out, last = [], 0
    for m in LINK.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        url = html.escape(m.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def when(ms):
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000))


def inbox_page(messages):
    rows = "".join(
        f'<tr><td class="muted">{when(m["received"])}</td><td>{html.escape(", ".join(m["to"]))}</td>'
        f'<td><a href="/messages/{m["id"]}">{html.escape(m["subject"] or "(no subject)")}</a></td></tr>'
        for m in reversed(messages)
    )
    table = (
        f"<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>{rows}</table>"
        if rows
        else '<p class="muted">No messages yet. Ask for a password reset or a verification email.</p>'
    )
    return page("Demo inbox", f"<h1>Demo inbox</h1><p class='muted'>Every email the demo server sends.</p>{table}")


def message_page(m):
    parts = [
        f'<p><a href="/">&larr; Inbox</a></p><h1>{html.escape(m["subject"] or "(no subject)")}</h1>',
        f'<p class="muted">From {html.escape(m["from"] or "")} to {html.escape(", ".join(m["to"]))}, '
        f"{when(m['received'])}</p>",
    ]
    if m["text"] is not None:
        parts.append(f"<h2>Text</h2><pre>{linkified(m['text'])}</pre>")
    if m["html"] is not None:
        # The HTML part in a sandbox: no scripts, no forms; its links open in this tab.
        doc = '<base target="_top">' + m["html"]
        parts.append(
            '<h2>HTML</h2><iframe sandbox="allow-top-navigation-by-user-activation" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>'
        )
    return page(m["subject"] or "message", "".join(parts))


class Inbox(BaseHTTPRequestHandler):
    sink = None
    port = 0
    timeout = 5  # a slow client cannot hold the (one-at-a-time) inbox for long

    def do_GET(self):
        host = (self.headers.get("Host") or "").lower()
        if host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return self.answer(421, "text/plain", b"wrong host\n")
        url = urlsplit(self.path)
        messages = self.sink.messages()
        if url.path == "/":
            return self.answer(200, "text/html; charset=utf-8", inbox_page(messages))
        if url.path == "/api/messages":
            to = parse_qs(url.query).get("to", [None])[0]
            if to is not None:
                messages = [m for m in messages if to.lower() in (a.lower() for a in m["to"])]
            return self.answer(200, "application/json", json.dumps(messages).encode())
        m = re.fullmatch(r"/messages/([0-9]{1,9})", url.path)
        found = [x for x in messages if m and x["id"] == int(m.group(1))]
        if found:
            return self.answer(200, "text/html; charset=utf-8", message_page(found[0]))
        return self.answer(404, "text/plain", b"not found\n")

    def answer(self, code, content_type, body):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", "script-src 'none'; frame-ancestors 'none'")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_inbox(sink):
    server = HTTPServer(("127.0.0.1", 0), Inbox)
    Inbox.sink = sink
    Inbox.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Inbox.port


async def main():
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("folder")
    args.add_argument("--inbox", action="store_true", help="serve the inbox page; run until killed")
    args.add_argument("--keep", type=int, default=0, help="keep only the newest N messages (inbox: default 50)")
    args.add_argument("--max-message-bytes", type=int, default=256 * 1024)
    opts = args.parse_args()
    keep = opts.keep or (50 if opts.inbox else 0)
    os.makedirs(opts.folder, exist_ok=True)
    loop = asyncio.get_running_loop()
    sink = Sink(opts.folder, keep)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="localhost", data_size_limit=opts.max_message_bytes), "127.0.0.1", 0
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    if opts.inbox:
        print(f"INBOX {start_inbox(sink)}", flush=True)
        await asyncio.Event().wait()  # until killed
    stdin_closed = loop.create_future()

    def watch_stdin():
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stdin_closed.set_result, None)

    loop.run_in_executor(None, watch_stdin)
    await stdin_closed
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
