"""The API's subcommands of ``servicematch``: serve, keys, export-events.

``training/cli.py`` registers them with :func:`add_commands`; this is the only keys command and the
only events exporter on the command line (the columns are the HTTP export's, ``api.event_export``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from api.event_export import csv_chunks
from api.keys import add_key, keys_path, list_keys, revoke_key
from api.limits import ROLES
from api.settings import Settings
from recommender.files import atomic_file


def _cmd_serve(args) -> int:
    from api.serve import serve

    settings = Settings.from_env(models_dir=args.models, keys_file=args.keys, redis_url=args.redis_url)
    serve(settings, host=args.host, port=args.port, workers=args.workers,
          access_log=not args.no_access_log)
    return 0


def _cmd_keys(args) -> int:
    path = keys_path(args.keys)
    if args.keys_command == "add":
        key_id, secret = add_key(path, args.role, args.label)
        print(f"key {key_id} ({args.role}) added to {path}. Keep this key now; it is not stored and "
              f"cannot be shown again:\n{secret}")
    elif args.keys_command == "list":
        rows = list_keys(path)
        if not rows:
            print(f"no keys in {path}")
        for k in rows:
            state = "revoked" if k.get("revoked") else "active"
            print(f"{k['id']}  {k['role']:<10}  {state:<7}  created {k.get('created', '?')}  {k.get('label') or ''}")
    else:
        revoke_key(path, args.key_id)
        print(f"key {args.key_id} revoked")
    return 0


def export_events(store, out: Path) -> int:
    """Write every recorded event as the HTTP export does, atomically (0600); returns the count."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0

    def counted():
        nonlocal n
        for e in store.iter_events():
            n += 1
            yield e

    with atomic_file(out, "w", encoding="utf-8", newline="") as f:
        for chunk in csv_chunks(counted()):
            f.write(chunk)
    return n


def _cmd_export(args) -> int:
    from api.state import open_store

    settings = Settings.from_env(models_dir=args.models, redis_url=args.redis_url)
    store = open_store(settings.models_dir, settings.redis_url)
    try:
        n = export_events(store, args.out)
    finally:
        store.close()
    print(f"{n} events written to {args.out}; train on them with: servicematch train --events {args.out} ...")
    return 0


def add_commands(sub) -> None:
    s = sub.add_parser("serve", help="serve the HTTP API",
                       description="Serve ranked, explained suggestions over HTTP (docs at /docs). State lives in "
                                   "a SQLite file next to the models unless REDIS_URL (or --redis-url) is set. "
                                   "Every other setting is a SERVICEMATCH_* variable (see api/settings.py).")
    s.add_argument("--models", type=Path, default=None, help="models root (default $SERVICEMATCH_MODELS_DIR or models/)")
    s.add_argument("--keys", type=Path, help="API keys file (default $SERVICEMATCH_KEYS_FILE)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    s.add_argument("--redis-url", default=None,
                   help="shared state in Redis, e.g. redis://127.0.0.1:6379/0 (default $REDIS_URL)")
    s.add_argument("--no-access-log", action="store_true", help="do not log requests (paths only are logged)")
    s.set_defaults(func=_cmd_serve)

    k = sub.add_parser("keys", help="manage API keys (add, list, revoke)",
                       description="API keys are stored as hashes with their role; a new key is printed once.")
    k.add_argument("--keys", type=Path, help="keys file (default $SERVICEMATCH_KEYS_FILE)")
    ks = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    add = ks.add_parser("add", help="create a key and print it once")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--label", help="who or what the key is for")
    add.add_argument("--keys", type=Path, default=argparse.SUPPRESS, help="keys file")
    lst = ks.add_parser("list", help="list keys (never their secrets)")
    lst.add_argument("--keys", type=Path, default=argparse.SUPPRESS, help="keys file")
    rev = ks.add_parser("revoke", help="revoke a key by id")
    rev.add_argument("key_id")
    rev.add_argument("--keys", type=Path, default=argparse.SUPPRESS, help="keys file")
    k.set_defaults(func=_cmd_keys)

    e = sub.add_parser("export-events", help="write recorded feedback events as an interactions file",
                       description="Write every event the API recorded in the interactions format (the "
                                   "columns of GET /v1/events/export), so `servicematch train --events FILE` "
                                   "takes them into the next model.")
    e.add_argument("--out", required=True, type=Path, help="file to write (.csv)")
    e.add_argument("--models", type=Path, default=None, help="models root whose state to read")
    e.add_argument("--redis-url", default=None, help="read from Redis (default $REDIS_URL)")
    e.set_defaults(func=_cmd_export)
