"""The console and the docs in a real browser (headless Chromium), against the real API process.

What a caseworker does: sign in (also with the keyboard alone), take a walk-in's profile and a
two-need phrase, see ranked suggestions that name catalogue services and the needs map the API
answered, record a referral and see the list change; a trainer sees the models report; the docs
render offline. Every page load is checked for requests to any other host.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pandas as pd
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

TWO_NEEDS = "I lost my job and I need food for my kids"
WAIT = 15


def hook(name: str) -> str:
    return f'[data-testid="{name}"]'


def wait(driver, predicate, timeout: float = WAIT):
    return WebDriverWait(driver, timeout).until(predicate)


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (DevTools Network events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_only_local(urls: list[str], base: str) -> None:
    origin = urlsplit(base)
    foreign = [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
               and (urlsplit(u).hostname, urlsplit(u).port) != (origin.hostname, origin.port)]
    assert urls, "no request was seen at all: the performance log is not working"
    assert not foreign, f"requests to another host: {foreign}"


def open_console(driver, base: str, path: str = "/console") -> None:
    # Clear the tab's storage from a page of the same origin that runs no script (the console itself
    # would sign in again with a key it finds there).
    driver.get(base + "/console/static/strings.json")
    driver.execute_script("sessionStorage.clear(); localStorage.clear();")
    driver.get(base + path)
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")


def sign_in(driver, key: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, hook("api-key"))
    field.clear()
    field.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, hook("signin")).click()
    wait(driver, lambda d: d.find_element(By.ID, "app").is_displayed())


def visible_views(driver) -> list[str]:
    return [b.get_attribute("data-view") for b in driver.find_elements(By.CSS_SELECTOR, "#views [data-view]")
            if b.is_displayed()]


@pytest.fixture(scope="module")
def catalogue_names(city_dir) -> set[str]:
    return set(pd.read_csv(city_dir / "services.csv", dtype=str)["name"])


def test_walk_in_suggestions_referral_and_nothing_from_another_host(
        browser, live_api, console_keys, catalogue_names, out_dir):
    requested_urls(browser)  # drop what earlier pages asked for
    open_console(browser, live_api)
    sign_in(browser, console_keys["caseworker"])
    assert visible_views(browser) == ["intake", "resident", "portal"]
    browser.find_element(By.CSS_SELECTOR, hook("age")).send_keys("34")
    browser.find_element(By.ID, "f-district").send_keys("D02")
    browser.find_element(By.CSS_SELECTOR, hook("needs")).send_keys(TWO_NEEDS)
    browser.find_element(By.CSS_SELECTOR, hook("submit")).click()
    cards = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, hook("suggestion")))

    # What the API answers for the same request is what the page shows, in its order.
    with httpx.Client(base_url=live_api, headers={"Authorization": f"Bearer {console_keys['caseworker']}"}) as api:
        expected = api.post("/v1/recommendations", json={
            "profile": {"age": 34, "district": "D02"}, "needs": [TWO_NEEDS], "k": 10}).json()
    names = [c.find_element(By.TAG_NAME, "h3").text.split(". ", 1)[1] for c in cards]
    assert names == [item["name"] for item in expected["items"]]
    assert names and set(names) <= catalogue_names
    # "Before you refer": what the API answers about applying, documents, fees and hours is on the card.
    first_item = expected["items"][0]
    assert first_item.get("how_to_apply") and first_item.get("documents")
    for text in ("Before you refer", first_item["how_to_apply"], first_item["documents"], first_item["fees"]):
        assert text in cards[0].text, text
    needs_rows = browser.find_elements(By.CSS_SELECTOR, ".needs-map li")
    assert len(needs_rows) == len(expected["needs"]) >= 1
    for words in expected["needs"]:
        assert any(words.lower() in row.text.lower() or expected["needs"][words]["need"] in row.text
                   or (expected["needs"][words].get("path") or "\0") in row.text for row in needs_rows)
    browser.save_screenshot(str(out_dir / "console-walk-in.png"))

    first = cards[0]
    referred_id, referred_name = first.get_attribute("data-service-id"), names[0]
    first.find_element(By.CSS_SELECTOR, '[data-event="referred"]').click()
    wait(browser, lambda d: "Recorded" in d.find_element(By.ID, "status").text)
    resident_id = browser.find_element(By.ID, "f-resident_id").get_attribute("value")
    assert resident_id.startswith("W")
    after = [c.get_attribute("data-service-id") for c in browser.find_elements(By.CSS_SELECTOR, hook("suggestion"))]
    assert referred_id not in after, "a service already referred to is suggested again"
    with httpx.Client(base_url=live_api, headers={"Authorization": f"Bearer {console_keys['caseworker']}"}) as api:
        history = api.get(f"/v1/residents/{resident_id}/events").json()["events"]
        stored = api.get(f"/v1/residents/{resident_id}").json()
    assert [(e["service_id"], e["event"]) for e in history] == [(referred_id, "referred")]
    assert stored["profile"]["age"] == 34 and stored["source"] == "store"

    # The known-resident view shows that history.
    browser.find_element(By.CSS_SELECTOR, '#views [data-view="resident"]').click()
    browser.find_element(By.ID, "r-id").send_keys(resident_id, Keys.ENTER)
    wait(browser, lambda d: referred_name in d.find_element(By.ID, "resident-detail").text)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#resident-results " + hook("suggestion")))
    assert "null" not in browser.find_element(By.ID, "resident-detail").text
    browser.save_screenshot(str(out_dir / "console-resident.png"))

    assert_only_local(requested_urls(browser), live_api)


def test_keyboard_only_sign_in_and_search(browser, live_api, console_keys):
    open_console(browser, live_api)
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()

    def tab_to(test_id: str | None = None, limit: int = 80, **attrs) -> None:
        wanted = dict(attrs, **({"data-testid": test_id} if test_id else {}))
        for _ in range(limit):
            active = browser.switch_to.active_element
            if all(active.get_attribute(k.replace("_", "-")) == v for k, v in wanted.items()):
                return
            active.send_keys(Keys.TAB)
        raise AssertionError(f"Tab never reached {wanted}")

    tab_to("api-key")
    browser.switch_to.active_element.send_keys(console_keys["caseworker"], Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "app").is_displayed())
    assert "caseworker" in browser.find_element(By.ID, "whoami").text
    tab_to("age")
    browser.switch_to.active_element.send_keys("70")
    tab_to("needs")
    browser.switch_to.active_element.send_keys("food")
    tab_to("submit")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    first = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, hook("suggestion")))[0]
    referred = first.get_attribute("data-service-id")
    tab_to(data_event="referred")  # the first card's "Referred" is the first one Tab reaches
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, lambda d: "Recorded" in d.find_element(By.ID, "status").text)
    assert browser.switch_to.active_element.text == "Suggestions", "focus was lost after the action"
    assert referred not in [c.get_attribute("data-service-id")
                            for c in browser.find_elements(By.CSS_SELECTOR, hook("suggestion"))]


def test_every_control_has_a_label_and_chinese_text(browser, live_api, console_keys, out_dir):
    open_console(browser, live_api)
    sign_in(browser, console_keys["admin"])
    assert visible_views(browser) == ["intake", "resident", "portal", "models"]
    browser.find_element(By.CSS_SELECTOR, '#views [data-view="intake"]').click()
    browser.find_element(By.CSS_SELECTOR, hook("needs")).send_keys("eldercare")
    browser.find_element(By.CSS_SELECTOR, hook("submit")).click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, hook("suggestion")))
    unlabelled = browser.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
          if (el.closest('[hidden]') || el.type === 'hidden') continue;
          const byFor = el.id && document.querySelector(`label[for="${el.id}"]`);
          const name = (el.getAttribute('aria-label') || (byFor && byFor.textContent) ||
                        (['BUTTON', 'A'].includes(el.tagName) && el.textContent) || '').trim();
          if (!name) out.push(el.outerHTML.slice(0, 120));
        }
        return out;""")
    assert unlabelled == []
    browser.find_element(By.ID, "lang").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, hook("submit")).text == "查找服务")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=f-age]").text == "年龄"
    assert "符合资格" in browser.find_element(By.ID, "intake-results").text or \
        "待确认" in browser.find_element(By.ID, "intake-results").text
    browser.save_screenshot(str(out_dir / "console-zh.png"))
    # Searching again in Chinese: the API's explanation sentences come in Chinese too.
    def explanation(d) -> str:  # read in the page: the list is drawn anew while we wait
        return d.execute_script("const e = document.querySelector('.explanation'); return e ? e.textContent : ''")

    english = explanation(browser)
    browser.find_element(By.CSS_SELECTOR, hook("submit")).click()
    wait(browser, lambda d: explanation(d) not in ("", english))
    assert re.search(r"[\u4e00-\u9fff]", explanation(browser))
    browser.save_screenshot(str(out_dir / "console-zh-explained.png"))
    browser.find_element(By.ID, "lang").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, hook("submit")).text == "Find services")


