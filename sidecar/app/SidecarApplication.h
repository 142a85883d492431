#pragma once

#include "app/PorticoApplication.h"

namespace portico {

/// portico-sidecar: the admin REST API and the active health checker over the shared store.
class SidecarApplication : public PorticoApplication {
 public:
  SidecarApplication();
  using Poco::Util::ServerApplication::run;  // run(argc, argv) for POCO_SERVER_MAIN

 protected:
  int run(const Settings& settings) override;
};

}  // namespace portico
