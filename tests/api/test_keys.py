"""API keys: roles, hashed storage in a TOML file, revocation, malformed files, the command line."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from api.keys import KeyFileError, KeyInfo, KeyRing, add_key, keys_path, list_keys, revoke_key
from api.limits import ROLES

from .conftest import run_threads

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keyfile(tmp_path):
    return tmp_path / "keys.toml"


def test_a_new_key_authenticates_with_its_role(keyfile):
    ids = {role: add_key(keyfile, role, label=f"{role} desk") for role in ROLES}
    ring = KeyRing.load(keyfile)
    assert len(ring) == 4
    for role, (key_id, token) in ids.items():
        assert token.startswith(f"sm_{key_id}_")
        assert ring.authenticate(token) == KeyInfo(id=key_id, role=role, label=f"{role} desk")


def test_wrong_or_malformed_tokens_are_refused(keyfile):
    key_id, token = add_key(keyfile, "portal")
    other_id, _ = add_key(keyfile, "admin")
    ring = KeyRing.load(keyfile)
    secret = token.split("_", 2)[2]
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for bad in [f"sm_{key_id}_{flipped}",        # wrong secret
                f"sm_{other_id}_{secret}",       # right secret, another key's id
                f"sm_0000000000000000_{secret}",  # unknown id
                token[:-1], "", "sm_", "sm__x", f"xx_{key_id}_{secret}", "Bearer " + token, None]:
        assert ring.authenticate(bad) is None, bad


def test_file_holds_no_secret_and_is_private(keyfile):
    key_id, token = add_key(keyfile, "caseworker", label="office 4")
    text = keyfile.read_text()
    assert token not in text and token.split("_", 2)[2] not in text
    assert f"[keys.{key_id}]" in text and 'role = "caseworker"' in text
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    add_key(keyfile, "admin")  # rewritten, still private
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    # no temp files left behind by the atomic writes
    assert sorted(p.name for p in keyfile.parent.iterdir() if not p.name.endswith(".lock")) == ["keys.toml"]


def test_list_keys_shows_metadata_never_secrets(keyfile):
    a, _ = add_key(keyfile, "trainer", label="nightly")
    b, _ = add_key(keyfile, "portal")
    rows = list_keys(keyfile)
    assert {r["id"] for r in rows} == {a, b}
    for row in rows:
        assert set(row) == {"id", "role", "label", "created", "revoked"}
        assert row["revoked"] is False and row["created"].endswith("Z")
    assert {r["id"]: (r["role"], r["label"]) for r in rows} == {a: ("trainer", "nightly"), b: ("portal", None)}


def test_revoked_key_no_longer_authenticates(keyfile):
    keep_id, keep = add_key(keyfile, "admin")
    gone_id, gone = add_key(keyfile, "caseworker")
    ring = KeyRing.load(keyfile)
    assert ring.authenticate(gone) is not None
    revoke_key(keyfile, gone_id)
    assert ring.changed()  # a loaded ring can tell it should reload
    ring = KeyRing.load(keyfile)
    assert not ring.changed()
    assert ring.authenticate(gone) is None
    assert ring.authenticate(keep).id == keep_id
    assert {r["id"]: r["revoked"] for r in list_keys(keyfile)} == {keep_id: False, gone_id: True}
    with pytest.raises(KeyError, match="nope"):
        revoke_key(keyfile, "nope")


def test_unknown_role_is_refused(keyfile):
    with pytest.raises(ValueError, match="role must be one of"):
        add_key(keyfile, "superuser")
    assert not keyfile.exists()


def test_concurrent_additions_are_all_kept(keyfile):
    made = []

    def worker(n):
        for _ in range(5):
            made.append(add_key(keyfile, "portal"))

    assert run_threads(4, worker) == []
    ring = KeyRing.load(keyfile)
    assert len(ring) == 20 and all(ring.authenticate(token) for _, token in made)


@pytest.mark.parametrize("content, message", [
    ("[keys.abc\nrole = 'admin'", "not valid TOML"),
    ("[keys.abc]\nrole = 'root'\nhash = 'sha256:" + "0" * 64 + "'", r"entry \[keys.abc\]: role must be one of"),
    ("[keys.abc]\nrole = 'admin'", r"entry \[keys.abc\]: hash must be"),
    ("[keys.abc]\nrole = 'admin'\nhash = 'md5:00'", r"entry \[keys.abc\]: hash must be"),
    ("[keys.abc]\nrole = 'admin'\nrevoked = 'no'\nhash = 'sha256:" + "0" * 64 + "'", r"entry \[keys.abc\]: revoked"),
    ("[keys.ABC_1]\nrole = 'admin'\nhash = 'sha256:" + "0" * 64 + "'", r"entry \[keys.ABC_1\]: key id"),
    ("keys = 3", "'keys' must be a table"),
    ("[users]\nx = 1", "unexpected top-level entries"),
])
def test_malformed_file_names_file_and_entry(keyfile, content, message):
    keyfile.write_text(content)
    for action in (lambda: KeyRing.load(keyfile), lambda: list_keys(keyfile), lambda: add_key(keyfile, "admin")):
        with pytest.raises(KeyFileError, match=message) as info:
            action()
        assert str(keyfile) in str(info.value)
    assert keyfile.read_text() == content  # a failed add did not overwrite it


def test_missing_file_is_a_clear_error(keyfile):
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyRing.load(keyfile)
    with pytest.raises(KeyFileError, match="cannot be written"):
        add_key(keyfile.parent / "no-such-dir" / "keys.toml", "admin")


def test_keys_path_from_argument_or_settings(tmp_path):
    from api.settings import Settings

    assert keys_path("a.toml", Settings(keys_file="b.toml")) == Path("a.toml")
    assert keys_path(None, Settings(keys_file="b.toml")) == Path("b.toml")
    with pytest.raises(KeyFileError, match="SERVICEMATCH_KEYS_FILE"):
        keys_path(None, Settings())


def test_command_line_prints_the_token_once(keyfile, capsys):
    """``servicematch keys``: the one keys command."""
    from training.cli import main

    assert main(["keys", "--keys", str(keyfile), "add", "--role", "trainer", "--label", "ci"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert KeyRing.load(keyfile).authenticate(token).role == "trainer"
    key_id = token.split("_")[1]
    assert main(["keys", "--keys", str(keyfile), "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "trainer" in listing and "ci" in listing and token.split("_", 2)[2] not in listing
    assert main(["keys", "--keys", str(keyfile), "revoke", key_id]) == 0
    assert KeyRing.load(keyfile).authenticate(token) is None
    assert main(["keys", "--keys", str(keyfile), "revoke", "nope"]) == 2
    assert "no API key 'nope'" in capsys.readouterr().err


def test_console_script_runs_with_env_keys_file(keyfile):
    env = {**os.environ, "SERVICEMATCH_KEYS_FILE": str(keyfile)}
    done = subprocess.run([sys.executable, "-m", "training.cli", "keys", "add", "--role", "admin"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert KeyRing.load(keyfile).authenticate(done.stdout.strip().splitlines()[-1]).role == "admin"
    # There is no second keys CLI.
    other = subprocess.run([sys.executable, "-m", "api.keys", "list"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert other.stdout == ""