def test_roles_decide_what_is_shown(browser, live_api, console_keys):
    open_console(browser, live_api)
    sign_in(browser, console_keys["portal"])
    assert visible_views(browser) == ["portal"]
    browser.find_element(By.ID, "p-id").send_keys("R000042", Keys.ENTER)
    items = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, hook("portal-item")))
    assert items and not browser.find_elements(By.CSS_SELECTOR, hook("suggestion"))
    browser.find_element(By.ID, "signout").click()
    assert browser.find_element(By.CSS_SELECTOR, hook("api-key")).is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0
    assert browser.find_element(By.ID, "p-id").get_attribute("value") == ""  # nothing left for the next user
    assert browser.find_element(By.ID, "portal-results").text == ""
    sign_in(browser, console_keys["trainer"])
    assert visible_views(browser) == ["models"]


def test_a_wrong_key_is_refused_with_a_message(browser, live_api):
    open_console(browser, live_api)
    browser.get(live_api + "/")  # the address a person types leads to the console
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert browser.current_url == live_api + "/console"
    browser.find_element(By.CSS_SELECTOR, hook("api-key")).send_keys("sm_not_a_key", Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "not accepted" in browser.find_element(By.ID, "error").text
    assert not browser.find_element(By.ID, "app").is_displayed()


def test_trainer_report_at_console_models(browser, live_api, console_keys, out_dir):
    requested_urls(browser)
    open_console(browser, live_api, "/console/models")
    sign_in(browser, console_keys["trainer"])
    frame = wait(browser, lambda d: d.find_element(By.ID, "report") if d.find_element(By.ID, "report").is_displayed() else None)
    assert "Serving model" in browser.find_element(By.ID, "model-summary").text
    browser.switch_to.frame(frame)
    try:
        wait(browser, lambda d: d.find_elements(By.TAG_NAME, "svg"))
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "trainer's report" in text and "Promotion decisions" in text and "popularity" in text
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(out_dir / "console-models.png"))
    assert_only_local(requested_urls(browser), live_api)

    # The report on its own, as `servicematch report` writes it and a trainer opens it.
    with httpx.Client(base_url=live_api, headers={"Authorization": f"Bearer {console_keys['trainer']}"}) as api:
        page = api.get("/v1/model/report")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    report = out_dir / "report.html"
    report.write_text(page.text, encoding="utf-8")
    browser.get(report.as_uri())
    wait(browser, lambda d: d.find_elements(By.TAG_NAME, "svg"))
    browser.save_screenshot(str(out_dir / "report.png"))
    assert [u for u in requested_urls(browser) if not u.startswith(("file:", "data:"))] == []


