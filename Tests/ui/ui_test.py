"""Drives hookrelay serve's web page (/ui) in headless Chromium through Selenium.

Run by Tests/EndToEndTests/WebUITests.swift against a real `hookrelay serve` on 127.0.0.1 with
a receiver whose answers it switches: GET RECEIVER/control/fail and /control/ok.

usage: ui_test.py BASE_URL TOKEN RECEIVER_URL
Prints one line per step; exits non-zero with the failed step on the first problem.
"""
import json
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, token, receiver = sys.argv[1:4]
hook_url = receiver + "/hook"


def control(state):
    urllib.request.urlopen(receiver + "/control/" + state, timeout=5).read()


def api(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(base + path, data=body, method=method)
    request.add_header("authorization", "Bearer " + token)
    if body is not None:
        request.add_header("content-type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def step(name):
    print("ui:", name, flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


options = Options()
# The Debian browser and driver: Selenium must not look for (download) one.
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
    options.add_argument(argument)
driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
driver.implicitly_wait(2)


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def click_button(label):
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == label]
    check(buttons, f"no button {label!r} on {driver.current_url}")
    # A mark on the current document: gone once the form's answer has replaced it.
    driver.execute_script("window.hookrelayOldPage = true")
    buttons[0].click()
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script("return window.hookrelayOldPage === undefined && document.readyState === 'complete'"))


def wait_for(condition, message, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(message)


try:
    step("a page without a session sends the browser to the login form")
    driver.get(base + "/ui")
    check(driver.current_url.endswith("/ui/login"), driver.current_url)

    step("a wrong token is refused")
    driver.find_element(By.ID, "token").send_keys("not-the-token")
    click_button("Log in")
    check("That is not an API token of this server" in text(), text())

    step("the token logs in")
    driver.find_element(By.ID, "token").send_keys(token)
    click_button("Log in")
    check(driver.current_url.endswith("/ui"), driver.current_url)
    cookie = driver.get_cookie("hookrelay_session")
    check(cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", f"session cookie {cookie}")

    step("add a webhook; its secret is shown once")
    driver.get(base + "/ui/webhooks/new")
    driver.find_element(By.ID, "url").send_keys(hook_url)
    driver.find_element(By.CSS_SELECTOR, "input[name=\"event[]\"][value=finding]").click()
    driver.find_element(By.ID, "description").send_keys("<img src=x onerror=alert(1)> SOC")
    click_button("Add webhook")
    secret = driver.find_element(By.ID, "secret").text
    check(secret.startswith("whsec_"), text())
    driver.find_element(By.LINK_TEXT, "Done").click()
    webhook_page = driver.current_url
    webhook_id = webhook_page.rsplit("/", 1)[1]
    check(secret not in driver.page_source, "the secret is shown again")

    step("send a test event and see its outcome")
    control("ok")
    click_button("Send test event")
    check("Test event delivered: HTTP 204" in text(), text())

    step("a failed delivery, retried to success")
    control("fail")
    api("POST", "/v1/events", json.dumps({"event_type": "finding", "id": "ui-1", "finding": {
        "title": "<script>alert(1)</script>", "severity": "high"}}).encode())

    def failed():
        return api("GET", f"/v1/webhooks/{webhook_id}/deliveries?status=failed")["deliveries"]
    wait_for(lambda: failed(), "the delivery did not fail")
    driver.get(webhook_page + "?status=failed")
    driver.find_element(By.PARTIAL_LINK_TEXT, "#").click()
    check("failed" in text() and "HTTP status" in text(), text())
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in driver.page_source, "the hostile title is not escaped")
    try:
        driver.switch_to.alert
        raise AssertionError("a script ran")
    except NoAlertPresentException:
        pass
    control("ok")
    click_button("Retry now")
    check("Retried: delivered, HTTP 204" in text(), text())

    step("pause, then resume")
    driver.get(webhook_page)
    click_button("Pause")
    check("Paused" in text() and "paused" in driver.find_element(By.CSS_SELECTOR, "h1 + p").text, text())
    click_button("Resume")
    check("Resumed" in text(), text())

    step("the hostile description is text, not markup")
    driver.get(base + "/ui")
    check("&lt;img src=x onerror=alert(1)&gt;" in driver.page_source, "description not escaped")

    step("a POST without the CSRF token is refused")
    request = urllib.request.Request(base + f"/ui/webhooks/{webhook_id}/pause", data=b"", method="POST")
    request.add_header("cookie", "hookrelay_session=" + cookie["value"])
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("a POST without the CSRF token was accepted")
    except urllib.error.HTTPError as error:
        check(error.code == 403, f"status {error.code}")
    check(not api("GET", f"/v1/webhooks/{webhook_id}")["paused"], "the forged POST paused the webhook")

    step("delete, after a confirmation that counts the pending deliveries")
    driver.get(webhook_page)
    driver.find_element(By.LINK_TEXT, "Delete…").click()
    check("pending deliveries" in text(), text())
    click_button("Delete the webhook")
    check("Deleted" in text() and hook_url not in text(), text())

    step("log out")
    click_button("Log out")
    driver.get(base + "/ui")
    check(driver.current_url.endswith("/ui/login"), driver.current_url)

    step("a viewer token logs in; its pages have no form but logout's")
    viewer = api("POST", "/v1/tokens", json.dumps({"role": "viewer", "description": "ui test"}).encode())["token"]
    viewed = api("POST", "/v1/webhooks", json.dumps({"url": hook_url}).encode())["id"]
    driver.find_element(By.ID, "token").send_keys(viewer)
    click_button("Log in")
    check(driver.current_url.endswith("/ui"), driver.current_url)
    check("viewer" in driver.find_element(By.TAG_NAME, "header").text, text())
    for page in ["/ui", f"/ui/webhooks/{viewed}"]:
        driver.get(base + page)
        check(hook_url in text(), text())
        forms = [f.get_attribute("action") for f in driver.find_elements(By.TAG_NAME, "form")]
        check(all(action.endswith("/ui/logout") for action in forms) and len(forms) == 1, f"{page}: forms {forms}")
        check(not driver.find_elements(By.LINK_TEXT, "Delete…"), f"{page}: a delete link")

    step("a viewer's forged POST, with its valid CSRF token, is refused and changes nothing")
    csrf = driver.find_element(By.CSS_SELECTOR, "form input[name=csrf]").get_attribute("value")
    viewer_cookie = driver.get_cookie("hookrelay_session")
    for action in ["pause", "rotate-secret", "delete"]:
        request = urllib.request.Request(
            base + f"/ui/webhooks/{viewed}/{action}", data=("csrf=" + csrf).encode(), method="POST")
        request.add_header("cookie", "hookrelay_session=" + viewer_cookie["value"])
        request.add_header("content-type", "application/x-www-form-urlencoded")
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError(f"a viewer's {action} was accepted")
        except urllib.error.HTTPError as error:
            check(error.code == 403, f"{action}: status {error.code}")
    after = api("GET", f"/v1/webhooks/{viewed}")
    check(not after["paused"], "the viewer's forged POST paused the webhook")
    click_button("Log out")
    print("ui: ok", flush=True)
except Exception as error:  # noqa: BLE001 - report any failure with the page it happened on
    print("ui: FAILED:", type(error).__name__, error, "at", driver.current_url, file=sys.stderr)
    sys.exit(1)
finally:
    driver.quit()
