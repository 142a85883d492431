// AdminApi::handle: a whole admin request, as the HTTP handler hands it over, against a real
// store. Input: method ' ' request-target [' ' If-Match] '\n' body. Checks every answer is a
// JSON object in valid UTF-8 with a status the API documents, that a refusal changes nothing,
// and that what a write stored is already in normal form (weights and states included).

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>
#include <unistd.h>

#include <memory>
#include <set>

#include "admin/AdminApi.h"
#include "admin/StrictJson.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"
#include "store/sqlite/SqliteStore.h"

using namespace portico;
using namespace portico::fuzz;

namespace {

/// One store for the run, in memory-backed /dev/shm when there is one (a commit's fsync is then
/// free); recreated now and then so the routes the fuzzer creates do not pile up.
class Fixture {
 public:
  // libFuzzer ends a timed run with exit(), which destroys this: the store files go with it.
  ~Fixture() { removeStore(); }

  AdminApi& api() {
    if (!api_ || ++uses_ % 5000 == 0) reset();
    return *api_;
  }
  Store& store() { return *store_; }

 private:
  void reset() {
    if (!path_.empty()) removeStore();
    const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = dir + "/portico-fuzz-" + std::to_string(getpid()) + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
    store_ = std::make_unique<SqliteStore>(path_);
    api_ = std::make_unique<AdminApi>(*store_, "/endpoints", HealthSpec{}, [] {});
  }

  void removeStore() {
    api_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
  }

  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AdminApi> api_;
  unsigned uses_{0};
};

void checkStoredTarget(const Poco::JSON::Object& target) {
  const std::string url = target.getValue<std::string>("target");
  require(parseTargetUrl(url).canonical == url, "stored target not canonical", url);
  const int weight = target.getValue<int>("weight");
  require(weight >= 0 && weight <= kMaxWeight, "stored weight out of range", url);
  const std::string state = target.getValue<std::string>("state");
  require(toString(parseServingState(state)) == state, "stored state not canonical", state);
}

void checkStoredRoute(const Poco::JSON::Object& route) {
  const std::string prefix = route.getValue<std::string>("prefixPath");
  require(normalizePrefix(prefix) == prefix, "stored prefix not normalised", prefix);
  const auto targets = route.getArray("targets");
  for (std::size_t i = 0; targets && i < targets->size(); ++i) {
    checkStoredTarget(*targets->getObject(static_cast<unsigned>(i)));
  }
  const auto health = route.getObject("healthCheck");
  require(health && health->has("path"), "no healthCheck in the answer");
  HealthSpec spec;
  spec.path = health->getValue<std::string>("path");
  spec.validate();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  std::string_view in = text(data, size);
  std::string_view line = take(in, '\n');
  AdminRequest request;
  request.method = std::string(take(line, ' '));
  const std::string_view target = take(line, ' ');
  if (!line.empty()) request.ifMatch = std::string(line);
  request.client = "127.0.0.1";
  request.body = std::string(in);
  try {
    // As AdminRequestHandler reads the request target.
    const Poco::URI uri{std::string(target)};
    request.path = uri.getPath();
    request.query = uri.getQueryParameters();
  } catch (const Poco::Exception&) {
    return 0;  // the handler answers 400 before the API sees the request
  }
  AdminApi& api = fixture.api();
  const auto revision = fixture.store().revision();
  const AdminResponse answer = api.handle(request);

  static const std::set<int> documented{200, 201, 400, 404, 405, 409, 412};
  require(documented.count(answer.status) == 1, "undocumented status",
          std::to_string(answer.status) + " " + answer.body);
  require(isValidUtf8(answer.body), "answer is not UTF-8", answer.body);
  Poco::JSON::Object::Ptr object;
  try {
    object = parseStrictJson(answer.body, 64).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    fail("answer is not a JSON object", answer.body);
  }
  if (answer.status >= 400) {
    require(object->has("error") && object->get("error").isString(), "no error text", answer.body);
    requireMessage(object->getValue<std::string>("error"));
    require(fixture.store().revision() == revision, "a refused request changed the store",
            answer.body);
  } else if (answer.status == 201) {
    checkStoredRoute(*object);
  } else if (request.method == "PATCH") {
    checkStoredTarget(*object);
  } else if (const auto routes = object->getArray("routes")) {
    for (std::size_t i = 0; i < routes->size(); ++i)
      checkStoredRoute(*routes->getObject(static_cast<unsigned>(i)));
  }
  return 0;
}
