#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/InheritedListeners.h"

using portico::net::InheritedListeners;
using Entries = std::vector<InheritedListeners::Entry>;

/// PORTICO_LISTENERS as a binary upgrade writes and reads it, and how a program takes its
/// sockets by name. Pipes stand in for sockets (no network): only the variable's checks need a
/// real listening socket.
class InheritedListenersTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(InheritedListenersTest);
  CPPUNIT_TEST(testParseAndFormatAreInverse);
  CPPUNIT_TEST(testMalformedValuesAreRefused);
  CPPUNIT_TEST(testTakeByNameThenTheRest);
  CPPUNIT_TEST(testWhatNobodyTookIsClosed);
  CPPUNIT_TEST(testNoVariableMeansNothingInherited);
  CPPUNIT_TEST(testADescriptorThatIsNoListenerIsRefused);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testParseAndFormatAreInverse() {
    const Entries entries{{"http", 5}, {"http", 6}, {"https", 7}, {"status", 12}};
    const std::string text = InheritedListeners::format(entries);
    CPPUNIT_ASSERT_EQUAL(std::string("http:5 http:6 https:7 status:12"), text);
    CPPUNIT_ASSERT(InheritedListeners::parse(text) == entries);
    CPPUNIT_ASSERT(InheritedListeners::parse("").empty());
    CPPUNIT_ASSERT(InheritedListeners::parse("  http:3   status:4 ") ==
                   (Entries{{"http", 3}, {"status", 4}}));
  }

  void testMalformedValuesAreRefused() {
    for (const char* bad : {"http", "http:", ":5", "http:5x", "http:-5", "http:1", "http:2",
                            "http:5 status:5", "http:99999999999"}) {
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, InheritedListeners::parse(bad), std::invalid_argument);
    }
  }

  void testTakeByNameThenTheRest() {
    const int a = pipeEnd(), b = pipeEnd(), c = pipeEnd(), d = pipeEnd();
    InheritedListeners inherited(
        Entries{{"http", a}, {"status", b}, {"portico-proxy.socket", c}, {"http", d}}, "systemd");
    CPPUNIT_ASSERT_EQUAL(std::string("systemd"), inherited.source());
    CPPUNIT_ASSERT(inherited.take("https").empty());
    const auto status = inherited.take("status");
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, status.size());
    CPPUNIT_ASSERT_EQUAL(b, status[0].get());
    CPPUNIT_ASSERT(inherited.take("status").empty());  // taken once
    const auto rest = inherited.takeRest();  // an unnamed socket unit's serves plain HTTP too
    CPPUNIT_ASSERT_EQUAL(std::size_t{3}, rest.size());
    CPPUNIT_ASSERT_EQUAL(a, rest[0].get());
    CPPUNIT_ASSERT_EQUAL(c, rest[1].get());
    CPPUNIT_ASSERT_EQUAL(d, rest[2].get());
    CPPUNIT_ASSERT(inherited.empty());
  }

  void testWhatNobodyTookIsClosed() {
    const int kept = pipeEnd(), left = pipeEnd();
    {
      InheritedListeners inherited(Entries{{"http", kept}, {"https", left}}, "systemd");
      auto taken = inherited.take("http");
      taken[0].release();  // still the test's
    }
    CPPUNIT_ASSERT(::fcntl(kept, F_GETFD) >= 0);
    CPPUNIT_ASSERT(::fcntl(left, F_GETFD) < 0);
    ::close(kept);
  }

  void testNoVariableMeansNothingInherited() {
    ::unsetenv(InheritedListeners::kVariable);
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    CPPUNIT_ASSERT(InheritedListeners::fromEnvironment().empty());
  }

  void testADescriptorThatIsNoListenerIsRefused() {
    const int fd = pipeEnd();
    ::setenv(InheritedListeners::kVariable, ("http:" + std::to_string(fd)).c_str(), 1);
    CPPUNIT_ASSERT_THROW(InheritedListeners::fromEnvironment(), std::runtime_error);
    CPPUNIT_ASSERT(std::getenv(InheritedListeners::kVariable) == nullptr);  // taken either way
    ::setenv(InheritedListeners::kVariable, "http", 1);
    CPPUNIT_ASSERT_THROW(InheritedListeners::fromEnvironment(), std::runtime_error);
    ::unsetenv(InheritedListeners::kVariable);
  }

 private:
  /// The read end of a new pipe (its write end closed).
  static int pipeEnd() {
    int p[2];
    CPPUNIT_ASSERT_EQUAL(0, ::pipe(p));
    ::close(p[1]);
    return p[0];
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InheritedListenersTest);
