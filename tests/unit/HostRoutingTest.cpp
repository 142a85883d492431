#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "routing/RequestHost.h"
#include "routing/RequestRouting.h"
#include "routing/RouteTable.h"

using portico::RequestHost;
using portico::RequestRouting;
using portico::Route;
using portico::RouteKey;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;

namespace {

RouteRecord route(const std::string& host, const std::string& prefix) {
  RouteRecord r;
  r.host = host;
  r.prefix = prefix;
  TargetRecord t;
  t.id = 1;
  t.url = "http://127.0.0.1:1";
  r.targets.push_back(t);
  return r;
}

/// Routes of several host groups sharing prefixes: which one serves each request.
std::shared_ptr<const RouteTable> table() {
  return RouteTable::build(
      {route("", "/"), route("", "/x/"), route("api.example.com", "/"),
       route("api.example.com", "/v1/"), route("*.example.com", "/"), route("*.example.com", "/w/"),
       route("*.b.example.com", "/w/"), route("10.0.0.1", "/"), route("[::1]", "/six/"),
       route("only.example.org", "/only/")},
      nullptr, 1);
}

/// "host prefix" of the route a request (raw Host value, target) reaches, or "none".
std::string served(const RouteTable& t, const std::string& host, const std::string& target) {
  const RequestRouting r = RequestRouting::of(t, target, host);
  return r.route ? r.route->host + " " + r.route->prefix : "none";
}

}  // namespace

