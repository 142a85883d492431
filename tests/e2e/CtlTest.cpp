#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>

#include <functional>

#include "e2e/CtlHarness.h"
#include "e2e/SidecarHarness.h"

using namespace portico::test;

namespace {

Poco::JSON::Object::Ptr jsonOf(const CtlResult& r) {
  HttpResult asHttp;
  asHttp.body = r.out;
  return parseObject(asHttp);
}

/// Between portico-ctl and the sidecar: passes every request on, but runs `meddle` (another
/// writer) just before a write of PUT /endpoints/config reaches the sidecar, so the write comes
/// after its diff's revision, every time.
class MeddlingRelay {
 public:
  MeddlingRelay(const Sidecar& sidecar, std::function<void()> meddle)
      : server_(new Factory(sidecar, std::move(meddle)),
                Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)),
                new Poco::Net::HTTPServerParams) {
    server_.start();
  }
  ~MeddlingRelay() { server_.stopAll(true); }
  int port() const { return server_.port(); }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    Handler(const Sidecar& sidecar, const std::function<void()>& meddle)
        : sidecar_(sidecar), meddle_(meddle) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      std::map<std::string, std::string> headers;
      if (request.has("If-Match")) headers["If-Match"] = request.get("If-Match");
      const bool write = request.getMethod() == "PUT" && !contains(request.getURI(), "dryRun");
      if (write) meddle_();
      const auto answer = sidecar_.request(request.getMethod(), request.getURI(), body, headers);
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
      if (!answer.header("etag").empty()) response.set("ETag", answer.header("etag"));
      response.setContentType("application/json");
      response.sendBuffer(answer.body.data(), answer.body.size());
    }

   private:
    const Sidecar& sidecar_;
    const std::function<void()>& meddle_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    Factory(const Sidecar& sidecar, std::function<void()> meddle)
        : sidecar_(sidecar), meddle_(std::move(meddle)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(sidecar_, meddle_);
    }

   private:
    const Sidecar& sidecar_;
    std::function<void()> meddle_;
  };
  Poco::Net::HTTPServer server_;
};

}  // namespace

