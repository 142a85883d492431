#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "forward/RequestId.h"

using portico::RequestIdGenerator;

/// X-Request-Id generation and the rule for passing a client's id through.
class RequestIdTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestIdTest);
  CPPUNIT_TEST(testShapeAndUniqueness);
  CPPUNIT_TEST(testSeededSequenceIsStable);
  CPPUNIT_TEST(testThreadsDoNotCollide);
  CPPUNIT_TEST(testAcceptable);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testShapeAndUniqueness() {
    RequestIdGenerator g;
    std::set<std::string> seen;
    for (int i = 0; i < 100000; ++i) {
      char buffer[RequestIdGenerator::kLength];
      const std::string id(g.next(buffer));
      CPPUNIT_ASSERT_EQUAL(std::size_t{32}, id.size());
      CPPUNIT_ASSERT_EQUAL(std::string::npos, id.find_first_not_of("0123456789abcdef"));
      CPPUNIT_ASSERT(seen.insert(id).second);
    }
  }

  void testSeededSequenceIsStable() {
    RequestIdGenerator a(42);
    RequestIdGenerator b(42);
    RequestIdGenerator c(43);
    char x[32], y[32], z[32];
    CPPUNIT_ASSERT_EQUAL(std::string(a.next(x)), std::string(b.next(y)));
    CPPUNIT_ASSERT(std::string(a.next(x)) != std::string(c.next(z)));
  }

  void testThreadsDoNotCollide() {
    constexpr int kThreads = 4;
    constexpr int kIds = 20000;
    std::vector<std::vector<std::string>> ids(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto& g = RequestIdGenerator::forThisThread();
        for (int i = 0; i < kIds; ++i) {
          char buffer[RequestIdGenerator::kLength];
          ids[t].emplace_back(g.next(buffer));
        }
      });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    for (const auto& v : ids) all.insert(v.begin(), v.end());
    CPPUNIT_ASSERT_EQUAL(std::size_t{kThreads * kIds}, all.size());
  }

  void testAcceptable() {
    const struct {
      std::string id;
      bool ok;
    } table[] = {
        {"abc-123", true},
        {"7f3c0e6b-2a8d-4f1e-9c5b-3a2d1e0f4c6b", true},
        {"trace:01/x=y.z_1", true},
        {std::string(200, 'a'), true},
        {std::string(201, 'a'), false},
        {"", false},
        {"has space", false},
        {"quo\"te", false},
        {"back\\slash", false},
        {"new\nline", false},
        {"caf\xc3\xa9", false},
    };
    for (const auto& row : table)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(row.id, row.ok, RequestIdGenerator::acceptable(row.id));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestIdTest);
