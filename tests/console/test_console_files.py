"""The console's files as shipped: every interface string exists in English and Chinese, and the
page references nothing outside the API's own origin."""
from __future__ import annotations

import json
import re

from api.routes.console import STATIC_DIR


def strings() -> dict:
    return json.loads((STATIC_DIR / "strings.json").read_text(encoding="utf-8"))


def test_english_and_chinese_have_the_same_strings():
    table = strings()
    assert set(table) == {"en", "zh"}
    assert set(table["en"]) == set(table["zh"])
    assert all(v.strip() for lang in table.values() for v in lang.values())


def test_every_key_the_page_and_script_use_is_defined():
    keys = set(strings()["en"])
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "console.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-placeholder)?="([a-z_]+)"', html))
    used |= set(re.findall(r'\bt\("([a-z_]+)"', script))
    # keys built from a value: t(`ev_${event}`), t(`role_${role}`), t(`mode_${mode}`)
    used |= {f"ev_{e}" for e in ("referred", "declined", "enrolled")}
    used |= {f"role_{r}" for r in ("caseworker", "portal", "trainer", "admin")} | {"mode_warm", "mode_cold"}
    assert used - keys == set()


def test_no_resource_from_another_host():
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path.name
        assert "http://" not in text and "https://" not in text, path.name
