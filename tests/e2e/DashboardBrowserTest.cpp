// The status page in a real browser: headless Chromium driven through Selenium (Debian's
// chromium, chromium-driver and python3-selenium) against a running sidecar.

#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>

#include "e2e/SidecarHarness.h"

using namespace portico::test;

namespace {

const std::string kPython = "/usr/bin/python3";  // Debian's, where python3-selenium installs
const std::vector<std::string> kPackages = {"chromium", "chromium-driver", "python3-selenium"};

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IXUSR);
}

/// What is missing to drive the browser ("" when nothing is).
std::string missingBrowser(const TempDir& dir) {
  if (!executable(kPython)) return kPython;
  if (!executable("/usr/bin/chromium")) return "/usr/bin/chromium (package chromium)";
  if (!executable("/usr/bin/chromedriver"))
    return "/usr/bin/chromedriver (package chromium-driver)";
  ChildProcess probe(kPython, {"-c", "import selenium"}, dir.file("probe.log"));
  if (probe.wait(std::chrono::seconds(30)).value_or(-1) != 0)
    return "the selenium module of " + kPython + " (package python3-selenium)";
  return "";
}

/// Installs the browser packages with the project's installer (scripts/deps.sh) when one is
/// missing; returns what is still missing afterwards.
std::string ensureBrowser(const TempDir& dir) {
  std::string missing = missingBrowser(dir);
  if (missing.empty()) return "";
  std::vector<std::string> args{sourceDir() + "/scripts/deps.sh"};
  args.insert(args.end(), kPackages.begin(), kPackages.end());
  ChildProcess install("/bin/bash", args, dir.file("install.log"));
  const auto status = install.wait(std::chrono::minutes(10));
  if (!status) install.kill9();
  missing = missingBrowser(dir);
  if (missing.empty()) return "";
  std::string log = install.log();
  if (log.size() > 600) log = "…" + log.substr(log.size() - 600);
  return missing + " is missing and installing " + "chromium chromium-driver python3-selenium" +
         " failed (" + (status ? "exit " + std::to_string(*status) : "timed out") + "): " + log;
}

}  // namespace

/// The dashboard: every route and target shown, a drain through its button reaches the store,
/// and "revert to here" on an earlier history row takes it back.
class DashboardBrowserTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(DashboardBrowserTest);
  CPPUNIT_TEST(testDrainFromTheBrowser);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDrainFromTheBrowser() {
    TempDir dir;
    const std::string missing = ensureBrowser(dir);
    if (!missing.empty()) {
      skipTest("dashboard browser test: " + missing);
      return;
    }
    ReachablePort a, b, c;
    const std::string token = "dash-token-42";
    Sidecar s(dir, {"--define=admin.token=" + token, "--define=route.shop.prefix=/shop/",
                    "--define=route.shop.targets=" + a.url() + " weight=300, " + b.url(),
                    "--define=route.api.prefix=/api/", "--define=route.api.balancer=least_conn",
                    "--define=route.api.targets=" + c.url()});
    // ready() polls the API without the token: a 401 is an answer too.
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    // The page itself is served without the token (it holds no data), with a strict policy.
    const auto page = s.request("GET", "/");
    CPPUNIT_ASSERT_EQUAL(200, page.status);
    CPPUNIT_ASSERT(contains(page.header("content-type"), "text/html"));
    CPPUNIT_ASSERT(contains(page.body, R"(content="/endpoints")"));
    CPPUNIT_ASSERT(contains(page.header("content-security-policy"), "default-src 'none'"));
    CPPUNIT_ASSERT_EQUAL(401, s.request("GET", "/endpoints/routes").status);

    const std::string expect =
        "{\"/shop/\":[\"" + a.url() + "\",\"" + b.url() + "\"],\"/api/\":[\"" + c.url() + "\"]}";
    const std::string shot = binDir() + "/../dashboard-test.png";
    ChildProcess browser(
        kPython,
        {sourceDir() + "/tests/e2e/dashboard_browser.py",
         "--url=http://127.0.0.1:" + std::to_string(s.port()) + "/", "--token=" + token,
         "--expect=" + expect, "--drain=/shop/ " + b.url(), "--screenshot=" + shot},
        dir.file("browser.log"));
    const auto status = browser.wait(std::chrono::seconds(120));
    if (!status) browser.kill9();
    const std::string log = browser.log();
    if (status && *status == kSkipped) {
      skipTest("dashboard browser test: " + log);
      return;
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log + s.process().log(), 0, status.value_or(-1));

    // The page listed exactly the store's routes and targets.
    const auto summary = log.substr(log.rfind("{\"shown\""));
    auto shown =
        Poco::JSON::Parser().parse(summary).extract<Poco::JSON::Object::Ptr>()->getObject("shown");
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), shown->size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), shown->getArray("/shop/")->size());
    CPPUNIT_ASSERT_EQUAL(c.url(), shown->getArray("/api/")->getElement<std::string>(0));
    // The button's drain reached the store, recorded as the API's on behalf of the browser (the
    // history's first target.state row below); then "revert to here" on the row before it
    // (issue #23) put the target back: active again, by a row of the revert.
    CPPUNIT_ASSERT_EQUAL(std::string("active"), s.stored(a.url(), "state"));
    const auto reverted = Poco::JSON::Parser()
                              .parse(summary)
                              .extract<Poco::JSON::Object::Ptr>()
                              ->getValue<std::int64_t>("reverted");
    CPPUNIT_ASSERT_EQUAL(std::string("active"), s.stored(b.url(), "state"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("api|127.0.0.1|draining|\napi|127.0.0.1|active|" + std::to_string(reverted)),
        sqlite(s.db(),
               "SELECT actor, client, json_extract(after, '$.state'), COALESCE(revert_of, '') FROM "
               "changes WHERE action = 'target.state' AND target = '" +
                   b.url() + "' ORDER BY id"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DashboardBrowserTest);
