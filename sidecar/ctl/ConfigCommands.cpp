#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "ctl/AnswerTables.h"
#include "ctl/Commands.h"
#include "ctl/YamlJson.h"

namespace portico::ctl {

namespace {

std::string readInput(CommandContext& ctx, const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << ctx.in.rdbuf();
    return text.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError("cannot read " + path);
  text << file.rdbuf();
  return text.str();
}

/// The file of -f as the JSON that PUT /endpoints/config takes: YAML or JSON in, the
/// "revision" that `config get` wrote left out (the write names its revision in If-Match).
std::string configBody(CommandContext& ctx) {
  const std::string path = ctx.inv.option("-f");
  std::string json;
  try {
    json = yamlToJson(readInput(ctx, path));
  } catch (const DocumentError& e) {
    throw UsageError(path + ": " + e.what());
  }
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  auto object = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  if (!object) throw UsageError(path + ": not a configuration document (an object)");
  object->remove("revision");
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

std::size_t changeCount(const ApiReply& reply) {
  auto object = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  auto changes = object ? object->getArray("changes") : nullptr;
  return changes ? changes->size() : 0;
}

std::string revisionOf(const ApiReply& reply) {
  std::string etag = reply.etag;
  if (etag.size() >= 2 && etag.front() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag.empty() ? "?" : etag;
}

/// Shows what `method path body` would change, then, unless --dry-run or nothing would,
/// makes the change with If-Match on the revision the preview was computed at: a write that
/// slipped in between is a 412 (exit 3), never a silent overwrite.
int previewThenWrite(CommandContext& ctx, const std::string& method, const std::string& path,
                     const std::string& body) {
  const auto preview = ctx.api.expect(method, path + "?dryRun=true", body);
  const bool write = !ctx.inv.has("--dry-run") && changeCount(preview) > 0;
  if (!write) {
    ctx.out << (ctx.json() ? preview.body + "\n" : diffTable(preview.body));
    return 0;
  }
  if (!ctx.json()) ctx.out << diffTable(preview.body);
  // Every admin answer carries its ETag; without one, write unconditionally rather than send
  // an empty If-Match (a 400).
  std::map<std::string, std::string> ifMatch;
  if (!preview.etag.empty()) ifMatch["If-Match"] = preview.etag;
  const auto done = ctx.api.expect(method, path, body, ifMatch);
  if (ctx.json())
    ctx.out << done.body << "\n";
  else
    ctx.out << "applied: revision " << revisionOf(done) << "\n";
  return 0;
}

}  // namespace

int runConfigGet(CommandContext& ctx) {
  const auto reply = ctx.api.expect("GET", "/endpoints/config");
  ctx.out << (ctx.json() ? reply.body + "\n" : jsonToYaml(reply.body));
  return 0;
}

int runConfigDiff(CommandContext& ctx) {
  const auto preview = ctx.api.expect("PUT", "/endpoints/config?dryRun=true", configBody(ctx));
  ctx.out << (ctx.json() ? preview.body + "\n" : diffTable(preview.body));
  return 0;
}

int runConfigApply(CommandContext& ctx) {
  return previewThenWrite(ctx, "PUT", "/endpoints/config", configBody(ctx));
}

int runRevert(CommandContext& ctx) {
  const std::string body = "{\"revision\":" + ctx.inv.args.at(0) + "}";
  return previewThenWrite(ctx, "POST", "/endpoints/revert", body);
}

}  // namespace portico::ctl
