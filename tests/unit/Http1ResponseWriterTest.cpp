#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>

#include "forward/ErrorReply.h"
#include "forward/ForwardingPolicy.h"
#include "forward/ResponseHead.h"
#include "http/HttpHead.h"
#include "loop/Http1ResponseWriter.h"
#include "net/Outbox.h"
#include "routing/RouteTable.h"

using portico::ErrorReply;
using portico::ForwardingPolicy;
using portico::Http1ResponseWriter;
using portico::ProxyContext;
using portico::ResponseHead;
using portico::Route;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;
using portico::TrustedProxies;
using portico::UpstreamTimeouts;
using portico::http::HttpHead;

namespace {

HttpHead request(int minor, bool websocket = false) {
  HttpHead h;
  h.setMethod(h.own("GET"));
  h.setTarget(h.own("/p/x"));
  h.setVersion(1, minor);
  h.addOwned("Host", "example");
  if (websocket) {
    h.addOwned("Connection", "Upgrade");
    h.addOwned("Upgrade", "websocket");
    h.addOwned("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    h.addOwned("Sec-WebSocket-Version", "13");
  }
  return h;
}

HttpHead response(int status, const char* reason) {
  HttpHead h;
  h.setStatus(status);
  h.setReason(h.own(reason));
  h.setVersion(1, 1);
  h.addOwned("Server", "target");
  h.addOwned("X-App", "yes");
  return h;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

/// The response heads an HTTP/1.1 client gets, from the exchange's ready ResponseHead or the
/// proxy's own ErrorReply, and the framing of the body behind them: when the connection stays,
/// when a body is chunked, and the 101 of an upgrade.
class Http1ResponseWriterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Http1ResponseWriterTest);
  CPPUNIT_TEST(testHeadWithLengthKeptAlive);
  CPPUNIT_TEST(testClientSideClosesTheConnection);
  CPPUNIT_TEST(testUnknownLengthIsChunked);
  CPPUNIT_TEST(testTrailersEndAChunkedBody);
  CPPUNIT_TEST(testHttp10ClientClosedByTheResponse);
  CPPUNIT_TEST(testErrorReply);
  CPPUNIT_TEST(testSwitchingProtocols);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    context_ = std::make_unique<ProxyContext>(
        ProxyContext{UpstreamTimeouts{}, TrustedProxies({}), nullptr, nullptr});
    RouteRecord r;
    r.prefix = "/p/";
    TargetRecord t;
    t.id = 1;
    t.url = "http://a:1";
    r.targets.push_back(t);
    table_ = RouteTable::build({r}, nullptr, 1);
  }
  void tearDown() override {
    table_.reset();
    context_.reset();
  }

  void testHeadWithLengthKeptAlive() {
    const HttpHead req = request(1);
    ForwardingPolicy policy = make(req);
    HttpHead up = response(200, "OK");
    up.addOwned("Content-Length", "5");
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    net().clear();
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.head(ResponseHead(policy, up, plan), true, scratch);
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 200 OK\r\n"), scratch.substr(0, 17));
    CPPUNIT_ASSERT(contains(scratch, "\r\nServer: target\r\n"));
    CPPUNIT_ASSERT(contains(scratch, "\r\nX-App: yes\r\n"));
    CPPUNIT_ASSERT(contains(scratch, "\r\nContent-Length: 5\r\n"));
    CPPUNIT_ASSERT(!contains(scratch, "Connection:"));
    CPPUNIT_ASSERT(!writer.closeAfter());
    CPPUNIT_ASSERT_EQUAL(scratch.size(), net().pending());
    writer.body("hello");  // as it is: the length frames it
    CPPUNIT_ASSERT_EQUAL(scratch.size() + 5, net().pending());
  }

  void testClientSideClosesTheConnection() {
    const HttpHead req = request(1);
    ForwardingPolicy policy = make(req);
    HttpHead up = response(200, "OK");
    up.addOwned("Content-Length", "0");
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.head(ResponseHead(policy, up, plan), false, scratch);
    CPPUNIT_ASSERT(contains(scratch, "\r\nConnection: close\r\n\r\n"));
    CPPUNIT_ASSERT(writer.closeAfter());
  }

  void testUnknownLengthIsChunked() {
    const HttpHead req = request(1);
    ForwardingPolicy policy = make(req);
    const HttpHead up = response(200, "OK");  // delimited by the target's close
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    net().clear();
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.head(ResponseHead(policy, up, plan), true, scratch);
    CPPUNIT_ASSERT(contains(scratch, "\r\nTransfer-Encoding: chunked\r\n"));
    CPPUNIT_ASSERT(!writer.closeAfter());
    const std::size_t headBytes = net().pending();
    writer.body("hello");  // "5\r\n" "hello" "\r\n"
    CPPUNIT_ASSERT_EQUAL(headBytes + 10, net().pending());
    writer.body("");  // never the last chunk by accident
    CPPUNIT_ASSERT_EQUAL(headBytes + 10, net().pending());
    writer.end();  // "0\r\n\r\n"
    CPPUNIT_ASSERT_EQUAL(headBytes + 15, net().pending());
  }