/// Host routing (issue #19): exact hosts, then wildcards from the longest suffix, then any host;
/// within the first group whose routes match the path, the longest prefix; the request host
/// normalised from Host (or :authority) as RequestHost says.
class HostRoutingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HostRoutingTest);
  CPPUNIT_TEST(testPrecedence);
  CPPUNIT_TEST(testRequestHostForms);
  CPPUNIT_TEST(testAbsoluteFormAuthorityWins);
  CPPUNIT_TEST(testNoRouteNamesTheHost);
  CPPUNIT_TEST(testFindAndPatchByKey);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPrecedence() {
    const auto t = table();
    struct Case {
      const char* host;
      const char* target;
      const char* expected;
    };
    const std::vector<Case> cases{
        // Exact host first, longest prefix within it.
        {"api.example.com", "/v1/users", "api.example.com /v1/"},
        {"api.example.com", "/x/y", "api.example.com /"},  // the exact group's "/" wins over any
        // A wildcard covers one or more labels in front of its suffix, longest suffix first.
        {"www.example.com", "/w/a", "*.example.com /w/"},
        {"a.b.example.com", "/w/a", "*.b.example.com /w/"},
        {"a.b.example.com", "/other", "*.example.com /"},  // *.b has no match: the next suffix
        {"deep.a.b.example.com", "/w/", "*.b.example.com /w/"},
        // ...never the bare suffix itself.
        {"example.com", "/w/a", "any /"},
        {"b.example.com", "/w/a", "*.example.com /w/"},
        // Fall-through: the host's routes miss the path, the any-host routes serve it.
        {"only.example.org", "/x/1", "any /x/"},
        {"only.example.org", "/only/1", "only.example.org /only/"},
        // An unknown host, or none at all (HTTP/1.0), gets only the any-host routes.
        {"other.org", "/x/1", "any /x/"},
        {"", "/x/1", "any /x/"},
        {"", "/v1/users", "any /"},
        // IP literals are exact hosts.
        {"10.0.0.1", "/x/1", "10.0.0.1 /"},
        {"10.0.0.1:8080", "/x/1", "10.0.0.1 /"},
        {"[::1]:8443", "/six/a", "[::1] /six/"},
        {"[::1]", "/x/", "any /x/"},
        // Case, port and one trailing dot do not matter.
        {"API.Example.COM", "/v1/", "api.example.com /v1/"},
        {"api.example.com:8080", "/v1/", "api.example.com /v1/"},
        {"api.example.com.", "/v1/", "api.example.com /v1/"},
        {"api.example.com.:443", "/v1/", "api.example.com /v1/"},
        {"api.example.com..", "/v1/", "any /"},  // one dot only
    };
    for (const auto& c : cases) {
      std::string got = served(*t, c.host, c.target);
      if (got.rfind(" ", 0) == 0) got = "any" + got;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(c.host) + c.target, std::string(c.expected), got);
    }
  }

  void testRequestHostForms() {
    struct Case {
      const char* raw;
      const char* expected;
    };
    const std::vector<Case> cases{
        {"api.example.com", "api.example.com"},
        {"API.example.Com", "api.example.com"},
        {"a.com:80", "a.com"},
        {"a.com.", "a.com"},
        {"a.com.:80", "a.com"},
        {"[::1]:80", "[::1]"},
        {"[::1]", "[::1]"},
        {"[::1", ""},
        {"", ""},
        {" a.com ", "a.com"},
        {"10.0.0.1:1", "10.0.0.1"},
    };
    for (const auto& c : cases) {
      std::string scratch;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.raw, std::string(c.expected),
                                   std::string(RequestHost::of(c.raw, scratch)));
    }
    // A host already in its routing form is used in place (no copy on the request path).
    const std::string raw = "api.example.com:8080";
    std::string scratch;
    const auto host = RequestHost::of(raw, scratch);
    CPPUNIT_ASSERT(host.data() == raw.data());
    CPPUNIT_ASSERT(scratch.empty());
  }

  void testAbsoluteFormAuthorityWins() {
    const auto t = table();
    // RFC 9112 3.2.2: the absolute-form's authority, not Host, names the host.
    CPPUNIT_ASSERT_EQUAL(std::string("api.example.com /v1/"),
                         served(*t, "other.org", "http://api.example.com/v1/a"));
    CPPUNIT_ASSERT_EQUAL(std::string("api.example.com /v1/"),
                         served(*t, "", "https://API.example.com:8443/v1/a?q=1"));
    CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"),
                         std::string(RequestHost::authorityOf("http://api.example.com")));
    CPPUNIT_ASSERT(RequestHost::authorityOf("/a/b").empty());
    CPPUNIT_ASSERT(RequestHost::authorityOf("*").empty());
  }

  void testNoRouteNamesTheHost() {
    const auto t = RouteTable::build({route("api.example.com", "/v1/")}, nullptr, 1);
    const auto r = RequestRouting::of(*t, "/x?q=1", "API.example.com:80");
    CPPUNIT_ASSERT(!r.route);
    CPPUNIT_ASSERT_EQUAL(404, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("no route for api.example.com/x"), r.message);
    CPPUNIT_ASSERT_EQUAL(std::string("no route for /x"), RequestRouting::of(*t, "/x").message);
    // Without host routes the host plays no part, and the answer is what it always was.
    const auto anyHost = RouteTable::build({route("", "/v1/")}, nullptr, 1);
    CPPUNIT_ASSERT_EQUAL(std::string("no route for /x"),
                         RequestRouting::of(*anyHost, "/x", "api.example.com").message);
  }

  void testFindAndPatchByKey() {
    const auto t = table();
    CPPUNIT_ASSERT(t->find("", "/x/") && t->find("", "/x/")->host.empty());
    CPPUNIT_ASSERT(t->find("/x/") == t->find("", "/x/"));
    CPPUNIT_ASSERT_EQUAL(std::string("*.example.com"), t->find("*.example.com", "/w/")->host);
    CPPUNIT_ASSERT(!t->find("www.example.com", "/w/"));
    CPPUNIT_ASSERT(!t->find("api.example.com", "/x/"));
    // Removing one host's route keeps the other hosts' routes of the same prefix, and their slots.
    const std::size_t kept = t->find("*.example.com", "/w/")->slot;
    const auto next = RouteTable::patch(*t, {}, {RouteKey{"*.b.example.com", "/w/"}}, 2);
    CPPUNIT_ASSERT(!next->find("*.b.example.com", "/w/"));
    CPPUNIT_ASSERT_EQUAL(kept, next->find("*.example.com", "/w/")->slot);
    CPPUNIT_ASSERT_EQUAL(t->routes().size() - 1, next->routes().size());
    CPPUNIT_ASSERT_EQUAL(std::string("*.example.com /w/"), served(*next, "a.b.example.com", "/w/"));
    // A changed route of one host is rebuilt alone.
    const auto again = RouteTable::patch(*next, {route("api.example.com", "/x/")}, {}, 3);
    CPPUNIT_ASSERT_EQUAL(std::string("api.example.com /x/"),
                         served(*again, "api.example.com", "/x/1"));
    CPPUNIT_ASSERT_EQUAL(std::string(" /x/"), served(*again, "other.org", "/x/1"));
    CPPUNIT_ASSERT(again->find("", "/") == next->find("", "/"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostRoutingTest);
