# The sidecar's status page in headless Chromium (skipped, with the reason, where no browser can
# be installed). Long timeout: it may install the browser packages first.
portico_test(dashboard_browser_e2e_tests e2e e2e/DashboardBrowserTest.cpp LIBS Poco::JSON TIMEOUT 900)