@pytest.mark.parametrize("path, ready", [
    ("/docs", (By.CSS_SELECTOR, ".swagger-ui .info .title")),
    ("/redoc", (By.CSS_SELECTOR, "[role=search], .api-content h1")),
])
def test_docs_render_offline(browser, live_api, out_dir, path, ready):
    requested_urls(browser)
    browser.get(live_api + path)
    try:
        element = wait(browser, lambda d: d.find_element(*ready))
    except TimeoutException:
        pytest.fail(f"{path} did not render; browser log: {browser.get_log('browser')}")
    assert element.is_displayed()
    assert "servicematch" in browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(out_dir / f"docs{path.replace('/', '-')}.png"))
    assert_only_local(requested_urls(browser), live_api)


def test_answering_a_question_fills_the_field_and_reranks(browser, live_api, console_keys, out_dir):
    open_console(browser, live_api)
    sign_in(browser, console_keys["caseworker"])
    browser.find_element(By.CSS_SELECTOR, hook("needs")).send_keys("eldercare")
    browser.find_element(By.CSS_SELECTOR, hook("submit")).click()
    ask_age = "What is the resident's age?"
    wait(browser, lambda d: ask_age in d.find_element(By.ID, "intake-results").text)
    question = next(li for li in browser.find_elements(By.CSS_SELECTOR, ".questions li") if ask_age in li.text)
    browser.save_screenshot(str(out_dir / "console-question.png"))
    field = question.find_element(By.CSS_SELECTOR, ".answer input")
    label = browser.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]')
    assert ask_age in label.get_attribute("textContent")
    field.send_keys("70", Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "f-age").get_attribute("value") == "70")
    wait(browser, lambda d: ask_age not in d.find_element(By.ID, "intake-results").text)
    assert browser.find_elements(By.CSS_SELECTOR, hook("suggestion"))
