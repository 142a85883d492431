#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <ostream>
#include <sstream>

#include "ctl/AnswerTables.h"
#include "ctl/Commands.h"

namespace portico::ctl {

namespace {

std::string stringify(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Poco::JSON::Object routeBody(const CommandContext& ctx) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("prefixPath", ctx.inv.args.at(0));
  if (!ctx.inv.host.empty()) body.set("host", ctx.inv.host);
  return body;
}

/// The targets named after ROUTE; with --weight, as {"target", "weight"} objects.
Poco::JSON::Array::Ptr targetList(const CommandContext& ctx) {
  Poco::JSON::Array::Ptr targets = new Poco::JSON::Array();
  for (std::size_t i = 1; i < ctx.inv.args.size(); ++i) {
    if (!ctx.inv.has("--weight")) {
      targets->add(ctx.inv.args[i]);
      continue;
    }
    Poco::JSON::Object::Ptr t = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    t->set("target", ctx.inv.args[i]);
    t->set("weight", parseInteger(ctx.inv.option("--weight"), 0, 1000, "--weight"));
    targets->add(t);
  }
  return targets;
}

/// The answer's "message" (or, with -o json, the answer).
int printMessage(CommandContext& ctx, const ApiReply& reply) {
  if (ctx.json()) {
    ctx.out << reply.body << "\n";
    return 0;
  }
  auto object = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  ctx.out << object->optValue<std::string>("message", reply.body) << "\n";
  return 0;
}

/// PATCH /endpoints on the target ROUTE URL with `body`; prints the target as stored.
int patchTarget(CommandContext& ctx, const std::string& body) {
  QueryParams params = ctx.route(ctx.inv.args.at(0));
  params.emplace_back("target", ctx.inv.args.at(1));
  const auto reply = ctx.api.expect("PATCH", "/endpoints" + queryString(params), body);
  if (ctx.json())
    ctx.out << reply.body << "\n";
  else
    ctx.out << targetsTable("{\"targets\":[" + reply.body + "]}");
  return 0;
}

}  // namespace

int runRoutes(CommandContext& ctx) {
  // host= filters by host only when one is given (absent: every route).
  const auto reply =
      ctx.api.expect("GET", "/endpoints/routes" + queryString({{"host", ctx.inv.host}}));
  ctx.out << (ctx.json() ? reply.body + "\n" : routesTable(reply.body));
  return 0;
}

int runTargets(CommandContext& ctx) {
  const auto reply =
      ctx.api.expect("GET", "/endpoints/list" + queryString(ctx.route(ctx.inv.args.at(0))));
  ctx.out << (ctx.json() ? reply.body + "\n" : targetsTable(reply.body));
  return 0;
}

int runAdd(CommandContext& ctx) {
  auto body = routeBody(ctx);
  body.set("targets", targetList(ctx));
  return printMessage(ctx, ctx.api.expect("POST", "/endpoints/add", stringify(body)));
}

int runRemove(CommandContext& ctx) {
  auto body = routeBody(ctx);
  body.set("targets", targetList(ctx));
  return printMessage(ctx, ctx.api.expect("POST", "/endpoints/remove", stringify(body)));
}

int runWeight(CommandContext& ctx) {
  return patchTarget(
      ctx, "{\"weight\":" +
               std::to_string(parseInteger(ctx.inv.args.at(2), 0, 1000, "N (the weight)")) + "}");
}

int runState(CommandContext& ctx) {
  const std::string& command = ctx.inv.spec->words.front();
  const std::string state = command == "drain"    ? "draining"
                            : command == "enable" ? "active"
                                                  : "disabled";
  return patchTarget(ctx, "{\"state\":\"" + state + "\"}");
}

int runRouteCreate(CommandContext& ctx) {
  auto body = routeBody(ctx);
  body.set("targets", targetList(ctx));
  if (ctx.inv.has("--balancer")) body.set("balancer", ctx.inv.option("--balancer"));
  Poco::JSON::Object::Ptr health = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  if (ctx.inv.has("--health-type")) health->set("type", ctx.inv.option("--health-type"));
  if (ctx.inv.has("--health-path")) health->set("path", ctx.inv.option("--health-path"));
  if (ctx.inv.has("--health-interval"))
    health->set("interval", ctx.inv.option("--health-interval"));
  if (health->size() > 0) body.set("healthCheck", health);
  const auto reply = ctx.api.expect("POST", "/endpoints/routes", stringify(body));
  if (ctx.json()) {
    ctx.out << reply.body << "\n";
    return 0;
  }
  ctx.out << routesTable("{\"routes\":[" + reply.body + "]}");
  return 0;
}

int runRouteDelete(CommandContext& ctx) {
  const auto reply =
      ctx.api.expect("DELETE", "/endpoints/routes" + queryString(ctx.route(ctx.inv.args.at(0))));
  return printMessage(ctx, reply);
}

}  // namespace portico::ctl
