"""Screenshots of hookrelay serve's web page at desktop and phone width (headless Chromium).

usage: screenshots.py BASE_URL TOKEN OUT_DIR WEBHOOK_ID DELIVERY_ID
"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, token, out, webhook, delivery = sys.argv[1:6]
pages = [
    ("login", "/ui/login"),
    ("webhooks", "/ui"),
    ("webhook", f"/ui/webhooks/{webhook}"),
    ("delivery", f"/ui/deliveries/{delivery}"),
    ("new", "/ui/webhooks/new"),
    ("delete", f"/ui/webhooks/{webhook}/delete"),
]
for label, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        driver.get(base + "/ui/login")
        driver.save_screenshot(f"{out}/login-{label}.png")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        for name, path in pages[1:]:
            driver.get(base + path)
            # The whole page, not only the window: as tall as the document.
            full = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, max(height, min(full + 100, 4000)))
            driver.save_screenshot(f"{out}/{name}-{label}.png")
            driver.set_window_size(width, height)
            print(f"{out}/{name}-{label}.png")
    finally:
        driver.quit()
