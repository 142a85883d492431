#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <sstream>

#include "ctl/AnswerTables.h"
#include "ctl/TextTable.h"
#include "ctl/YamlJson.h"

using portico::ctl::DocumentError;
using portico::ctl::jsonToYaml;
using portico::ctl::TextTable;
using portico::ctl::yamlToJson;

namespace {

/// JSON text in one canonical spelling (Poco's, key order kept), to compare documents.
std::string canonical(const std::string& json) {
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(parser.parse(json), out);
  return out.str();
}

// A whole configuration document as GET /endpoints/config gives it, with every kind of value
// and strings that look like something else.
const char* const kConfig = R"({"revision":42,"routes":[{"host":"","prefixPath":"/api/",
"balancer":"least_conn","healthCheck":{"interval":"5s","timeout":"3s","type":"http","path":"/healthz",
"fall":3,"rise":2,"slowStart":"0ms"},"stripPrefix":true,"rewritePrefix":null,"preserveHost":false,
"requestHeaders":{"set":{"X-Version":"2","X-Flag":"true","X-Null":"null","X-Empty":"","X-Yes":"yes",
"X-Octal":"0o17","X-Float":"1.50","X-Colon":"a: b","X-Hash":"#x","X-Quote":"\"q\"","X-Multi":"a\nb"},
"add":{},"remove":["Server","~"]},"timeouts":{"connect":"1s","read":null,"send":null},
"maxBodySize":"10MiB","retries":{"attempts":2,"on":["502","503","connect-failure"],
"perTryTimeout":"0ms","budgetPercent":20,"nonIdempotent":false},"rateLimit":{"requestsPerSecond":2.5,
"burst":10,"by":"client"},"maxRequests":0,"ratio":1.0,
"targets":[{"target":"http://localhost:8081/caf%C3%A9","weight":100,"state":"active"},
{"target":"http://localhost:8082","weight":0,"state":"draining"}]},
{"host":"*.shop.example","prefixPath":"/","balancer":"round_robin","targets":[]}]})";

}  // namespace

