#!/usr/bin/python3
"""Drives the sidecar's status page in headless Chromium (Selenium, Debian's chromium-driver).

Run by DashboardBrowserTest (tests/e2e), which starts the sidecar and checks the store after:
this script loads the page, gives it the admin token when it asks, waits until every expected
route and target is on it, drains one target with its button and waits until the page shows it
draining, then takes the drain back with "revert to here" on the history row before it (its
confirmation shows the dry run's changes) and waits until the page shows it active. Exit 0 on success, 1 on a failure (with the reason on stderr), 77 when Selenium or
the browser is missing (the test is then skipped, not passed).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

SKIP = 77


def fail(message):
    print("dashboard_browser: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the status page, http://127.0.0.1:PORT/")
    parser.add_argument("--token", default="", help="the admin token the page will ask for")
    parser.add_argument("--expect", required=True,
                        help='JSON {"/route/": ["http://target", ...], ...} the page must show')
    parser.add_argument("--drain", required=True, help="ROUTE TARGET to drain, space-separated")
    parser.add_argument("--screenshot", default="", help="where to save a PNG of the page")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    try:
        from selenium import webdriver
        from selenium.common.exceptions import (StaleElementReferenceException, TimeoutException,
                                                WebDriverException)
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError as e:
        print("SKIP: python3-selenium is not installed (" + str(e) + ")", file=sys.stderr)
        sys.exit(SKIP)
    browser = shutil.which("chromium")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not browser or not os.path.exists(driver_path):
        print("SKIP: chromium or chromium-driver is not installed", file=sys.stderr)
        sys.exit(SKIP)

    expect = json.loads(args.expect)
    drain_route, drain_target = args.drain.split(" ", 1)
    profile = tempfile.mkdtemp(prefix="portico-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--user-data-dir=" + profile):
        options.add_argument(flag)
    try:
        # The driver path is given so Selenium never tries to download one.
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except WebDriverException as e:
        shutil.rmtree(profile, ignore_errors=True)
        fail("could not start headless chromium: " + e.msg)
    try:
        # The page re-renders its tables as it polls: an element found a moment ago may be gone
        # by the time it is read, which only means "look again".
        wait = WebDriverWait(driver, args.timeout,
                             ignored_exceptions=(StaleElementReferenceException,))
        driver.get(args.url)

        def visible(element_id):
            return driver.find_element(By.ID, element_id).is_displayed()

        if args.token:
            try:
                wait.until(lambda d: visible("login"))
            except TimeoutException:
                fail("the page never asked for the admin token")
            driver.find_element(By.ID, "token").send_keys(args.token)
            driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()

        def row(route, target):
            return (f'div.route[data-route="{route}"] tr[data-target="{target}"]')

        def everything_shown(d):
            return all(d.find_elements(By.CSS_SELECTOR, row(r, t))
                       for r, targets in expect.items() for t in targets)

        try:
            wait.until(everything_shown)
        except TimeoutException:
            shown = [e.get_attribute("data-route") for e in
                     driver.find_elements(By.CSS_SELECTOR, "div.route")]
            fail(f"not every route and target appeared (routes shown: {shown}; status: "
                 f"{driver.find_element(By.ID, 'status').text})")
        def routes_shown(d):
            shown = {}
            for card in d.find_elements(By.CSS_SELECTOR, "div.route"):
                shown[card.get_attribute("data-route")] = [
                    r.get_attribute("data-target") for r in
                    card.find_elements(By.CSS_SELECTOR, "tr[data-target]")]
            return shown

        # Read through wait.until, so a re-render in the middle of a read is read again.
        shown = wait.until(routes_shown)
        state = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, row(drain_route, drain_target) + ' [data-field="state"] .badge').text)
        if state != "active":
            fail(f"{drain_target} shows state '{state}' before the drain, not 'active'")

        def click_drain(d):
            d.find_element(By.CSS_SELECTOR, row(drain_route, drain_target) +
                           ' button[data-action="drain"]').click()
            return True

        wait.until(click_drain)

        def drained(d):
            cell = d.find_element(By.CSS_SELECTOR, row(drain_route, drain_target) +
                                  ' [data-field="state"] .badge')
            return cell.text == "draining"

        try:
            wait.until(drained)
        except TimeoutException:
            notice = driver.find_element(By.ID, "notice").text
            fail(f"the page never showed {drain_target} draining (notice: '{notice}')")
        # The drain shows in the page's history too, by the API on behalf of this browser.
        try:
            wait.until(lambda d: any("draining" in r.text and drain_target in r.text
                                     for r in d.find_elements(By.CSS_SELECTOR, "#changes tbody tr")))
        except TimeoutException:
            fail("the drain never appeared among the latest changes")
        # "revert to here" on the newest row before the drain: its confirmation lists the dry
        # run's changes (the drain undone), and confirming puts the target back in rotation.
        def before_drain(d):
            drain_rows = [int(r.get_attribute("data-revision"))
                          for r in d.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
                          if "draining" in r.text and drain_target in r.text]
            earlier = [int(r.get_attribute("data-revision"))
                       for r in d.find_elements(By.CSS_SELECTOR, "#changes tbody tr[data-revision]")]
            earlier = [r for r in earlier if drain_rows and r < min(drain_rows)]
            return max(earlier) if earlier else None

        reverted = wait.until(before_drain)

        def click_revert(d):
            d.find_element(By.CSS_SELECTOR, f'#changes tbody tr[data-revision="{reverted}"] '
                                            'button[data-action="revert"]').click()
            return True

        wait.until(click_revert)
        try:
            wait.until(lambda d: d.find_element(By.ID, "revert").is_displayed() and
                       d.find_elements(By.CSS_SELECTOR, '#revert-changes li[data-action]'))
        except TimeoutException:
            fail("the revert's confirmation never showed its changes (notice: '" +
                 driver.find_element(By.ID, "notice").text + "')")
        offered = driver.find_element(By.ID, "revert-changes").text
        if "target.state" not in offered or drain_target not in offered:
            fail(f"the revert's confirmation shows '{offered}', not the drain undone")
        driver.find_element(By.ID, "revert-confirm").click()
        try:
            wait.until(lambda d: d.find_element(
                By.CSS_SELECTOR, row(drain_route, drain_target) +
                ' [data-field="state"] .badge').text == "active")
        except TimeoutException:
            fail("the page never showed the drained target active after the revert (notice: '" +
                 driver.find_element(By.ID, "notice").text + "')")
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        print(json.dumps({"shown": shown, "drained": [drain_route, drain_target],
                          "reverted": reverted, "offered": offered}))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
