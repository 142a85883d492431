#pragma once

#include <string>
#include <vector>

#include "net/Socket.h"

namespace portico::net {

/// Listening sockets a process was handed instead of binding its own: by systemd's socket
/// activation (`LISTEN_FDS`/`LISTEN_FDNAMES`, the names set by `FileDescriptorName=`), or by
/// the process it replaces in a binary upgrade (`PORTICO_LISTENERS`, descriptor numbers in the
/// environment as nginx passes them in `NGINX`). Both give the same sockets (the same accept
/// queues), so a connection waiting in a queue is accepted by whichever process serves next.
class InheritedListeners {
 public:
  /// The variable a binary upgrade passes: "name:fd name:fd ...", e.g. "http:5 http:6 status:9".
  static constexpr const char* kVariable = "PORTICO_LISTENERS";

  struct Entry {
    std::string name;
    int fd{-1};
    bool operator==(const Entry& o) const { return name == o.name && fd == o.fd; }
  };

  /// Takes the sockets named by PORTICO_LISTENERS or else by systemd, and unsets those variables
  /// (a later child must not see them). Each must be a listening stream socket; throws
  /// std::runtime_error otherwise. Empty when neither variable is set.
  static InheritedListeners fromEnvironment();
  /// PORTICO_LISTENERS' value as entries; throws std::invalid_argument when malformed.
  static std::vector<Entry> parse(const std::string& value);
  /// The entries as PORTICO_LISTENERS' value (parse's inverse).
  static std::string format(const std::vector<Entry>& entries);

  InheritedListeners() = default;
  InheritedListeners(std::vector<Entry> entries, std::string source);
  ~InheritedListeners();  // closes what nobody took
  InheritedListeners(InheritedListeners&&) = default;
  InheritedListeners& operator=(InheritedListeners&&) = default;
  InheritedListeners(const InheritedListeners&) = delete;
  InheritedListeners& operator=(const InheritedListeners&) = delete;

  bool empty() const { return entries_.empty(); }
  /// "systemd" or "the previous process" (for the log).
  const std::string& source() const { return source_; }
  /// The sockets named `name`, in the order given, now owned by the caller.
  std::vector<FileDescriptor> take(const std::string& name);
  /// Every socket not taken yet, whatever its name (systemd names a socket by its unit when
  /// the unit does not say FileDescriptorName=).
  std::vector<FileDescriptor> takeRest();

 private:
  std::vector<Entry> entries_;  // what is not taken yet; closed with this object
  std::string source_;
};

/// Sets or clears O_NONBLOCK (an inherited socket comes as its first owner made it).
void setNonBlocking(int fd, bool on);

}  // namespace portico::net
