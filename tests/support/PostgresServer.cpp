#include "support/PostgresServer.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace portico::test {
namespace {

/// The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres ("" if none).
std::string findBinDir() {
  namespace fs = std::filesystem;
  std::string best;
  int bestVersion = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "postgres")) continue;
    int version = 0;
    try {
      version = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
    }
    if (version > bestVersion) {
      bestVersion = version;
      best = bin.string();
    }
  }
  return best;
}

}  // namespace

PostgresServer::PostgresServer() {
  bin_ = findBinDir();
  if (bin_.empty())
    throw std::runtime_error(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install Debian's "
        "postgresql package (scripts/deps.sh does) to run the PostgreSQL store tests");
  root_ = ::geteuid() == 0;
  const std::string cluster = dir_.file("pg");
  std::filesystem::create_directories(cluster);
  if (root_) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw)
      throw std::runtime_error(
          "running as root, and there is no 'postgres' user to run the PostgreSQL server as "
          "(it refuses root): install Debian's postgresql package, which creates it");
    // The temporary directory is root's (0700): let the server user through to its own part.
    ::chmod(dir_.path().c_str(), 0755);
    if (::chown(cluster.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot give " + cluster + " to the postgres user");
  }
  data_ = cluster + "/data";
  const auto argv = asServerUser(
      bin_ + "/initdb", {"-D", data_, "-U", "portico", "--auth=trust", "-E", "UTF8", "--no-sync"});
  ChildProcess initdb(argv.front(), std::vector<std::string>(argv.begin() + 1, argv.end()),
                      dir_.file("initdb.log"), cluster);
  const auto status = initdb.wait(std::chrono::seconds(120));
  if (!status || *status != 0) throw std::runtime_error("initdb failed: " + initdb.log());
  port_ = freePort();
  start();
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (const std::exception&) {
  }
}

std::vector<std::string> PostgresServer::asServerUser(const std::string& program,
                                                      const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  if (root_) {
    // setpriv execs the program itself (no process in between), so the test's ChildProcess is
    // the server and a SIGINT or SIGKILL reaches it.
    argv = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"};
  }
  argv.push_back(program);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void PostgresServer::start() {
  const auto argv = asServerUser(
      bin_ + "/postgres",
      {"-D", data_, "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c",
       "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
       "full_page_writes=off", "-c", "max_connections=200"});
  server_ = std::make_unique<ChildProcess>(argv.front(),
                                           std::vector<std::string>(argv.begin() + 1, argv.end()),
                                           dir_.file("server.log"), dir_.file("pg"));
  const bool up = waitUntil(
      [&] {
        if (!server_->running()) return true;
        PGconn* c = PQconnectdb((url("postgres") + "?connect_timeout=2").c_str());
        const bool ok = PQstatus(c) == CONNECTION_OK;
        PQfinish(c);
        return ok;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50));
  if (!up || !server_->running())
    throw std::runtime_error("the PostgreSQL server did not start: " + server_->log());
}

void PostgresServer::stop() {
  if (!server_ || !server_->running()) return;
  // SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
  ::kill(server_->pid(), SIGINT);
  if (!server_->wait(std::chrono::seconds(30))) server_->kill9();
  server_.reset();
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://portico@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::createDatabase() {
  const std::string name = "portico_test_" + std::to_string(++databases_);
  query(url("postgres"), "CREATE DATABASE " + name);
  return url(name);
}

std::string PostgresServer::query(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to " + url + ": " + why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const std::string why = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    throw std::runtime_error(sql + ": " + why);
  }
  std::string out;
  for (int i = 0; i < PQntuples(r); ++i) {
    if (i) out += '\n';
    for (int j = 0; j < PQnfields(r); ++j) {
      if (j) out += '|';
      out += PQgetvalue(r, i, j);
    }
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

}  // namespace portico::test
