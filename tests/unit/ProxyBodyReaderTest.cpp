#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>

#include "module/BodyReader.h"

using portico::BodyReader;
using portico::BodyTruncated;
using Framing = portico::BodyReader::Framing;

namespace {

/// A loopback connection: raw bytes written on one end, an HTTP session reading the other.
class Wire {
 public:
  Wire() : listener_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    writer_.connect(listener_.address());
    session_ = std::make_unique<Poco::Net::HTTPServerSession>(
        listener_.acceptConnection(), Poco::makeAuto<Poco::Net::HTTPServerParams>());
  }
  void send(const std::string& bytes) {
    writer_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }
  void close() { writer_.shutdownSend(); }
  Poco::Net::HTTPServerSession& session() { return *session_; }

 private:
  Poco::Net::ServerSocket listener_;
  Poco::Net::StreamSocket writer_;
  std::unique_ptr<Poco::Net::HTTPServerSession> session_;
};

std::string readAll(BodyReader& reader) {
  std::string out;
  char buf[7];  // small on purpose: bodies span several reads
  for (;;) {
    const std::size_t n = reader.read(buf, sizeof buf);
    if (n == 0) return out;
    out.append(buf, n);
  }
}

}  // namespace

/// BodyReader: strict framing, truncation reported as an error rather than as the end.
class ProxyBodyReaderTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyBodyReaderTest);
  CPPUNIT_TEST(testLength);
  CPPUNIT_TEST(testLengthTruncated);
  CPPUNIT_TEST(testChunked);
  CPPUNIT_TEST(testChunkedTruncatedInData);
  CPPUNIT_TEST(testChunkedMissingLastChunk);
  CPPUNIT_TEST(testChunkedMalformed);
  CPPUNIT_TEST(testUntilClose);
  CPPUNIT_TEST(testEmpty);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testLength() {
    Wire w;
    w.send("0123456789NEXT");
    BodyReader body(w.session(), Framing::Length, 10);
    CPPUNIT_ASSERT_EQUAL(std::string("0123456789"), readAll(body));
    CPPUNIT_ASSERT(body.finished());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), body.bytesRead());
    BodyReader rest(w.session(), Framing::Length, 4);  // the next message starts where it should
    CPPUNIT_ASSERT_EQUAL(std::string("NEXT"), readAll(rest));
  }

  void testLengthTruncated() {
    Wire w;
    w.send("01234");
    w.close();
    BodyReader body(w.session(), Framing::Length, 10);
    CPPUNIT_ASSERT_THROW(readAll(body), BodyTruncated);
  }

  void testChunked() {
    Wire w;
    w.send("5;ext=1\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT");
    BodyReader body(w.session(), Framing::Chunked);
    CPPUNIT_ASSERT_EQUAL(std::string("hello world0123456789"), readAll(body));
    CPPUNIT_ASSERT(body.finished());
    BodyReader rest(w.session(), Framing::Length, 4);
    CPPUNIT_ASSERT_EQUAL(std::string("NEXT"), readAll(rest));
  }

  void testChunkedTruncatedInData() {
    Wire w;
    w.send("5\r\nhel");
    w.close();
    BodyReader body(w.session(), Framing::Chunked);
    CPPUNIT_ASSERT_THROW(readAll(body), BodyTruncated);
  }

  void testChunkedMissingLastChunk() {
    Wire w;
    w.send("5\r\nhello\r\n");
    w.close();
    BodyReader body(w.session(), Framing::Chunked);
    char buf[16];
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), body.read(buf, sizeof buf));
    // At a chunk boundary the reader says "flush now": the next chunk may be far off.
    CPPUNIT_ASSERT(!body.hasBuffered());
    CPPUNIT_ASSERT_THROW(body.read(buf, sizeof buf), BodyTruncated);
  }

  void testChunkedMalformed() {
    Wire w;
    w.send("zz\r\nhello\r\n0\r\n\r\n");
    BodyReader body(w.session(), Framing::Chunked);
    CPPUNIT_ASSERT_THROW(readAll(body), BodyTruncated);
    Wire w2;
    w2.send("5\r\nhelloXX0\r\n\r\n");
    BodyReader body2(w2.session(), Framing::Chunked);
    CPPUNIT_ASSERT_THROW(readAll(body2), BodyTruncated);
  }

  void testUntilClose() {
    Wire w;
    w.send("abc");
    w.send("defghij");
    w.close();
    BodyReader body(w.session(), Framing::UntilClose);
    CPPUNIT_ASSERT_EQUAL(std::string("abcdefghij"), readAll(body));
    CPPUNIT_ASSERT(body.finished());
  }

  void testEmpty() {
    Wire w;
    w.send("NEXT");
    BodyReader body(w.session(), Framing::Empty);
    CPPUNIT_ASSERT_EQUAL(std::string(), readAll(body));
    BodyReader zero(w.session(), Framing::Length, 0);
    CPPUNIT_ASSERT_EQUAL(std::string(), readAll(zero));
    BodyReader rest(w.session(), Framing::Length, 4);
    CPPUNIT_ASSERT_EQUAL(std::string("NEXT"), readAll(rest));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyBodyReaderTest);