/// portico-ctl's pure output: YAML<->JSON that keeps every type, aligned tables, the API's
/// answers as tables.
class CtlOutputTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CtlOutputTest);
  CPPUNIT_TEST(testRoundTripKeepsTypes);
  CPPUNIT_TEST(testYamlScalars);
  CPPUNIT_TEST(testQuotedStringsStayStrings);
  CPPUNIT_TEST(testDocumentErrors);
  CPPUNIT_TEST(testTable);
  CPPUNIT_TEST(testAnswerTables);
  CPPUNIT_TEST(testChangeSummary);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRoundTripKeepsTypes() {
    const std::string yaml = jsonToYaml(kConfig);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(yaml, canonical(kConfig), canonical(yamlToJson(yaml)));
    // Strings that a YAML reader would take for something else are quoted, numbers are not.
    for (const char* line :
         {"X-Version: \"2\"", "X-Flag: \"true\"", "X-Null: \"null\"", "X-Empty: \"\"",
          "X-Yes: \"yes\"", "X-Octal: \"0o17\"", "X-Float: \"1.50\"", "- \"502\"", "- \"~\"",
          "revision: 42", "weight: 100", "stripPrefix: true", "rewritePrefix: ~",
          "requestsPerSecond: 2.5", "ratio: 1.0", "add: {}", "targets: []"})
      CPPUNIT_ASSERT_MESSAGE(std::string(line) + " in\n" + yaml,
                             yaml.find(line) != std::string::npos);
    // JSON in is YAML too: the same document read straight.
    CPPUNIT_ASSERT_EQUAL(canonical(kConfig), canonical(yamlToJson(kConfig)));
  }

  void testYamlScalars() {
    const struct {
      const char* yaml;
      const char* json;
    } cases[] = {
        {"a: 1", R"({"a":1})"},
        {"a: -7", R"({"a":-7})"},
        {"a: 0x1F", R"({"a":31})"},
        {"a: 0o17", R"({"a":15})"},
        {"a: 1.5", R"({"a":1.5})"},
        {"a: 1e3", R"({"a":1000.0})"},
        {"a: true", R"({"a":true})"},
        {"a: False", R"({"a":false})"},
        {"a: yes", R"({"a":"yes"})"},  // YAML 1.2: a string
        {"a: ~", R"({"a":null})"},
        {"a: null", R"({"a":null})"},
        {"a:", R"({"a":null})"},
        {"a: 5s", R"({"a":"5s"})"},
        {"a: http://x:1/y", R"({"a":"http://x:1/y"})"},
        {"a: [1, two, \"3\"]", R"({"a":[1,"two","3"]})"},
        {"a: {b: {c: []}}", R"({"a":{"b":{"c":[]}}})"},
        {"x: &w 5\ny: *w", R"({"x":5,"y":5})"},
        {"b: 2\na: 1", R"({"b":2,"a":1})"},  // document order
        {"a: \"\\u00e9\"", R"({"a":"é"})"},
    };
    for (const auto& c : cases)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.yaml, canonical(c.json), canonical(yamlToJson(c.yaml)));
  }

  void testQuotedStringsStayStrings() {
    CPPUNIT_ASSERT_EQUAL(
        std::string(R"({"a":"100","b":"true","c":"null","d":"1.0","e":""})"),
        canonical(yamlToJson("a: \"100\"\nb: 'true'\nc: \"null\"\nd: '1.0'\ne: ''")));
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":"7"})"), canonical(yamlToJson("a: !!str 7")));
  }

  void testDocumentErrors() {
    for (const char* bad :
         {"a: [1, 2", "a: b: c", "a: 1\na: 2", "a: .inf", "a: .nan", "? [1]\n: x", "\t- x"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, yamlToJson(bad), DocumentError);
    for (const char* bad : {"{", "{\"a\":tru}", "yaml: here"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, jsonToYaml(bad), DocumentError);
    try {
      yamlToJson("a: 1\nb: [x,\n");
      CPPUNIT_FAIL("parsed");
    } catch (const DocumentError& e) {
      CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("line ") != std::string::npos);
    }
  }

  void testTable() {
    TextTable table({"NAME", "WEIGHT", "NOTE"});
    table.add({"café", "5"});
    table.add({"b", "1000", "last"});
    CPPUNIT_ASSERT_EQUAL(std::string("NAME  WEIGHT  NOTE\n"
                                     "café  5\n"
                                     "b     1000    last\n"),
                         table.render());
    CPPUNIT_ASSERT_EQUAL(std::string("A  B\n"), TextTable({"A", "B"}).render());
    CPPUNIT_ASSERT_THROW(table.add({"1", "2", "3", "4"}), std::logic_error);
  }

  void testAnswerTables() {
    const std::string routes = portico::ctl::routesTable(
        R"({"routes":[{"prefixPath":"/api/","host":"","balancer":"least_conn","healthCheck":{"type":"http","interval":"2s","path":"/up"},"targets":[{"target":"http://a","healthy":true},{"target":"http://b","healthy":false}]},{"prefixPath":"/v1/","host":"api.example.com","balancer":"round_robin","healthCheck":{"type":"tcp","interval":"5s","path":"/"},"targets":[]}]})");
    CPPUNIT_ASSERT_EQUAL(
        std::string("ROUTE                BALANCER     HEALTH-CHECK       TARGETS\n"
                    "/api/                least_conn   http every 2s /up  2 (1 healthy)\n"
                    "api.example.com/v1/  round_robin  tcp every 5s       0 (0 healthy)\n"),
        routes);
    CPPUNIT_ASSERT_EQUAL(
        std::string("TARGET    WEIGHT  STATE     HEALTH  LAST-ERROR\n"
                    "http://a  50      draining  down    connect: refused\n"
                    "http://b  100     active    up      -\n"),
        portico::ctl::targetsTable(
            R"({"prefixPath":"/api/","targets":[{"target":"http://a","weight":50,"state":"draining","healthy":false,"lastError":"connect: refused"},{"target":"http://b","weight":100,"state":"active","healthy":true,"lastError":null}]})"));
    CPPUNIT_ASSERT_EQUAL(std::string("no changes\n"), portico::ctl::diffTable(R"({"changes":[]})"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("ACTION         ROUTE  TARGET    CHANGE\n"
                    "target.weight  /api/  http://a  weight 100 -> 50\n"
                    "target.remove  /api/  http://b  removed\n"
                    "2 changes\n"),
        portico::ctl::diffTable(
            R"({"changes":[{"action":"target.weight","route":"/api/","host":"","target":"http://a","before":{"weight":100},"after":{"weight":50}},{"action":"target.remove","route":"/api/","host":"","target":"http://b","before":{"weight":100,"state":"active"},"after":null}]})"));
    CPPUNIT_ASSERT_EQUAL(
        std::string(
            "REV  TIME  ACTOR          ACTION        ROUTE     TARGET  CHANGE\n"
            "3    t     api 127.0.0.1  route.create  a.com/x/  -       balancer round_robin\n"),
        portico::ctl::historyTable(
            R"({"changes":[{"revision":3,"time":"t","actor":"api","client":"127.0.0.1","action":"route.create","route":"/x/","host":"a.com","target":null,"before":null,"after":{"balancer":"round_robin","healthCheck":{"type":"tcp"}}}],"nextSince":3})"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), portico::ctl::historyTable(R"({"changes":[]})", false));
    CPPUNIT_ASSERT_EQUAL(
        std::string(
            "9    t     api    target.weight  /x/    http://a  (revert to 4) weight 5 -> 7\n"),
        portico::ctl::historyTable(
            R"({"changes":[{"revision":9,"time":"t","actor":"api","client":null,"action":"target.weight","route":"/x/","host":"","target":"http://a","before":{"weight":5},"after":{"weight":7},"revertOf":4}]})",
            false));
    CPPUNIT_ASSERT_EQUAL(
        std::string("ID      STATE  REVISION  ADDRESSES               VERSION\n"
                    "edge-1  live   3         0.0.0.0:80,0.0.0.0:443  1.2\n"),
        portico::ctl::proxiesTable(
            R"({"revision":3,"proxies":[{"id":"edge-1","state":"live","revision":3,"addresses":["0.0.0.0:80","0.0.0.0:443"],"version":"1.2"}]})"));
  }

  void testChangeSummary() {
    using portico::ctl::changeSummary;
    CPPUNIT_ASSERT_EQUAL(std::string("state active -> draining"),
                         changeSummary(R"({"state":"active"})", R"({"state":"draining"})"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("healthy true -> false, error - -> refused"),
        changeSummary(R"({"healthy":true})", R"({"healthy":false,"error":"refused"})"));
    CPPUNIT_ASSERT_EQUAL(std::string("weight 100, state active"),
                         changeSummary("null", R"({"weight":100,"state":"active"})"));
    CPPUNIT_ASSERT_EQUAL(std::string("removed"), changeSummary(R"({"weight":1})", "null"));
    CPPUNIT_ASSERT_EQUAL(std::string("no change"), changeSummary(R"({"a":1})", R"({"a":1})"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CtlOutputTest);
