#include "metrics/ProcessMetrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace portico::metrics {
namespace {

/// The fields of /proc/<pid>/stat after the command name (which may hold spaces and parens).
std::vector<std::string> statFields(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  std::string f;
  while (rest >> f) fields.push_back(f);
  return fields;
}

std::optional<double> bootTime(const std::string& procStat) {
  std::ifstream in(procStat);
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      if (in >> t) return t;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::optional<std::uint64_t> openFds(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  // The directory stream's own descriptor is listed while it is read: it is not counted.
  const std::string own = std::to_string(::dirfd(d));
  std::uint64_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.' && own != e->d_name) ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

ProcessMetrics::ProcessMetrics(std::string procSelf, std::string procStat)
    : self_(std::move(procSelf)), stat_(std::move(procStat)) {}

void ProcessMetrics::collect(Exposition& out) const {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // Field numbers from proc(5), counted from 3 (state) as fields[0].
  const auto f = statFields(self_ + "/stat");
  if (f.size() > 21) {
    const double utime = std::stod(f[11]);
    const double stime = std::stod(f[12]);
    out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               "counter");
    out.sample("process_cpu_seconds_total", {}, (utime + stime) / ticks);
    out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
    out.sample("process_virtual_memory_bytes", {}, static_cast<std::uint64_t>(std::stoull(f[20])));
    out.family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    out.sample("process_resident_memory_bytes", {}, std::stod(f[21]) * page);
    if (const auto boot = bootTime(stat_)) {
      out.family("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", "gauge");
      out.sample("process_start_time_seconds", {}, *boot + std::stod(f[19]) / ticks);
    }
  }
  if (const auto fds = openFds(self_ + "/fd")) {
    out.family("process_open_fds", "Number of open file descriptors.", "gauge");
    out.sample("process_open_fds", {}, *fds);
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.family("process_max_fds", "Maximum number of open file descriptors.", "gauge");
    out.sample("process_max_fds", {}, static_cast<std::uint64_t>(limit.rlim_cur));
  }
}

}  // namespace portico::metrics
