#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "routing/RouteTable.h"

using portico::BalancerKind;
using portico::Route;
using portico::RouteRecord;
using portico::RouteTable;
using portico::ServingState;
using portico::TargetRecord;

namespace {

const std::vector<std::string> kPrefixes{"/",   "/a/",   "/a/b/", "/a/b/c/", "/b/",  "/ba/",
                                         "/c/", "/c/d/", "/e/",   "/f/g/",   "/zz/", "/api/"};
const std::vector<std::string> kUrls{"http://a:1",     "http://b:2", "http://c:3/base",
                                     "https://d",      "http://e:5", "http://f:6/x/y",
                                     "http://[::1]:7", "http://g:8"};

/// Everything a request can observe of a table, in one string: routes in order with their
/// slots, balancers, targets (verdict, weight, state) and the candidates in rotation.
std::string describe(const RouteTable& table) {
  std::ostringstream out;
  out << "rev " << table.revision() << " targets " << table.targetCount() << " rotation "
      << table.inRotationCount() << "\n";
  for (const auto& r : table.routes()) {
    out << r->prefix << " slot " << r->slot << " " << static_cast<int>(r->balancer) << " "
        << r->slowStart.count() << ":";
    for (std::size_t i = 0; i < r->targets.size(); ++i)
      out << " " << r->targets[i]->url.canonical << (r->standing[i].healthy ? "+" : "-")
          << r->standing[i].weight << "/" << static_cast<int>(r->standing[i].state);
    out << " |";
    for (const auto& c : r->candidates()) out << " " << c.target->url.canonical;
    out << (r->picker ? " picker" : " none") << "\n";
  }
  return out.str();
}

/// A store in memory: routes by prefix, and what changed since the last reload.
class Model {
 public:
  explicit Model(unsigned seed) : random_(seed) {}

  /// One random change (or none, when the one drawn does not apply).
  void step() {
    const std::string prefix = pick(kPrefixes);
    auto it = routes_.find(prefix);
    const int op = static_cast<int>(random_() % 8);
    if (it == routes_.end()) {
      if (op < 5) create(prefix);
      return;
    }
    RouteRecord& r = it->second;
    switch (op) {
      case 0:
        routes_.erase(it);
        break;
      case 1: {  // add a target not on the route
        const std::string url = pick(kUrls);
        for (const auto& t : r.targets)
          if (t.url == url) return;
        r.targets.push_back(target(url));
        break;
      }
      case 2:  // remove one
        if (r.targets.empty()) return;
        r.targets.erase(r.targets.begin() + static_cast<long>(random_() % r.targets.size()));
        break;
      case 3:
      case 4:  // a health transition
        if (r.targets.empty()) return;
        r.targets[random_() % r.targets.size()].healthy ^= true;
        break;
      case 5:  // weight
        if (r.targets.empty()) return;
        r.targets[random_() % r.targets.size()].weight = static_cast<int>(random_() % 3) * 50;
        break;
      case 6:  // serving state
        if (r.targets.empty()) return;
        r.targets[random_() % r.targets.size()].state = static_cast<ServingState>(random_() % 3);
        break;
      default:  // balancer
        r.balancer = static_cast<BalancerKind>(random_() % 3);
        break;
    }
    touched_.insert(prefix);
    ++revision_;
  }

  std::vector<RouteRecord> all() const {
    std::vector<RouteRecord> out;
    for (const auto& [prefix, r] : routes_) out.push_back(r);
    return out;
  }
  /// What a change-history read since the last reload gives: the touched routes as stored now,
  /// and the touched prefixes no longer stored. Forgets them.
  void delta(std::vector<RouteRecord>& changed, std::vector<portico::RouteKey>& removed) {
    for (const auto& prefix : touched_) {
      auto it = routes_.find(prefix);
      if (it == routes_.end()) {
        removed.push_back(prefix);
      } else {
        changed.push_back(it->second);
      }
    }
    touched_.clear();
    // The history returns rows in revision order, not prefix order.
    std::shuffle(changed.begin(), changed.end(), random_);
  }
  void forget() { touched_.clear(); }
  std::int64_t revision() const { return revision_; }
  std::mt19937& random() { return random_; }

 private:
  template <typename T>
  const T& pick(const std::vector<T>& from) {
    return from[random_() % from.size()];
  }
  TargetRecord target(const std::string& url) {
    TargetRecord t;
    t.id = nextId_++;
    t.url = url;
    t.healthy = random_() % 4 != 0;
    t.weight = random_() % 5 == 0 ? 0 : 100;
    return t;
  }
  void create(const std::string& prefix) {
    RouteRecord r;
    r.id = nextId_++;
    r.prefix = prefix;
    r.balancer = static_cast<BalancerKind>(random_() % 3);
    const std::size_t n = random_() % 5;
    std::set<std::string> used;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string url = pick(kUrls);
      if (used.insert(url).second) r.targets.push_back(target(url));
    }
    routes_[prefix] = std::move(r);
    touched_.insert(prefix);
    ++revision_;
  }

