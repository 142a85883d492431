#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>

#include <string>

#include "base/Errors.h"
#include "forward/TrustedProxies.h"

using portico::TrustedProxies;

/// X-Forwarded-For and the real client address, for trusted and untrusted peers.
class HeaderForwardedTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HeaderForwardedTest);
  CPPUNIT_TEST(testContains);
  CPPUNIT_TEST(testForwardedFor);
  CPPUNIT_TEST(testClientAddress);
  CPPUNIT_TEST(testBadEntries);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testContains() {
    const TrustedProxies t({"127.0.0.1", "::1", "10.0.0.0/8", " 192.168.1.0/24 "});
    struct Row {
      const char* address;
      bool trusted;
    };
    const Row rows[] = {
        {"127.0.0.1", true},       {"::1", true},
        {"10.1.2.3", true},        {"11.0.0.1", false},
        {"192.168.1.77", true},    {"192.168.2.1", false},
        {"::ffff:10.9.9.9", true}, {"127.0.0.2", false},
        {"garbage", false},        {"", false},
        {"[::1]", true},           {"10.0.0.1:5555", true},
    };
    for (const auto& r : rows)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.address, r.trusted, t.contains(std::string_view(r.address)));
    // A connection's peer as accept() gives it: the same answers without parsing text.
    const struct {
      const char* address;
      bool trusted;
    } peers[] = {{"127.0.0.1", true},       {"127.0.0.2", false},       {"10.255.0.1", true},
                 {"192.168.1.200", true},   {"192.168.0.1", false},     {"::1", true},
                 {"::ffff:10.9.9.9", true}, {"::ffff:11.0.0.1", false}, {"fe80::1", false}};
    for (const auto& p : peers) {
      sockaddr_storage storage{};
      if (std::string(p.address).find(':') == std::string::npos) {
        auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
        a4->sin_family = AF_INET;
        inet_pton(AF_INET, p.address, &a4->sin_addr);
      } else {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
        a6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, p.address, &a6->sin6_addr);
      }
      CPPUNIT_ASSERT_EQUAL_MESSAGE(p.address, p.trusted,
                                   t.contains(reinterpret_cast<const sockaddr&>(storage)));
    }
    const TrustedProxies none({});
    CPPUNIT_ASSERT(!none.contains(std::string_view("127.0.0.1")));
  }

  void testForwardedFor() {
    const TrustedProxies t({"127.0.0.1", "10.0.0.0/8"});
    struct Row {
      const char* incoming;
      const char* peer;
      const char* expected;
    };
    const Row rows[] = {
        {"", "127.0.0.1", "127.0.0.1"},                  // nothing to append to
        {"1.2.3.4", "127.0.0.1", "1.2.3.4, 127.0.0.1"},  // trusted peer: appended
        {"1.2.3.4, 10.0.0.5", "10.0.0.9", "1.2.3.4, 10.0.0.5, 10.0.0.9"},
        {"1.2.3.4", "8.8.8.8", "8.8.8.8"},  // untrusted peer: replaced
        {"  ", "127.0.0.1", "127.0.0.1"},
    };
    for (const auto& r : rows) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(r.incoming) + " from " + r.peer,
                                   std::string(r.expected), t.forwardedFor(r.incoming, r.peer));
    }
  }

  void testClientAddress() {
    const TrustedProxies t({"127.0.0.1", "10.0.0.0/8"});
    struct Row {
      const char* incoming;
      const char* peer;
      const char* expected;
    };
    const Row rows[] = {
        {"", "127.0.0.1", "127.0.0.1"},
        {"1.2.3.4", "127.0.0.1", "1.2.3.4"},
        {"6.6.6.6, 1.2.3.4, 10.0.0.5", "127.0.0.1", "1.2.3.4"},  // right-most untrusted hop
        {"10.0.0.1, 10.0.0.2", "127.0.0.1", "10.0.0.1"},         // all trusted: left-most
        {"1.2.3.4", "8.8.8.8", "8.8.8.8"},                       // untrusted peer: itself
    };
    for (const auto& r : rows) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(r.incoming) + " from " + r.peer,
                                   std::string(r.expected), t.clientAddress(r.incoming, r.peer));
    }
  }

  void testBadEntries() {
    CPPUNIT_ASSERT_THROW(TrustedProxies({"not-an-ip"}), portico::ConfigError);
    CPPUNIT_ASSERT_THROW(TrustedProxies({"10.0.0.0/33"}), portico::ConfigError);
    CPPUNIT_ASSERT_THROW(TrustedProxies({"10.0.0.0/x"}), portico::ConfigError);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HeaderForwardedTest);
