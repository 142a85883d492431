#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ctl/CtlArgs.h"

namespace portico::ctl {

/// The whole program: parses `args`, runs the command and maps every failure to its exit code
/// (0 ok, 1 the API refused, 2 usage, 3 conflict, 4 unreachable) with one line on `err`.
int runCtl(const std::vector<std::string>& args, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace portico::ctl
