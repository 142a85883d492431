// portico-sidecar against a store it cannot write or that another process keeps locked, and
// raw bytes over HTTP: the real binary, a real SQLite file, loopback only.

#include <Poco/File.h>
#include <Poco/String.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "e2e/SidecarHarness.h"
#include "support/ExternalWriteLock.h"
#include "support/TestSupport.h"

using namespace portico::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Starts portico-sidecar on `db` without the power to override file permissions, so a
/// read-only file is read-only to it even when the tests run as root (CAP_DAC_OVERRIDE dropped
/// from the bounding set by setpriv, which comes with util-linux).
std::unique_ptr<ChildProcess> startUnprivileged(const TempDir& dir, const std::string& db,
                                                int port) {
  std::vector<std::string> args{"--define=store.path=" + db,
                                "--define=admin.port=" + std::to_string(port)};
  if (geteuid() != 0)
    return std::make_unique<ChildProcess>(binary("portico-sidecar"), args, dir.file("s.log"),
                                          dir.path());
  args.insert(args.begin(), {"--bounding-set=-dac_override", binary("portico-sidecar")});
  return std::make_unique<ChildProcess>("/usr/bin/setpriv", args, dir.file("s.log"), dir.path());
}

}  // namespace

class SidecarStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SidecarStoreTest);
  CPPUNIT_TEST(testReadOnlyStoreFileExits74);
  CPPUNIT_TEST(testReadOnlyStoreDirectoryExits74);
  CPPUNIT_TEST(testReadsDoNotWaitBehindAnExternalWriteLock);
  CPPUNIT_TEST(testRawBytesGetPrintableAnswers);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// A store made by a first run, then made read-only.
  static std::string makeStore(const TempDir& dir) {
    Sidecar s(dir, {"--define=route.a.prefix=/a/"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    const auto status = s.process().stop(10s);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), status && *status == 0);
    for (const char* suffix : {"-wal", "-shm"})
      CPPUNIT_ASSERT_MESSAGE("left behind: " + s.db() + suffix,
                             !Poco::File(s.db() + suffix).exists());
    return s.db();
  }

  static void expectExit74(ChildProcess& p, const std::string& db, const std::string& why) {
    const auto status = p.wait(15s);
    CPPUNIT_ASSERT_MESSAGE("still running, or no exit status: " + p.log(), status.has_value());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(p.log(), 74, *status);
    const std::string line = Poco::trim(p.log());
    CPPUNIT_ASSERT_MESSAGE("more than one line: " + line, line.find('\n') == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(line, contains(line, "store.path " + db));
    CPPUNIT_ASSERT_MESSAGE(line, contains(line, why));
  }

  void testReadOnlyStoreFileExits74() {
    TempDir dir;
    const std::string db = makeStore(dir);
    CPPUNIT_ASSERT_EQUAL(0, chmod(db.c_str(), 0444));
    const auto before = sqlite(db, "SELECT value FROM revision");
    auto p = startUnprivileged(dir, db, freePort());
    expectExit74(*p, db, "cannot write the store: the file is read-only");
    CPPUNIT_ASSERT_EQUAL(before, sqlite(db, "SELECT value FROM revision"));
  }

  void testReadOnlyStoreDirectoryExits74() {
    // The file is writable but its directory is not, so SQLite cannot make its WAL files.
    TempDir dir;
    const std::string db = makeStore(dir);
    const std::string sub = dir.file("ro");
    CPPUNIT_ASSERT_EQUAL(0, mkdir(sub.c_str(), 0755));
    CPPUNIT_ASSERT_EQUAL(0, rename(db.c_str(), (sub + "/p.db").c_str()));
    CPPUNIT_ASSERT_EQUAL(0, chmod(sub.c_str(), 0555));
    auto p = startUnprivileged(dir, sub + "/p.db", freePort());
    expectExit74(*p, sub + "/p.db", "store");
    chmod(sub.c_str(), 0755);  // so TempDir can remove it
  }

  void testReadsDoNotWaitBehindAnExternalWriteLock() {
    TempDir dir;
    ReachablePort target;  // probes succeed, so the checker's own writes need the lock too
    Sidecar s(dir, {"--define=health.interval=50ms"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    s.createRoute("/a/", {target.url()});
    ExternalWriteLock lock(s.db());
    // What is committed now (health checks and leases may have written since the create).
    const std::string committed = s.request("GET", "/endpoints/list?prefixPath=/a/").body;
    // A write now waits out the 5 s busy timeout inside the sidecar, then answers 503.
    std::atomic<bool> writeDone{false};
    HttpResult write;
    const auto writeStart = Clock::now();
    std::thread writer([&] {
      write = s.request("POST", "/endpoints/add",
                        R"({"prefixPath":"/a/","targets":[")" + localUrl(1) + R"("]})");
      writeDone = true;
    });
    // Reads meanwhile answer at once, from the last committed state.
    int readsDuringWrite = 0;
    std::string slow;
    while (!writeDone && Clock::now() - writeStart < 20s) {
      for (const char* path : {"/endpoints/list?prefixPath=/a/", "/endpoints/routes"}) {
        const auto start = Clock::now();
        const auto r = http(s.port(), "GET", path, "", {}, 10s);
        const auto took = Clock::now() - start;
        // Well under the 5 s busy timeout a read would wait behind the write, with room for load.
        if (took > 2500ms)
          slow =
              std::string(path) + " took " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
              " ms";
        if (writeDone) break;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
        CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, target.url()));
        ++readsDuringWrite;
      }
    }
    writer.join();
    const auto writeTook = Clock::now() - writeStart;
    CPPUNIT_ASSERT_MESSAGE("a read waited behind the write: " + slow, slow.empty());
    CPPUNIT_ASSERT_MESSAGE(std::to_string(readsDuringWrite), readsDuringWrite >= 4);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(write.body + write.error, 503, write.status);
    CPPUNIT_ASSERT_MESSAGE("the 503 came after the busy timeout and its margin", writeTook < 12s);
    CPPUNIT_ASSERT_EQUAL(committed, s.request("GET", "/endpoints/list?prefixPath=/a/").body);
  }

  void testRawBytesGetPrintableAnswers() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    auto r = s.request("POST", "/endpoints/routes",
                       std::string(R"({"prefixPath":"/x/"})") + "\xff{{{ not json");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(s.db(), "SELECT prefix FROM routes"));
    for (const auto& [method, path, body] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"POST", "/endpoints/add", "[0"},
             {"GET", "/endpoints/list?prefixPath=%FF", ""},
             {"GET", "/endpoints/list?prefixPath=/a%00b/", ""},
             {"POST", "/endpoints/routes",
              "{\"prefixPath\":\"/" + std::string(62, 'a') + "\xc3\xa9?\"}"}}) {
      r = s.request(method, path, body);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(path + " " + r.body, 400, r.status);
      const auto object = tryParseObject(r);
      CPPUNIT_ASSERT_MESSAGE(r.body, object && object->has("error"));
      // Every byte of the answer decodes as UTF-8 and no control character is in the text.
      for (unsigned char c : object->getValue<std::string>("error"))
        CPPUNIT_ASSERT_MESSAGE(r.body, c >= 0x20 && c != 0x7f && c != 0xff);
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SidecarStoreTest);
