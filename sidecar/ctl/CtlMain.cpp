#include "ctl/CtlMain.h"

#include <iostream>

#include "ctl/Commands.h"

namespace portico::ctl {

int runCtl(const std::vector<std::string>& args, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err) {
  Invocation inv;
  try {
    inv = parseArgs(args, env);
    if (inv.help) {
      out << usageText(inv.spec);
      return 0;
    }
    const ApiClient api(inv.server, inv.token);
    CommandContext ctx{inv, api, out, in};
    return handlerFor(*inv.spec)(ctx);
  } catch (const UsageError& e) {
    err << "portico-ctl: " << e.what() << "\n";
    if (inv.spec) err << "usage: see portico-ctl " << inv.spec->name() << " --help\n";
    return 2;
  } catch (const ApiFailure& e) {
    err << "portico-ctl: " << e.what() << "\n";
    return e.exitCode();
  } catch (const SidecarUnreachable& e) {
    err << "portico-ctl: " << e.what() << "\n";
    return 4;
  } catch (const std::exception& e) {
    // An answer that is not what the API promises (not JSON, missing fields).
    err << "portico-ctl: unexpected answer: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace portico::ctl
