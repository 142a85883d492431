#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portico {

/// X-Request-Id values: 32 lower-case hex digits (128 bits, as nginx's $request_id), from a
/// generator each thread or event loop owns, so no lock and no allocation. The state is seeded
/// from the kernel's random source once per generator, then stepped with splitmix64: ids from
/// different generators do not collide in practice and the sequence is not guessable from one id.
class RequestIdGenerator {
 public:
  static constexpr std::size_t kLength = 32;
  /// The header the id travels in, both ways.
  static constexpr const char* kHeader = "X-Request-Id";
  /// Longest client-sent id passed through.
  static constexpr std::size_t kMaxIncoming = 200;

  RequestIdGenerator();
  /// A generator with a fixed seed (tests).
  explicit RequestIdGenerator(std::uint64_t seed) : state_(seed) {}

  /// Writes the next id into `out` and returns it as a view of `out`.
  std::string_view next(char (&out)[kLength]);

  /// The calling thread's generator (thread-per-connection code; an event loop owns one).
  static RequestIdGenerator& forThisThread();

  /// True when a client's id may be passed through as it is: 1 to kMaxIncoming visible ASCII
  /// characters without spaces, quotes or backslashes (so every log format keeps it intact).
  /// Otherwise the proxy replaces it with a generated one.
  static bool acceptable(std::string_view id);

 private:
  std::uint64_t step();
  std::uint64_t state_;
};

}  // namespace portico
