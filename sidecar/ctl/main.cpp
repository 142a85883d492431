// portico-ctl: the command line of the admin API (docs/ctl.md). It speaks HTTP to a sidecar
// and nothing else: no store, no admin code.

#include <cstdlib>
#include <iostream>

#include "ctl/CtlMain.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return portico::ctl::runCtl(
      args,
      [](const std::string& name) {
        const char* value = std::getenv(name.c_str());
        return std::string(value ? value : "");
      },
      std::cin, std::cout, std::cerr);
}
