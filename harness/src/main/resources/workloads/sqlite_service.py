#!/usr/bin/env python3
"""A small service that persists to SQLite in WAL mode: the --state-dir tests' second stateful service.

One line per request on a TCP connection:
  ADD n    inserts a row with value n, commits (synchronous=FULL: fsync'ed before the reply), replies "OK n"
  CHECK k  replies "CHECK <integrity_check> <rows> <distinct values> <distinct values <= k>"
"""
import argparse
import socketserver
import sqlite3


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    # Checkpoint the WAL into the database often, so the files change shape under the test's load.
    db.execute("PRAGMA wal_autocheckpoint=50")
    db.execute("CREATE TABLE IF NOT EXISTS acked (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL)")
    return db


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        db = self.server.db
        for raw in self.rfile:
            words = raw.decode("ascii").split()
            if not words:
                continue
            if words[0] == "ADD":
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO acked (n) VALUES (?)", (int(words[1]),))
                db.execute("COMMIT")
                reply = "OK " + words[1]
            elif words[0] == "CHECK":
                integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
                rows, distinct = db.execute("SELECT count(*), count(DISTINCT n) FROM acked").fetchone()
                upto = db.execute("SELECT count(DISTINCT n) FROM acked WHERE n <= ?", (int(words[1]),)).fetchone()[0]
                reply = "CHECK %s %d %d %d" % (integrity, rows, distinct, upto)
            else:
                reply = "ERR unknown command"
            self.wfile.write((reply + "\n").encode("ascii"))
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=7000)
    args = parser.parse_args()
    server = Server(("0.0.0.0", args.port), Handler)
    server.db = open_db(args.db)
    server.serve_forever()


if __name__ == "__main__":
    main()
