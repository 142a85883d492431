#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <sstream>

#include "ctl/ApiClient.h"
#include "ctl/CtlArgs.h"
#include "ctl/CtlMain.h"

using portico::ctl::Invocation;
using portico::ctl::parseArgs;
using portico::ctl::UsageError;

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Invocation parse(const std::string& line, std::map<std::string, std::string> env = {}) {
  return parseArgs(words(line), [env](const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  });
}

}  // namespace

/// portico-ctl's command line: what each command takes, and every way to get it wrong (exit 2).
class CtlArgsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CtlArgsTest);
  CPPUNIT_TEST(testCommands);
  CPPUNIT_TEST(testGlobals);
  CPPUNIT_TEST(testUsageErrors);
  CPPUNIT_TEST(testHelp);
  CPPUNIT_TEST(testUsageExitsTwo);
  CPPUNIT_TEST(testExitCodes);
  CPPUNIT_TEST(testQueryString);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testCommands() {
    const struct {
      const char* line;
      const char* command;
      std::size_t args;
    } cases[] = {
        {"routes", "routes", 0},
        {"targets /api/", "targets", 1},
        {"add /api/ http://a http://b --weight 5", "add", 3},
        {"add --weight=5 /api/ http://a", "add", 2},
        {"remove /api/ http://a", "remove", 2},
        {"weight /api/ http://a 0", "weight", 3},
        {"drain /api/ http://a", "drain", 2},
        {"enable /api/ http://a", "enable", 2},
        {"disable /api/ http://a", "disable", 2},
        {"route create /api/ --balancer least_conn --health-type http", "route create", 1},
        {"route create /api/ http://a http://b", "route create", 3},
        {"route delete /api/", "route delete", 1},
        {"config get -o yaml", "config get", 0},
        {"config diff -f x.yaml", "config diff", 0},
        {"config apply -f - --dry-run", "config apply", 0},
        {"revert 12 --dry-run", "revert", 1},
        {"history --since 3 --route /api/ --target http://a --follow --limit 10", "history", 0},
        {"proxies", "proxies", 0},
        {"status", "status", 0},
        {"-- add /api/ -x", "add", 2},
    };
    for (const auto& c : cases) {
      const auto inv = parse(c.line);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.line, std::string(c.command), inv.spec->name());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.line, c.args, inv.args.size());
    }
    const auto add = parse("add /api/ http://a --weight 7");
    CPPUNIT_ASSERT_EQUAL(std::string("7"), add.option("--weight"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://a"), add.args.at(1));
    CPPUNIT_ASSERT(parse("config apply -f a.yaml --dry-run").has("--dry-run"));
  }

  void testGlobals() {
    auto inv = parse("routes");
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:9090"), inv.server);
    CPPUNIT_ASSERT_EQUAL(std::string("table"), inv.output);
    CPPUNIT_ASSERT_EQUAL(std::string("yaml"), parse("config get").output);
    inv = parse("routes", {{"PORTICO_SERVER", "http://admin:8000/"}, {"PORTICO_TOKEN", "s3"}});
    CPPUNIT_ASSERT_EQUAL(std::string("http://admin:8000"), inv.server);
    CPPUNIT_ASSERT_EQUAL(std::string("s3"), inv.token);
    inv = parse("--server http://x:1 routes --token t -o json --host api.example.com",
                {{"PORTICO_SERVER", "http://admin:8000"}, {"PORTICO_TOKEN", "s3"}});
    CPPUNIT_ASSERT_EQUAL(std::string("http://x:1"), inv.server);
    CPPUNIT_ASSERT_EQUAL(std::string("t"), inv.token);
    CPPUNIT_ASSERT_EQUAL(std::string("json"), inv.output);
    CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"), inv.host);
    CPPUNIT_ASSERT_EQUAL(std::string("json"), parse("status --output=json").output);
  }

  void testUsageErrors() {
    for (const char* line : {
             "",                                  // no command
             "frobnicate",                        // unknown command
             "route",                             // a group without its subcommand
             "route rename /a/",                  // unknown subcommand
             "config",                            //
             "config put -f x",                   //
             "routes extra",                      // too many arguments
             "routes --weight 5",                 // an option of another command
             "routes --bogus",                    // an option of no command
             "routes -o yaml",                    // yaml is config get's alone
             "routes -o",                         // a value missing
             "routes --follow=yes",               // a flag with a value
             "routes --host a --host b",          // twice
             "targets",                           // missing ROUTE
             "targets /a/ /b/",                   //
             "add /api/",                         // no URL
             "add /api/ http://a --weight x",     // not a number
             "add /api/ http://a --weight 1001",  // out of range
             "add /api/ http://a --weight -1",    //
             "remove /api/",                      //
             "weight /api/ http://a",             // missing N
             "weight /api/ http://a 5x",          //
             "weight /api/ http://a 2000",        //
             "weight /api/ http://a 5 6",         //
             "drain /api/",                       //
             "enable /api/ http://a http://b",    //
             "disable",                           //
             "route create",                      //
             "route create /a/ --balancer",       //
             "route delete",                      //
             "route delete /a/ /b/",              //
             "config get extra",                  //
             "config get -o table",               //
             "config diff",                       // -f is required
             "config apply --dry-run",            //
             "config apply -f a.yaml extra",      //
             "config diff -f a.yaml --dry-run",   // diff is always dry
             "revert",                            //
             "revert abc",                        //
             "revert -3",                         //
             "revert 1 2",                        //
             "history --since x",                 //
             "history --limit 0",                 //
             "history --limit 1001",              //
             "history --interval 0",              //
             "history /a/",                       //
             "proxies x",                         //
             "status x",                          //
             "--server ftp://x routes",           // not http
             "--server https://x routes",         // the sidecar speaks plain HTTP
         })
      CPPUNIT_ASSERT_THROW_MESSAGE(line, parse(line), UsageError);
  }

  void testHelp() {
    CPPUNIT_ASSERT(parse("--help").help);
    CPPUNIT_ASSERT(parse("--help").spec == nullptr);
    CPPUNIT_ASSERT(parse("route --help").spec == nullptr);
    const auto inv = parse("weight --help");  // its arguments are not required then
    CPPUNIT_ASSERT(inv.help);
    CPPUNIT_ASSERT_EQUAL(std::string("weight"), inv.spec->name());
    for (const auto& spec : portico::ctl::commandSpecs()) {
      const auto text = portico::ctl::usageText(&spec);
      CPPUNIT_ASSERT_MESSAGE(text, text.find("usage: portico-ctl " + spec.name()) == 0);
      CPPUNIT_ASSERT_MESSAGE(spec.name(), parse(spec.name() + " -h").help);
    }
  }

  void testUsageExitsTwo() {
    std::istringstream in;
    std::ostringstream out, err;
    const auto env = [](const std::string&) { return std::string(); };
    CPPUNIT_ASSERT_EQUAL(2,
                         portico::ctl::runCtl(words("weight /a/ http://x y"), env, in, out, err));
    CPPUNIT_ASSERT(err.str().find("must be an integer") != std::string::npos);
    CPPUNIT_ASSERT(out.str().empty());
    CPPUNIT_ASSERT_EQUAL(0, portico::ctl::runCtl(words("status --help"), env, in, out, err));
    CPPUNIT_ASSERT(out.str().find("usage: portico-ctl status") == 0);
  }

  void testExitCodes() {
    using portico::ctl::exitCodeFor;
    const std::pair<int, int> cases[] = {{200, 0}, {201, 0}, {204, 0}, {400, 1},
                                         {401, 1}, {404, 1}, {405, 1}, {409, 3},
                                         {412, 3}, {413, 1}, {500, 1}, {503, 1}};
    for (const auto& [status, code] : cases)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(status), code, exitCodeFor(status));
    CPPUNIT_ASSERT_EQUAL(
        std::string("route /x/ not found"),
        portico::ctl::errorMessage({404, "{\"error\":\"route /x/ not found\"}", ""}));
    CPPUNIT_ASSERT_EQUAL(std::string("plain"), portico::ctl::errorMessage({500, "plain", ""}));
    CPPUNIT_ASSERT_EQUAL(std::string("the sidecar answered 502"),
                         portico::ctl::errorMessage({502, "", ""}));
  }

  void testQueryString() {
    using portico::ctl::queryString;
    CPPUNIT_ASSERT_EQUAL(std::string(""), queryString({{"host", ""}}));
    CPPUNIT_ASSERT_EQUAL(
        std::string("?prefixPath=%2Fa%20b%2F&target=http%3A%2F%2Fx%3A1%2Fc%3Fd%26e"),
        queryString({{"prefixPath", "/a b/"}, {"host", ""}, {"target", "http://x:1/c?d&e"}}));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CtlArgsTest);
