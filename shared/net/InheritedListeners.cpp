#include "net/InheritedListeners.h"

#include <fcntl.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace portico::net {
namespace {

std::vector<InheritedListeners::Entry> fromSystemd() {
  char** names = nullptr;
  // unset_environment: the variables name this process's pid; a child must not take them.
  const int count = sd_listen_fds_with_names(1, &names);
  if (count < 0) throw std::runtime_error(std::string("LISTEN_FDS: ") + std::strerror(-count));
  std::vector<InheritedListeners::Entry> out;
  for (int i = 0; i < count; ++i) {
    out.push_back({names && names[i] ? names[i] : "unknown", SD_LISTEN_FDS_START + i});
    if (names) std::free(names[i]);
  }
  std::free(static_cast<void*>(names));
  return out;
}

}  // namespace

InheritedListeners InheritedListeners::fromEnvironment() {
  std::vector<Entry> entries;
  std::string source;
  if (const char* found = std::getenv(kVariable)) {
    const std::string value = found;
    ::unsetenv(kVariable);
    try {
      entries = parse(value);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string(kVariable) + ": " + e.what());
    }
    source = "the previous process";
  } else {
    entries = fromSystemd();
    source = "systemd";
  }
  for (const Entry& e : entries) {
    if (sd_is_socket(e.fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
      throw std::runtime_error("inherited descriptor " + std::to_string(e.fd) + " (" + e.name +
                               ") is not a listening stream socket");
    // Ours alone from here: not passed on to any program this one starts.
    ::fcntl(e.fd, F_SETFD, FD_CLOEXEC);
  }
  return InheritedListeners(std::move(entries), source);
}

std::vector<InheritedListeners::Entry> InheritedListeners::parse(const std::string& value) {
  std::vector<Entry> out;
  std::istringstream in(value);
  std::string item;
  while (in >> item) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      throw std::invalid_argument("expected name:descriptor, not '" + item + "'");
    const std::string digits = item.substr(colon + 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9)
      throw std::invalid_argument("not a descriptor number in '" + item + "'");
    const int fd = std::stoi(digits);
    if (fd < 3) throw std::invalid_argument("descriptor " + digits + " is a standard stream");
    for (const Entry& e : out) {
      if (e.fd == fd) throw std::invalid_argument("descriptor " + digits + " given twice");
    }
    out.push_back({item.substr(0, colon), fd});
  }
  return out;
}

std::string InheritedListeners::format(const std::vector<Entry>& entries) {
  std::string out;
  for (const Entry& e : entries)
    out += (out.empty() ? "" : " ") + e.name + ":" + std::to_string(e.fd);
  return out;
}

InheritedListeners::InheritedListeners(std::vector<Entry> entries, std::string source)
    : entries_(std::move(entries)), source_(std::move(source)) {}

InheritedListeners::~InheritedListeners() {
  for (const Entry& e : entries_) ::close(e.fd);
}

std::vector<FileDescriptor> InheritedListeners::take(const std::string& name) {
  std::vector<FileDescriptor> out;
  std::vector<Entry> rest;
  for (const Entry& e : entries_) {
    if (e.name == name) {
      out.emplace_back(e.fd);
    } else {
      rest.push_back(e);
    }
  }
  entries_ = std::move(rest);
  return out;
}

std::vector<FileDescriptor> InheritedListeners::takeRest() {
  std::vector<FileDescriptor> out;
  for (const Entry& e : entries_) out.emplace_back(e.fd);
  entries_.clear();
  return out;
}

void setNonBlocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

}  // namespace portico::net