  std::mt19937 random_;
  std::map<std::string, RouteRecord> routes_;
  std::set<std::string> touched_;
  std::int64_t revision_{0};
  std::int64_t nextId_{1};
};

}  // namespace

/// RouteTable::patch against RouteTable::build: thousands of random change sequences (route
/// creates and deletes, target adds and removes, health transitions, weights, states,
/// balancers) applied incrementally give exactly the table a full rebuild gives, including
/// after revision gaps that force a full reload in the middle.
class RouteTablePatchTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RouteTablePatchTest);
  CPPUNIT_TEST(testPatchEqualsRebuild);
  CPPUNIT_TEST(testUntouchedRoutesAreShared);
  CPPUNIT_TEST(testDroppedTargetsOfTouchedRoutes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPatchEqualsRebuild() {
    int patches = 0;
    int gaps = 0;
    for (unsigned seed = 1; seed <= 3000; ++seed) {
      Model model(seed);
      auto incremental = RouteTable::build({}, nullptr, 0);
      auto full = RouteTable::build({}, nullptr, 0);
      for (int reload = 0; reload < 12; ++reload) {
        const int steps = 1 + static_cast<int>(model.random()() % 4);
        for (int i = 0; i < steps; ++i) model.step();
        const auto records = model.all();
        if (model.random()() % 10 == 0) {
          // A gap: the history no longer reaches back, the reloader reads everything.
          model.forget();
          incremental = RouteTable::build(records, incremental.get(), model.revision());
          ++gaps;
        } else {
          std::vector<RouteRecord> changed;
          std::vector<portico::RouteKey> removed;
          model.delta(changed, removed);
          incremental = RouteTable::patch(*incremental, changed, removed, model.revision());
          ++patches;
        }
        full = RouteTable::build(records, full.get(), model.revision());
        const std::string want = describe(*full);
        const std::string got = describe(*incremental);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(
            "seed " + std::to_string(seed) + " reload " + std::to_string(reload), want, got);
        // Matching, the request path's question, answers the same for every prefix and below.
        for (const auto& p : kPrefixes) {
          for (const std::string& path : {p, p + "x/y?q=1", p.substr(0, p.size() - 1)}) {
            const Route* a = full->match(path);
            const Route* b = incremental->match(path);
            CPPUNIT_ASSERT_EQUAL(a ? a->prefix : "-", b ? b->prefix : "-");
          }
        }
      }
    }
    CPPUNIT_ASSERT(patches > 20000);
    CPPUNIT_ASSERT(gaps > 2000);
  }

  void testUntouchedRoutesAreShared() {
    std::vector<RouteRecord> records;
    for (int i = 0; i < 100; ++i) {
      RouteRecord r;
      r.prefix = "/r" + std::to_string(i) + "/";
      TargetRecord t;
      t.url = "http://h" + std::to_string(i) + ":80";
      r.targets.push_back(t);
      records.push_back(r);
    }
    const auto first = RouteTable::build(records, nullptr, 1);
    auto changed = records[42];
    changed.targets[0].healthy = false;
    const auto second = RouteTable::patch(*first, {changed}, {"/r7/"}, 2);
    CPPUNIT_ASSERT_EQUAL(std::size_t(99), second->routes().size());
    for (const auto& r : second->routes()) {
      const Route* before = first->find(r->prefix);
      if (r->prefix == "/r42/") {
        CPPUNIT_ASSERT(before != r.get());
        CPPUNIT_ASSERT(r->candidates().empty());
        // The target's run-time state carries over.
        CPPUNIT_ASSERT(before->targets[0] == r->targets[0]);
      } else {
        CPPUNIT_ASSERT(before == r.get());  // the same object, not a copy
      }
    }
    CPPUNIT_ASSERT(second->find("/r7/") == nullptr);
    CPPUNIT_ASSERT(second->match("/r7/x") == nullptr);
  }

  void testDroppedTargetsOfTouchedRoutes() {
    RouteRecord a;
    a.prefix = "/a/";
    for (const char* url : {"http://x:1", "http://y:1"}) {
      TargetRecord t;
      t.url = url;
      a.targets.push_back(t);
    }
    RouteRecord b = a;
    b.prefix = "/b/";
    const auto first = RouteTable::build({a, b}, nullptr, 1);
    a.targets.pop_back();
    std::vector<std::shared_ptr<portico::TargetState>> dropped;
    const auto second = RouteTable::patch(*first, {a}, {"/b/"}, 2, nullptr, 0, nullptr,
                                          portico::SnapshotClock::now(), &dropped);
    // y of /a/, and both of /b/: what droppedBy() finds by comparing whole tables.
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), dropped.size());
    CPPUNIT_ASSERT_EQUAL(first->droppedBy(*second).size(), dropped.size());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouteTablePatchTest);
