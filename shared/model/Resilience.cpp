#include "model/Resilience.h"

#include <Poco/JSON/Array.h>

#include "base/Duration.h"
#include "base/Errors.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"

namespace portico {
namespace {

using Poco::JSON::Object;

constexpr RetryReason kReasons[] = {
    kRetryConnectFailure, kRetryReset, kRetryTimeout, kRetry502, kRetry503, kRetry504};
// Ejections grow with their number but stop here (Envoy's max_ejection_time default).
constexpr std::chrono::milliseconds kMaxEjectionTime{300000};

void readRetries(const Object& o, RetryPolicy& r) {
  requireKnownFields(o, {"attempts", "on", "perTryTimeout", "budgetPercent", "nonIdempotent"},
                     "retries.");
  if (present(o, "attempts"))
    r.attempts = static_cast<int>(
        integerField(o, "attempts", "retries.attempts", 0, RetryPolicy::kMaxAttempts));
  if (present(o, "on")) {
    unsigned on = 0;
    for (const auto& name : stringListField(o, "on", "retries.on")) {
      unsigned bit = 0;
      for (const RetryReason reason : kReasons)
        if (name == retryReasonName(reason)) bit = reason;
      if (bit == 0)
        throw InvalidInput(invalidFieldMessage(
            "retries.on",
            "unknown reason '" + name + "' (connect-failure, reset, timeout, 502, 503 or 504)"));
      on |= bit;
    }
    r.on = on;
  }
  if (present(o, "perTryTimeout"))
    r.perTryTimeout = durationField(o, "perTryTimeout", "retries.perTryTimeout");
  if (present(o, "budgetPercent"))
    r.budgetPercent =
        static_cast<int>(integerField(o, "budgetPercent", "retries.budgetPercent", 1, 100));
  if (present(o, "nonIdempotent"))
    r.nonIdempotent = boolField(o, "nonIdempotent", "retries.nonIdempotent");
}

void readOutlier(const Object& o, OutlierPolicy& p) {
  requireKnownFields(o, {"consecutiveErrors", "errors", "baseEjectionTime", "maxEjectionPercent"},
                     "outlierDetection.");
  if (present(o, "consecutiveErrors"))
    p.consecutiveErrors = static_cast<int>(
        integerField(o, "consecutiveErrors", "outlierDetection.consecutiveErrors", 0, 1000));
  if (present(o, "errors")) {
    const std::string errors = stringField(o, "errors", "outlierDetection.errors");
    if (errors != "gateway" && errors != "5xx")
      throw InvalidInput(
          invalidFieldMessage("outlierDetection.errors", "must be \"gateway\" or \"5xx\""));
    p.anyServerError = errors == "5xx";
  }
  if (present(o, "baseEjectionTime")) {
    const auto t = durationField(o, "baseEjectionTime", "outlierDetection.baseEjectionTime");
    if (t < std::chrono::seconds(1) || t > kMaxEjectionTime)
      throw InvalidInput(
          invalidFieldMessage("outlierDetection.baseEjectionTime", "must be between 1s and 300s"));
    p.baseEjectionTime = t;
  }
  if (present(o, "maxEjectionPercent"))
    p.maxEjectionPercent = static_cast<int>(
        integerField(o, "maxEjectionPercent", "outlierDetection.maxEjectionPercent", 0, 100));
}

void readRateLimit(const Object& o, RateLimitPolicy& p) {
  requireKnownFields(o, {"requestsPerSecond", "burst", "by"}, "rateLimit.");
  if (present(o, "requestsPerSecond"))
    p.requestsPerSecond = static_cast<int>(
        integerField(o, "requestsPerSecond", "rateLimit.requestsPerSecond", 0, 1000000));
  if (present(o, "burst"))
    p.burst = static_cast<int>(integerField(o, "burst", "rateLimit.burst", 0, 1000000));
  if (present(o, "by")) {
    const std::string by = stringField(o, "by", "rateLimit.by");
    if (by != "client" && by != "route")
      throw InvalidInput(invalidFieldMessage("rateLimit.by", "must be \"client\" or \"route\""));
    p.byClient = by == "client";
  }
}

}  // namespace

const char* retryReasonName(RetryReason reason) {
  switch (reason) {
    case kRetryConnectFailure:
      return "connect-failure";
    case kRetryReset:
      return "reset";
    case kRetryTimeout:
      return "timeout";
    case kRetry502:
      return "502";
    case kRetry503:
      return "503";
    case kRetry504:
      return "504";
  }
  return "?";
}

unsigned retryReasonOfStatus(int status) {
  switch (status) {
    case 502:
      return kRetry502;
    case 503:
      return kRetry503;
    case 504:
      return kRetry504;
    default:
      return 0;
  }
}

const std::set<std::string>& ResiliencePolicy::fields() {
  static const std::set<std::string> names = {"retries", "outlierDetection", "maxRequests",
                                              "rateLimit"};
  return names;
}

void ResiliencePolicy::read(const Object& body) {
  if (present(body, "retries")) readRetries(*objectField(body, "retries", "retries"), retries);
  if (present(body, "outlierDetection"))
    readOutlier(*objectField(body, "outlierDetection", "outlierDetection"), outlier);
  if (present(body, "maxRequests"))
    maxRequests =
        static_cast<int>(integerField(body, "maxRequests", "maxRequests", 0, kMaxRequests));
  if (present(body, "rateLimit"))
    readRateLimit(*objectField(body, "rateLimit", "rateLimit"), rateLimit);
}

void ResiliencePolicy::write(Object& out) const {
  auto r = jsonObject();
  r->set("attempts", retries.attempts);
  Poco::JSON::Array::Ptr on = new Poco::JSON::Array;
  for (const RetryReason reason : kReasons)
    if (retries.retriesOn(reason)) on->add(std::string(retryReasonName(reason)));
  r->set("on", on);
  r->set("perTryTimeout", formatDuration(retries.perTryTimeout));
  r->set("budgetPercent", retries.budgetPercent);
  r->set("nonIdempotent", retries.nonIdempotent);
  out.set("retries", r);
  auto o = jsonObject();
  o->set("consecutiveErrors", outlier.consecutiveErrors);
  o->set("errors", std::string(outlier.anyServerError ? "5xx" : "gateway"));
  o->set("baseEjectionTime", formatDuration(outlier.baseEjectionTime));
  o->set("maxEjectionPercent", outlier.maxEjectionPercent);
  out.set("outlierDetection", o);
  out.set("maxRequests", maxRequests);
  auto l = jsonObject();
  l->set("requestsPerSecond", rateLimit.requestsPerSecond);
  l->set("burst", rateLimit.burst);
  l->set("by", std::string(rateLimit.byClient ? "client" : "route"));
  out.set("rateLimit", l);
}

bool RetryPolicy::operator==(const RetryPolicy& o) const {
  return attempts == o.attempts && on == o.on && perTryTimeout == o.perTryTimeout &&
         budgetPercent == o.budgetPercent && nonIdempotent == o.nonIdempotent;
}

bool OutlierPolicy::operator==(const OutlierPolicy& o) const {
  return consecutiveErrors == o.consecutiveErrors && anyServerError == o.anyServerError &&
         baseEjectionTime == o.baseEjectionTime && maxEjectionPercent == o.maxEjectionPercent;
}

bool RateLimitPolicy::operator==(const RateLimitPolicy& o) const {
  return requestsPerSecond == o.requestsPerSecond && burst == o.burst && byClient == o.byClient;
}

bool ResiliencePolicy::operator==(const ResiliencePolicy& o) const {
  return retries == o.retries && outlier == o.outlier && maxRequests == o.maxRequests &&
         rateLimit == o.rateLimit;
}
}  // namespace portico
