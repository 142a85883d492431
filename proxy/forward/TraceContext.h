#pragma once

#include <cstddef>
#include <string_view>

#include "forward/RequestId.h"

namespace portico {

/// W3C Trace Context (https://www.w3.org/TR/trace-context/) at the proxy, so that targets can
/// join a client's trace: a valid `traceparent` is forwarded unchanged, with its `tracestate`;
/// an absent one is started here (a new trace id and parent id, sampled for `proxy.trace_sample`
/// of the requests); a malformed one is replaced by a new one and its `tracestate` dropped, as
/// §3.3.1 says ("the vendor MUST discard tracestate" when traceparent cannot be parsed). The
/// proxy records no spans of its own: the parent id it starts is the client's side of the hop.
/// The trace id goes in the access log. No allocation: the value lives in the object.
class TraceContext {
 public:
  static constexpr std::string_view kParentHeader = "traceparent";
  static constexpr std::string_view kStateHeader = "tracestate";
  /// A version-00 traceparent: "00-" trace id (32 hex) "-" parent id (16 hex) "-" flags (2 hex).
  static constexpr std::size_t kLength = 55;

  /// `incoming`: the client's traceparent, empty when it sent none (or several, which §3.2
  /// makes invalid). `sampleRate` (0 to 1): the share of started traces flagged sampled. `ids`:
  /// the random source (the thread's).
  TraceContext(std::string_view incoming, double sampleRate, RequestIdGenerator& ids);
  TraceContext(const TraceContext&) = delete;
  TraceContext& operator=(const TraceContext&) = delete;

  /// The traceparent the target gets.
  std::string_view traceparent() const { return value_; }
  /// Its trace id (32 hex digits), for the access log.
  std::string_view traceId() const { return value_.substr(3, 32); }
  /// True when the value is the proxy's (started or replaced): the client's traceparent and
  /// tracestate must then not be forwarded.
  bool started() const { return started_; }
  bool sampled() const;

  /// Whether `value` is a traceparent a participant may continue: version 00 exactly as
  /// specified, a later version by its first 55 characters (and "-" after them if longer);
  /// lower-case hex, no all-zero ids, never version ff.
  static bool valid(std::string_view value);
  /// Whether the header `name` (any case) is traceparent or tracestate.
  static bool isTraceHeader(std::string_view name);

 private:
  char buffer_[kLength];
  std::string_view value_;
  bool started_{false};
};

}  // namespace portico
