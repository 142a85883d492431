#pragma once

#include <memory>

#include "app/PorticoApplication.h"
#include "net/Socket.h"

namespace portico::net {
class TlsClientConfig;
}

namespace portico {

class Store;

/// portico-sidecar: the admin REST API and the active health checker over the shared store.
class SidecarApplication : public PorticoApplication {
 public:
  SidecarApplication();
  using Poco::Util::ServerApplication::run;  // run(argc, argv) for POCO_SERVER_MAIN

 protected:
  int run(const Settings& settings) override;

 private:
  /// Runs the health checker and the admin listener on `socket` until terminated.
  void serve(const Settings& settings, Store& store,
             std::shared_ptr<const net::TlsClientConfig> tls, net::FileDescriptor socket);
};

}  // namespace portico
