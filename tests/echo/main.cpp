// portico-echo --port=N [--host=127.0.0.1] [--name=NAME] [--threads=64]
//              [--tls-cert=PEM --tls-key=PEM]: the test/demo backend (HTTPS with both files).

#include <Poco/Exception.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "echo/EchoServer.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "portico-echo: " << problem << "\n"
            << "usage: portico-echo --port=N [--host=127.0.0.1] [--name=NAME] [--threads=64]\n"
               "                    [--tls-cert=PEM --tls-key=PEM]\n";
  return 64;
}

bool valueOf(const std::string& arg, const std::string& flag, std::string& out) {
  if (arg.rfind(flag + "=", 0) != 0) return false;
  out = arg.substr(flag.size() + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  portico::echo::EchoOptions options;
  bool havePort = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    try {
      if (valueOf(arg, "--port", value)) {
        const int port = std::stoi(value);
        if (port < 0 || port > 65535) return usage("bad --port " + value);
        options.port = static_cast<std::uint16_t>(port);
        havePort = true;
      } else if (valueOf(arg, "--host", value)) {
        options.host = value;
      } else if (valueOf(arg, "--name", value)) {
        options.name = value;
      } else if (valueOf(arg, "--threads", value)) {
        options.threads = std::stoi(value);
        if (options.threads < 1) return usage("bad --threads " + value);
      } else if (valueOf(arg, "--tls-cert", value)) {
        options.tlsCertificate = value;
      } else if (valueOf(arg, "--tls-key", value)) {
        options.tlsKey = value;
      } else if (arg == "--help" || arg == "-h") {
        std::cout
            << "usage: portico-echo --port=N [--host=127.0.0.1] [--name=NAME] [--threads=64]\n"
               "                    [--tls-cert=PEM --tls-key=PEM]\n";
        return 0;
      } else {
        return usage("unknown argument " + arg);
      }
    } catch (const std::exception&) {
      return usage("bad value in " + arg);
    }
  }
  if (!havePort) return usage("--port is required");
  if (options.tlsCertificate.empty() != options.tlsKey.empty())
    return usage("--tls-cert and --tls-key go together");

  // Block the stop signals before any thread starts so only sigwait below receives them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    portico::echo::EchoServer server(options);
    std::cout << "portico-echo " << server.name() << " listening on " << options.host << ":"
              << server.port() << std::endl;
    int signal = 0;
    sigwait(&stopSignals, &signal);
  } catch (const Poco::Exception& e) {
    std::cerr << "portico-echo: cannot serve on " << options.host << ":" << options.port << ": "
              << e.displayText() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "portico-echo: cannot serve on " << options.host << ":" << options.port << ": "
              << e.what() << std::endl;
    return 1;
  }
  return 0;
}
