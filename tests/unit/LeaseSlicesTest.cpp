// How a lease renewal is cut into short transactions and how it evens the leases out, as pure
// logic: the slices of ids, the fair share.

#include <cppunit/extensions/HelperMacros.h>

#include "store/LeaseSlices.h"

using portico::balanceLeases;
using portico::IdRange;
using portico::LeaseBalance;
using portico::sliceIds;

class LeaseSlicesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(LeaseSlicesTest);
  CPPUNIT_TEST(testNoIdsNoSlice);
  CPPUNIT_TEST(testSlicesCoverEveryIdOnce);
  CPPUNIT_TEST(testGapsStayInsideTheirSlice);
  CPPUNIT_TEST(testZeroPerSliceIsOne);
  CPPUNIT_TEST(testFairShare);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testNoIdsNoSlice() { CPPUNIT_ASSERT(sliceIds({}, 1000).empty()); }

  void testSlicesCoverEveryIdOnce() {
    std::vector<std::int64_t> ids;
    for (std::int64_t id = 1; id <= 2500; ++id) ids.push_back(id);
    const auto slices = sliceIds(ids, 1000);
    const std::vector<IdRange> expected{{1, 1000, 1000}, {1001, 2000, 1000}, {2001, 2500, 500}};
    CPPUNIT_ASSERT(slices == expected);
    // Exactly a slice's worth: one slice, not an empty second one.
    CPPUNIT_ASSERT(sliceIds({7, 8, 9}, 3) == (std::vector<IdRange>{{7, 9, 3}}));
  }

  void testGapsStayInsideTheirSlice() {
    // Ranges span the ids they hold and never overlap, whatever lies between them.
    const auto slices = sliceIds({2, 50, 51, 900, 40000}, 2);
    const std::vector<IdRange> expected{{2, 50, 2}, {51, 900, 2}, {40000, 40000, 1}};
    CPPUNIT_ASSERT(slices == expected);
  }

  void testZeroPerSliceIsOne() {
    CPPUNIT_ASSERT(sliceIds({1, 2}, 0) == (std::vector<IdRange>{{1, 1, 1}, {2, 2, 1}}));
  }

  void testFairShare() {
    // Alone: every target. Two live: ceil(5 / 2) = 3.
    CPPUNIT_ASSERT(balanceLeases(0, 5, 1) == (LeaseBalance{0, 5}));
    CPPUNIT_ASSERT(balanceLeases(5, 5, 2) == (LeaseBalance{2, 0}));
    CPPUNIT_ASSERT(balanceLeases(2, 5, 2) == (LeaseBalance{0, 1}));
    CPPUNIT_ASSERT(balanceLeases(3, 5, 2) == (LeaseBalance{0, 0}));
    // No live sidecar counted (its own row not yet visible): the whole table is the share.
    CPPUNIT_ASSERT(balanceLeases(1, 4, 0) == (LeaseBalance{0, 3}));
    // Targets removed under it: everything beyond the share goes.
    CPPUNIT_ASSERT(balanceLeases(4, 0, 1) == (LeaseBalance{4, 0}));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LeaseSlicesTest);
