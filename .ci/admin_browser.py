"""The admin web app in a real browser (headless Chromium through chromedriver): sign in, see a
paid order on the home page, open it, move it paid -> processing -> shipped with its buttons
and see the API agree, find it by its number, hide a review, then edit a product's price with a stale version and see the conflict
message; no Content-Security-Policy violation on the way; usable at a phone's width.

    python3 .ci/admin_browser.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD [SCREENSHOT_DIR]

Screenshots of the home page and the order (the README's) go to SCREENSHOT_DIR when given.
"""

import json
import os
import sys
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

BASE, ADMIN, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
SHOTS = sys.argv[4] if len(sys.argv) > 4 else None


def call(method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(f"{BASE}/api{path}", method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data, timeout=20) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}")


def login(email, password):
    return call("POST", "/auth/login", {"email": email, "password": password})["access_token"]


# A customer buys and pays (the demo shop takes test payments): an order to fulfil.
admin = login(ADMIN, PASSWORD)
email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
call("POST", "/auth/register", {"email": email, "password": "a-long-password", "full_name": "Bea Browser"})
customer = login(email, "a-long-password")
product = next(p for p in call("GET", "/products?limit=20")["items"]
               if p["inventory_count"] > 5 and not p["variants"])
call("POST", "/cart/items", {"product_id": product["id"], "quantity": 1}, customer)
placed = call("POST", "/cart/checkout", {"shipping_address": {
    "full_name": "Bea Browser", "line1": "1 Main St", "city": "Austin", "region": "TX",
    "postal_code": "73301", "country": "US"}}, customer)
order = placed["order"]
call("POST", "/payments/confirm", {"payment_id": placed["payment"]["id"]}, customer)
assert call("GET", f"/orders/{order['id']}", token=admin)["status"] == "paid"

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
service = webdriver.ChromeService(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
browser = webdriver.Chrome(options=options, service=service)
wait = WebDriverWait(browser, 15)


def text_present(selector, text):
    return wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))


def csp_violations():
    return [entry["message"] for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


try:
    browser.get(f"{BASE}/admin")
    # Sign in with the keyboard: type, then Enter submits the form.
    email_input = wait.until(ready.element_to_be_clickable((By.NAME, "email")))
    email_input.send_keys(ADMIN)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD, Keys.ENTER)
    text_present("main", "Orders to fulfil")
    text_present("main", order["number"])
    assert browser.execute_script("return window.localStorage.length") == 0, "nothing in localStorage"
    if SHOTS:
        browser.save_screenshot(os.path.join(SHOTS, "admin-home.png"))

    browser.find_element(By.LINK_TEXT, order["number"]).click()
    text_present("h1", f"Order {order['number']}")
    text_present("#order-status", "paid")
    if SHOTS:
        browser.save_screenshot(os.path.join(SHOTS, "admin-order.png"))
    for status in ("processing", "shipped"):
        wait.until(ready.element_to_be_clickable(
            (By.CSS_SELECTOR, f'button[data-status="{status}"]'))).click()
        text_present("#order-status", status)
        seen = call("GET", f"/orders/{order['id']}", token=admin)
        assert seen["status"] == status, f"the API says {seen['status']}, the page {status}"
    # The buttons offered are the machine's next statuses, named by the status they move to.
    offered = sorted(b.text for b in browser.find_elements(By.CSS_SELECTOR, "button[data-status]"))
    assert offered == ["delivered", "refunded"], offered

    # Finding an order by the number a customer reads out (in lower case, with spaces).
    browser.find_element(By.LINK_TEXT, "Orders").click()
    number_input = wait.until(ready.element_to_be_clickable((By.NAME, "number")))
    number_input.send_keys(f"  {order['number'].lower()} ", Keys.ENTER)
    text_present("main table", order["number"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "main tbody tr")) == 1

    # The customer's review, hidden from the reviews page.
    review = call("POST", f"/products/{product['id']}/reviews",
                  {"rating": 1, "title": "Rude words", "body": "Not for the shop's pages."}, customer)
    browser.find_element(By.LINK_TEXT, "Reviews").click()
    text_present("main table", "Rude words")
    browser.find_element(By.XPATH, "//tr[contains(., 'Rude words')]//button[text()='Hide']").click()
    text_present("main table", "rejected")
    visible = call("GET", f"/products/{product['id']}/reviews")["items"]
    assert review["id"] not in [r["id"] for r in visible], "the hidden review is not shown"

    # A stale edit: the product changes elsewhere after the page read it.
    browser.get(f"{BASE}/admin#/products/{product['id']}")
    price = wait.until(ready.element_to_be_clickable((By.NAME, "price")))
    current = call("GET", f"/products/{product['id']}", token=admin)
    call("PUT", f"/products/{product['id']}", {"name": current["name"] + " (renamed)"}, admin,
         {"if-match": f'"{current["version"]}"'})
    price.clear()
    price.send_keys("123.45")
    browser.find_element(By.CSS_SELECTOR, "#product-form button[type=submit]").click()
    text_present("#conflict", "Someone else changed this product")
    after = call("GET", f"/products/{product['id']}", token=admin)
    assert after["price"]["amount"] == current["price"]["amount"], "the stale edit was not saved"
    # Loading their changes, the edit goes through.
    browser.find_element(By.XPATH, "//button[text()='Load their changes']").click()
    price = wait.until(ready.element_to_be_clickable((By.NAME, "price")))
    assert browser.find_element(By.NAME, "name").get_attribute("value").endswith("(renamed)")
    price.clear()
    price.send_keys("123.45")
    browser.find_element(By.CSS_SELECTOR, "#product-form button[type=submit]").click()
    text_present("main", "Saved")
    assert call("GET", f"/products/{product['id']}", token=admin)["price"]["amount"] == "123.45"

    # At a phone's width nothing runs off the side of the page.
    browser.set_window_size(390, 844)
    browser.get(f"{BASE}/admin#/orders")
    browser.refresh()
    # The reload signed the app out (tokens live in memory only): sign in again.
    wait.until(ready.element_to_be_clickable((By.NAME, "email"))).send_keys(ADMIN)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD, Keys.ENTER)
    text_present("main", order["number"])
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"

    violations = csp_violations()
    assert not violations, violations
    print("the admin app works in Chromium: sign-in, home, order moves, stale edit, phone width")
finally:
    browser.quit()
