#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <stdexcept>

#include "base/Errors.h"
#include "store/ConnectionPool.h"
#include "store/SqlTransaction.h"

using portico::ConnectionPool;

namespace {

/// A connection that says which one it is and whether it may go back to the pool.
struct FakeConnection {
  int serial;
  bool healthy{true};
};

class Opener {
 public:
  std::unique_ptr<FakeConnection> operator()() {
    if (refuse) throw std::runtime_error("cannot connect");
    return std::make_unique<FakeConnection>(FakeConnection{++opened});
  }
  int opened{0};
  bool refuse{false};
};

ConnectionPool<FakeConnection> pool(Opener& opener, std::size_t keepIdle) {
  return ConnectionPool<FakeConnection>([&opener] { return opener(); },
                                        [](FakeConnection& c) { return c.healthy; }, keepIdle);
}

}  // namespace

/// The stores' pool of connections (ConnectionPool), and the rows a SqlTransaction gives.
class ConnectionPoolTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConnectionPoolTest);
  CPPUNIT_TEST(testIdleConnectionsAreLentAgain);
  CPPUNIT_TEST(testRefusedAndSurplusConnectionsAreClosed);
  CPPUNIT_TEST(testDiscardIdleAndFailedOpens);
  CPPUNIT_TEST(testSqlRowsIntegers);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testIdleConnectionsAreLentAgain() {
    Opener opener;
    auto p = pool(opener, 4);
    {
      auto first = p.acquire();
      CPPUNIT_ASSERT(!first.reused());
      CPPUNIT_ASSERT_EQUAL(1, first->serial);
      auto second = p.acquire();  // the first is lent: a new one
      CPPUNIT_ASSERT_EQUAL(2, (*second).serial);
    }
    auto again = p.acquire();
    CPPUNIT_ASSERT(again.reused());
    CPPUNIT_ASSERT_EQUAL(2, opener.opened);
    auto moved = std::move(again);  // a moved-from lease gives nothing back
    CPPUNIT_ASSERT(moved.reused());
  }

  void testRefusedAndSurplusConnectionsAreClosed() {
    Opener opener;
    auto p = pool(opener, 1);
    {
      auto a = p.acquire();
      auto b = p.acquire();
      auto c = p.acquire();
      c->healthy = false;
    }  // given back c, b, a: c is broken, b is kept, a is one more than keepIdle
    auto kept = p.acquire();
    CPPUNIT_ASSERT(kept.reused());
    CPPUNIT_ASSERT_EQUAL(2, kept->serial);
    auto fresh = p.acquire();
    CPPUNIT_ASSERT(!fresh.reused());
    CPPUNIT_ASSERT_EQUAL(4, fresh->serial);
  }

  void testDiscardIdleAndFailedOpens() {
    Opener opener;
    auto p = pool(opener, 4);
    { auto a = p.acquire(); }
    p.discardIdle();
    opener.refuse = true;
    CPPUNIT_ASSERT_THROW(p.acquire(), std::runtime_error);  // nothing idle left to lend
    opener.refuse = false;
    auto b = p.acquire();
    CPPUNIT_ASSERT(!b.reused());
    CPPUNIT_ASSERT_EQUAL(2, b->serial);
  }

  void testSqlRowsIntegers() {
    portico::SqlRows rows;
    rows.add({"42", "-1", "", "12x"});
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, rows.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t{42}, rows.integer(0, 0));
    CPPUNIT_ASSERT_EQUAL(std::int64_t{-1}, rows.integer(0, 1));
    CPPUNIT_ASSERT_THROW(rows.integer(0, 2), portico::StoreError);
    CPPUNIT_ASSERT_THROW(rows.integer(0, 3), portico::StoreError);
    CPPUNIT_ASSERT_EQUAL(std::string("12x"), rows.text(0, 3));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConnectionPoolTest);