  void testTrailersEndAChunkedBody() {
    const HttpHead req = request(1);
    ForwardingPolicy policy = make(req);
    const HttpHead up = response(200, "OK");
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    net().clear();
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.head(ResponseHead(policy, up, plan), true, scratch);
    const std::size_t headBytes = net().pending();
    HttpHead trailers;
    trailers.addOwned("grpc-status", "0");
    trailers.addOwned("content-length", "5");  // no framing field in a trailer section
    trailers.addOwned("x-served-by", "g1");
    writer.trailers(trailers, scratch);
    const std::string section = "0\r\ngrpc-status: 0\r\nx-served-by: g1\r\n\r\n";
    CPPUNIT_ASSERT_EQUAL(section, scratch);
    CPPUNIT_ASSERT_EQUAL(headBytes + section.size(), net().pending());
    writer.end();  // the last chunk went with the trailers
    CPPUNIT_ASSERT_EQUAL(headBytes + section.size(), net().pending());

    // A body delimited by its length has no trailer section.
    HttpHead sized = response(200, "OK");
    sized.addOwned("Content-Length", "5");
    const ForwardingPolicy::Response sizedPlan = policy.planResponse(sized);
    net().clear();
    writer.head(ResponseHead(policy, sized, sizedPlan), true, scratch);
    const std::size_t sizedHead = net().pending();
    writer.trailers(trailers, scratch);
    writer.end();
    CPPUNIT_ASSERT_EQUAL(sizedHead, net().pending());
  }

  void testHttp10ClientClosedByTheResponse() {
    // An HTTP/1.0 client cannot take chunks: the close ends the body, whatever it asked for.
    const HttpHead req = request(0);
    ForwardingPolicy policy = make(req);
    const HttpHead up = response(200, "OK");
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    net().clear();
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.head(ResponseHead(policy, up, plan), true, scratch);
    CPPUNIT_ASSERT(writer.closeAfter());
    CPPUNIT_ASSERT(!contains(scratch, "chunked"));
    CPPUNIT_ASSERT(contains(scratch, "\r\nConnection: close\r\n"));
    const std::size_t headBytes = net().pending();
    writer.body("hello");
    writer.end();
    CPPUNIT_ASSERT_EQUAL(headBytes + 5, net().pending());
  }

  void testErrorReply() {
    net().clear();
    Http1ResponseWriter writer(net());
    std::string scratch;
    const ErrorReply reply(413, "too large");
    writer.error(reply, false, scratch);
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 413 "), scratch.substr(0, 13));
    CPPUNIT_ASSERT(contains(scratch, "\r\nConnection: close\r\n\r\n" + reply.body()));
    CPPUNIT_ASSERT(writer.closeAfter());
    CPPUNIT_ASSERT_EQUAL(scratch.size(), net().pending());
    writer.error(reply, true, scratch);
    CPPUNIT_ASSERT(!writer.closeAfter());
    CPPUNIT_ASSERT(!contains(scratch, "Connection:"));
  }

  void testSwitchingProtocols() {
    const HttpHead req = request(1, true);
    ForwardingPolicy policy = make(req);
    HttpHead up = response(101, "Switching Protocols");
    up.addOwned("Connection", "Upgrade");
    up.addOwned("Upgrade", "websocket");
    up.addOwned("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const ForwardingPolicy::Response plan = policy.planResponse(up);
    CPPUNIT_ASSERT(plan.upgrade);
    Http1ResponseWriter writer(net());
    std::string scratch;
    writer.switching(ResponseHead(policy, up, plan), scratch);
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101 Switching Protocols\r\n"),
                         scratch.substr(0, 34));
    CPPUNIT_ASSERT(contains(scratch, "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
    CPPUNIT_ASSERT(contains(scratch, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    CPPUNIT_ASSERT(!writer.closeAfter());
  }

 private:
  ForwardingPolicy make(const HttpHead& req) {
    const Route& route = *table_->find("/p/");
    return ForwardingPolicy(*context_, route, req, "", "10.0.0.9", false, false);
  }
  portico::net::Outbox& net() { return out_; }

  std::unique_ptr<ProxyContext> context_;
  std::shared_ptr<const RouteTable> table_;
  portico::net::Outbox out_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(Http1ResponseWriterTest);
