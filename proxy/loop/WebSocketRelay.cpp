#include "loop/WebSocketRelay.h"

#include "loop/ProxyLoop.h"

namespace portico {

void WebSocketRelay::start(std::unique_ptr<UpstreamChannel> channel,
                           UpstreamChannel::Owner& owner) {
  channel_ = std::move(channel);
  channel_->adopt(owner);
  clientEof_ = targetEof_ = false;
}

void WebSocketRelay::stop() {
  if (!channel_) return;
  channel_->abort();
  loop_.release(std::move(channel_));
}

WebSocketRelay::Turn WebSocketRelay::pump(net::Buffer* fromClient, net::Outbox& toClient,
                                          net::Stream& client, bool clientEnded) {
  Turn turn;
  if (fromClient && fromClient->unconsumed() > 0) {
    channel_->outbox().append(
        std::string_view(fromClient->data() + fromClient->begin(), fromClient->unconsumed()));
    fromClient->reset();
  }
  if (channel_->flush() == net::Io::Failed) {
    turn.ended = true;
    return turn;
  }
  net::Buffer& up = channel_->input();
  if (up.unconsumed() > 0) {
    turn.toClient = up.unconsumed();
    toClient.append(std::string_view(up.data() + up.begin(), up.unconsumed()));
    up.reset();
  }
  const net::Io io = toClient.flush(client);
  if (io == net::Io::Failed || io == net::Io::Closed) {
    turn.ended = true;
    return turn;
  }
  turn.clientBlocked = io == net::Io::Again;
  turn.targetBacklogged = !channel_->outbox().empty();
  channel_->pauseReading(turn.clientBlocked);
  if (clientEnded && !clientEof_ && channel_->outbox().empty()) {
    clientEof_ = true;
    channel_->shutdownWrite();
  }
  if (channel_->closedByPeer() && !targetEof_ && toClient.empty()) {
    targetEof_ = true;
    client.shutdownWrite();
  }
  turn.ended = clientEof_ && targetEof_;
  return turn;
}

}  // namespace portico
