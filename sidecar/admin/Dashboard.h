#pragma once

#include <map>
#include <optional>
#include <string>

#include "admin/AdminApi.h"

namespace portico {

/// The status page the sidecar serves at `/`: static HTML, CSS and JavaScript compiled into the
/// binary (from sidecar/dashboard/), nothing loaded from another host. The files hold no data:
/// the page reads and changes everything through the admin API, with the bearer token when one
/// is set (it asks for it), so serving them needs no token.
class Dashboard {
 public:
  /// `adminPrefix` is where the page finds the API (admin.prefix).
  explicit Dashboard(const std::string& adminPrefix);

  /// The answer for one of the page's paths (`/`, `/index.html`, `/dashboard.css`,
  /// `/dashboard.js`: 200, or 405 for another method than GET/HEAD); nothing for other paths.
  std::optional<AdminResponse> answer(const std::string& method, const std::string& path) const;

  /// sidecar/dashboard/* by file name (generated at build time).
  static const std::map<std::string, std::string>& embeddedFiles();

 private:
  struct File {
    std::string contentType;
    std::string body;
  };
  std::map<std::string, File> files_;  // by request path
};

}  // namespace portico