/// portico-ctl against a real sidecar: every command, its output and its exit code.
class CtlTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CtlTest);
  CPPUNIT_TEST(testTargetsAndRoutes);
  CPPUNIT_TEST(testHostRoutes);
  CPPUNIT_TEST(testExitCodes);
  CPPUNIT_TEST(testToken);
  CPPUNIT_TEST(testHistory);
  CPPUNIT_TEST(testHistoryFollow);
  CPPUNIT_TEST(testProxiesAndStatus);
  CPPUNIT_TEST(testHelp);
  CPPUNIT_TEST(testConfigGetApply);
  CPPUNIT_TEST(testConfigFileInOneRevision);
  CPPUNIT_TEST(testRevert);
  CPPUNIT_TEST(testApplyAfterAnotherWrite);
  CPPUNIT_TEST_SUITE_END();

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Ctl> ctl_;
  ReachablePort a_, b_, c_;  // probes find them up, so the revision moves only with our writes

  void start(std::vector<std::string> extra = {}) {
    sidecar_ = std::make_unique<Sidecar>(*dir_, std::move(extra));
    CPPUNIT_ASSERT_MESSAGE(sidecar_->process().log(), sidecar_->ready());
    ctl_ = std::make_unique<Ctl>(*dir_, sidecar_->port());
  }

  std::string revision() const { return sqlite(sidecar_->db(), "SELECT value FROM revision"); }

  /// Skips a test of the configuration endpoints where the sidecar has none (yet).
  bool hasConfigEndpoints() {
    if (sidecar_->request("GET", "/endpoints/config").status != 404) return true;
    skipTest("portico-ctl config/revert: this sidecar has no GET /endpoints/config");
    return false;
  }

 public:
  void setUp() override { dir_ = std::make_unique<TempDir>(); }
  void tearDown() override {
    ctl_.reset();
    sidecar_.reset();
    dir_.reset();
  }

  void testTargetsAndRoutes() {
    start();
    auto& ctl = *ctl_;
    auto r = ctl("route create /api/ " + a_.url() +
                 " --balancer least_conn --health-type http "
                 "--health-path /up --health-interval 2s");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, "/api/  least_conn  http every 2s /up  1 ("));
    r = ctl("add /api/ " + b_.url() + " " + c_.url() + " --weight 30");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("added 2 targets to /api/\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(std::string("30"), sidecar_->stored(c_.url(), "weight"));
    r = ctl("weight api " + a_.url() + " 70");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("70"), sidecar_->stored(a_.url(), "weight"));
    for (const auto& [command, state] : {std::pair<std::string, std::string>{"drain", "draining"},
                                         {"disable", "disabled"},
                                         {"enable", "active"}}) {
      r = ctl(command + " /api/ " + b_.url());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
      CPPUNIT_ASSERT_EQUAL(state, sidecar_->stored(b_.url(), "state"));
      CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, b_.url() + "  30      " + state));
    }
    r = ctl("targets /api/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.all(), r.out.rfind("TARGET", 0) == 0);
    for (const auto& url : {a_.url(), b_.url(), c_.url()}) CPPUNIT_ASSERT(contains(r.out, url));
    r = ctl("-o json targets /api/");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), jsonOf(r)->getArray("targets")->size());
    r = ctl("remove /api/ " + c_.url());
    CPPUNIT_ASSERT_EQUAL(std::string("removed 1 target from /api/\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(std::string(""), sidecar_->stored(c_.url(), "weight"));
    r = ctl("routes");
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, "\n/api/  least_conn  http every 2s /up  2 ("));
    r = ctl("--output=json routes");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), jsonOf(r)->getArray("routes")->size());
    r = ctl("route delete /api/");
    CPPUNIT_ASSERT_EQUAL(std::string("deleted route /api/\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite(sidecar_->db(), "SELECT count(*) FROM routes"));
  }

  void testHostRoutes() {
    start();
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("--host API.example.com route create /v1/ " + a_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /v1/ " + b_.url()).code);  // any host, same prefix
    auto r = ctl("add /v1/ " + c_.url() + " --host api.example.com");
    CPPUNIT_ASSERT_EQUAL(std::string("added 1 target to api.example.com/v1/\n"), r.out);
    r = ctl("--host api.example.com targets /v1/");
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, a_.url()) && contains(r.out, c_.url()));
    CPPUNIT_ASSERT_MESSAGE(r.all(), !contains(r.out, b_.url()));
    r = ctl("routes --host api.example.com");
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, "api.example.com/v1/"));
    CPPUNIT_ASSERT_MESSAGE(r.all(), !contains(r.out, "\n/v1/"));
    r = ctl("--host api.example.com route delete /v1/");
    CPPUNIT_ASSERT_EQUAL(std::string("deleted route api.example.com/v1/\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(std::string("1"), sqlite(sidecar_->db(), "SELECT count(*) FROM routes"));
  }

  void testExitCodes() {
    start();
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /api/ " + a_.url()).code);
    const std::string before = storeSnapshot(sidecar_->db());
    // 1: the API refused; its message is printed.
    auto r = ctl("targets /nope/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 1, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("portico-ctl: route /nope/ not found\n"), r.err);
    r = ctl("add /api/ ftp://x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 1, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.err, contains(r.err, "only the http and https schemes"));
    CPPUNIT_ASSERT_EQUAL(1, ctl("weight /api/ http://127.0.0.1:1 5").code);  // no such target
    // 2: usage; nothing is sent.
    for (const char* line : {"", "frobnicate", "weight /api/ x y", "add /api/", "revert x",
                             "config apply", "routes -o yaml", "--server ftp://x routes"}) {
      r = ctl(line);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(line) + ": " + r.all(), 2, r.code);
      CPPUNIT_ASSERT_MESSAGE(r.all(), r.out.empty() && contains(r.err, "portico-ctl: "));
    }
    // 3: a conflict (409 here; 412 in testApplyAfterAnotherWrite).
    r = ctl("route create /api/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 3, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("portico-ctl: route /api/ already exists\n"), r.err);
    CPPUNIT_ASSERT_EQUAL(before, storeSnapshot(sidecar_->db()));
    // 4: nobody listens there.
    r = ctl("--server http://127.0.0.1:" + std::to_string(freePort()) + " routes");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 4, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.err, "cannot reach the sidecar"));
    r = ctl("routes", "PORTICO_SERVER=http://127.0.0.1:" + std::to_string(freePort()));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 4, r.code);
  }

  void testToken() {
    start({"--define=admin.token=s3cret"});
    auto r = (*ctl_)("routes");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 1, r.code);  // 401
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("--token s3cret routes").code);
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("routes", "PORTICO_TOKEN=s3cret").code);
    CPPUNIT_ASSERT_EQUAL(1, (*ctl_)("--token wrong routes", "PORTICO_TOKEN=s3cret").code);
  }

  void testHistory() {
    start();
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /api/ " + a_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /web/ " + b_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("weight /api/ " + a_.url() + " 40").code);
    auto r = ctl("history");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.out, r.out.rfind("REV", 0) == 0);
    CPPUNIT_ASSERT_MESSAGE(
        r.out, contains(r.out, "target.weight  /api/  " + a_.url() + "  weight 100 -> 40"));
    r = ctl("history --route /web/ -o json");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    std::istringstream lines(r.out);
    int rows = 0;
    for (std::string line; std::getline(lines, line); ++rows) {
      HttpResult row;
      row.body = line;
      CPPUNIT_ASSERT_EQUAL(std::string("/web/"), parseObject(row)->getValue<std::string>("route"));
    }
    CPPUNIT_ASSERT_EQUAL(2, rows);                                     // route.create, target.add
    r = ctl("history --target " + a_.url() + " --since 0 --limit 1");  // pages until the end
    CPPUNIT_ASSERT_MESSAGE(r.out,
                           contains(r.out, "target.add") && contains(r.out, "target.weight"));
    CPPUNIT_ASSERT_MESSAGE(r.out, !contains(r.out, b_.url()));
    r = ctl("history --since " + revision());
    CPPUNIT_ASSERT_EQUAL(std::string("REV  TIME  ACTOR  ACTION  ROUTE  TARGET  CHANGE\n"), r.out);
  }

  void testHistoryFollow() {
    start();
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("route create /api/ " + a_.url()).code);
    const std::string out = dir_->file("follow.out");
    auto follower = ctl_->start("history --follow --interval 50 --since " + revision(), out);
    CPPUNIT_ASSERT(
        waitUntil([&] { return contains(Ctl::read(out), "REV"); }, std::chrono::seconds(10)));
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("weight /api/ " + a_.url() + " 5").code);
    CPPUNIT_ASSERT_MESSAGE(Ctl::read(out),
                           waitUntil([&] { return contains(Ctl::read(out), "weight 100 -> 5"); },
                                     std::chrono::seconds(10)));
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("drain /api/ " + a_.url()).code);
    CPPUNIT_ASSERT_MESSAGE(
        Ctl::read(out),
        waitUntil([&] { return contains(Ctl::read(out), "state active -> draining"); },
                  std::chrono::seconds(10)));
    CPPUNIT_ASSERT(follower->running());  // it follows until interrupted
    follower->stop();
  }

  void testProxiesAndStatus() {
    start();
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("route create /api/ " + a_.url() + " " + b_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("drain /api/ " + b_.url()).code);
    auto r = (*ctl_)("proxies");
    CPPUNIT_ASSERT_EQUAL(std::string("ID  STATE  REVISION  ADDRESSES  VERSION\n"), r.out);
    CPPUNIT_ASSERT(jsonOf((*ctl_)("proxies -o json"))->has("proxies"));
    r = (*ctl_)("status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "revision  " + revision() + "\n"));
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "routes    1\n"));
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "1 active, 1 draining, 0 disabled"));
    const auto status = jsonOf((*ctl_)("status -o json"));
    CPPUNIT_ASSERT_EQUAL(2, status->getObject("targets")->getValue<int>("total"));
    CPPUNIT_ASSERT_EQUAL(ctl_->server(), status->getValue<std::string>("server"));
  }

  void testHelp() {
    start();
    for (const char* command :
         {"routes", "targets", "add", "remove", "weight", "drain", "enable", "disable",
          "route create", "route delete", "config get", "config diff", "config apply", "revert",
          "history", "proxies", "status"}) {
      const auto r = (*ctl_)(std::string(command) + " --help");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
      CPPUNIT_ASSERT_MESSAGE(r.all(),
                             r.out.rfind("usage: portico-ctl " + std::string(command), 0) == 0);
    }
    const auto r = (*ctl_)("--help");
    CPPUNIT_ASSERT_MESSAGE(r.all(), r.code == 0 && contains(r.out, "exit status"));
  }

  void testConfigGetApply() {
    start();
    if (!hasConfigEndpoints()) return;
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /api/ " + a_.url() + " " + b_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("--host shop.example route create / " + c_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("weight /api/ " + b_.url() + " 7").code);
    const std::string rev = revision();
    // YAML out, and back in: nothing changes, no new revision.
    auto r = ctl.shell("\"$CTL\" config get | \"$CTL\" config apply -f -");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("no changes\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(rev, revision());
    r = ctl.shell("\"$CTL\" config get -o json | \"$CTL\" config apply -f -");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), std::string("no changes\n"), r.out);
    CPPUNIT_ASSERT_EQUAL(rev, revision());
    r = ctl("config get");
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "revision: " + rev + "\n"));
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "host: shop.example"));
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "weight: 7\n"));
    const auto json = jsonOf(ctl("config get -o json"));
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(json->getArray("routes")->size()));
  }

  void testConfigFileInOneRevision() {
    start();
    if (!hasConfigEndpoints()) return;
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /api/ " + a_.url() + " " + b_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl.shell("\"$CTL\" config get > api.yaml").code);
    // Edit the YAML as an operator would: re-weight a, remove b, add c.
    std::string yaml = Ctl::read(dir_->file("api.yaml"));
    const auto cut = [&](const std::string& from, const std::string& to) {
      const auto at = yaml.find(from);
      CPPUNIT_ASSERT_MESSAGE(yaml, at != std::string::npos);
      yaml.replace(at, from.size(), to);
    };
    cut("target: " + b_.url(), "target: " + c_.url());
    cut("target: " + a_.url() + "\n        weight: 100",
        "target: " + a_.url() + "\n        weight: 25");
    writeFile(dir_->file("api.yaml"), yaml);
    const std::string rev = revision();
    auto r = ctl("config diff -f api.yaml");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(
        r.out, contains(r.out, "weight 100 -> 25") && contains(r.out, "target.remove") &&
                   contains(r.out, "target.add") && contains(r.out, "3 changes"));
    r = ctl("config apply -f api.yaml --dry-run");
    CPPUNIT_ASSERT_MESSAGE(r.all(), r.code == 0 && contains(r.out, "3 changes"));
    CPPUNIT_ASSERT_EQUAL(rev, revision());
    r = ctl("config apply -f api.yaml");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    const std::string applied = revision();
    CPPUNIT_ASSERT_EQUAL(std::to_string(std::stoll(rev) + 1), applied);  // one revision
    CPPUNIT_ASSERT_MESSAGE(r.out, contains(r.out, "applied: revision " + applied));
    CPPUNIT_ASSERT_EQUAL(std::string("25"), sidecar_->stored(a_.url(), "weight"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), sidecar_->stored(b_.url(), "weight"));
    CPPUNIT_ASSERT_EQUAL(std::string("no changes\n"), ctl("config diff -f api.yaml").out);
    // A file that is not YAML: usage (2), nothing sent.
    writeFile(dir_->file("bad.yaml"), "routes: [\n");
    r = ctl("config apply -f bad.yaml");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 2, r.code);
    // One the API refuses: 1, with its message naming the JSON path.
    writeFile(dir_->file("refused.yaml"),
              "routes:\n  - prefixPath: /x/\n    targets:\n"
              "      - target: http://127.0.0.1:9\n        weight: \"50\"\n");
    r = ctl("config apply -f refused.yaml");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 1, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.err, contains(r.err, "routes[0].targets[0].weight"));
    CPPUNIT_ASSERT_EQUAL(applied, revision());
  }

  void testRevert() {
    start();
    if (!hasConfigEndpoints()) return;
    auto& ctl = *ctl_;
    CPPUNIT_ASSERT_EQUAL(0, ctl("route create /api/ " + a_.url()).code);
    const std::string rev = revision();
    const std::string snapshot = ctl("config get -o json").out;
    CPPUNIT_ASSERT_EQUAL(0, ctl("weight /api/ " + a_.url() + " 9").code);
    CPPUNIT_ASSERT_EQUAL(0, ctl("add /api/ " + b_.url()).code);
    const std::string later = revision();
    auto r = ctl("revert " + rev + " --dry-run");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.out,
                           contains(r.out, "weight 9 -> 100") && contains(r.out, "2 changes"));
    CPPUNIT_ASSERT_EQUAL(later, revision());
    r = ctl("revert " + rev);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 0, r.code);
    CPPUNIT_ASSERT_EQUAL(std::string("100"), sidecar_->stored(a_.url(), "weight"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), sidecar_->stored(b_.url(), "weight"));
    // Back to the snapshot, but for the revision itself.
    auto now = jsonOf(ctl("config get -o json"));
    HttpResult then;
    then.body = snapshot;
    auto old = parseObject(then);
    now->remove("revision");
    old->remove("revision");
    std::ostringstream a, b;
    now->stringify(a);
    old->stringify(b);
    CPPUNIT_ASSERT_EQUAL(b.str(), a.str());
    r = ctl("revert " + revision());  // to where it stands: nothing to do
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), std::string("no changes\n"), r.out);
    r = ctl("revert 99999");
    CPPUNIT_ASSERT_MESSAGE(r.all(), r.code == 1 || r.code == 3);
  }

  /// Another write between the diff and the apply: 412 (exit 3), the file is not applied.
  void testApplyAfterAnotherWrite() {
    start();
    if (!hasConfigEndpoints()) return;
    CPPUNIT_ASSERT_EQUAL(0, (*ctl_)("route create /api/ " + a_.url()).code);
    CPPUNIT_ASSERT_EQUAL(0, ctl_->shell("\"$CTL\" config get > api.yaml").code);
    std::string yaml = Ctl::read(dir_->file("api.yaml"));
    const auto at = yaml.find("weight: 100");
    CPPUNIT_ASSERT_MESSAGE(yaml, at != std::string::npos);
    writeFile(dir_->file("api.yaml"), yaml.replace(at, 11, "weight: 25"));
    MeddlingRelay relay(*sidecar_, [&] {
      sidecar_->request("PATCH", "/endpoints?prefixPath=/api/&target=" + a_.url(),
                        "{\"weight\":60}");
    });
    const auto r = (*ctl_)("--server http://127.0.0.1:" + std::to_string(relay.port()) +
                           " config apply -f api.yaml");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.all(), 3, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.all(), contains(r.out, "weight 100 -> 25"));  // the diff it showed
    CPPUNIT_ASSERT_MESSAGE(r.err, contains(r.err, "If-Match"));
    CPPUNIT_ASSERT_EQUAL(std::string("60"), sidecar_->stored(a_.url(), "weight"));  // not 25
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CtlTest);
