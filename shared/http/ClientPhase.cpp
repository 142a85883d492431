#include "http/ClientPhase.h"

namespace portico {

void ClientPhase::headStarted() {
  if (stage_ == Stage::Waiting && !first_) restart_ = true;
  stage_ = Stage::Head;
}

void ClientPhase::headComplete(bool requestComplete) {
  stage_ = requestComplete ? Stage::Complete : Stage::Request;
}

void ClientPhase::bodyWanted() {
  stage_ = Stage::Body;
  restart_ = true;
}

void ClientPhase::bodyProgress() {
  if (stage_ == Stage::Body) restart_ = true;
}

void ClientPhase::bodyBacklogged() {
  stage_ = Stage::Backlogged;
}

void ClientPhase::requestComplete() {
  stage_ = Stage::Complete;
}

void ClientPhase::writeBlocked() {
  if (!writeBlocked_) restart_ = true;
  writeBlocked_ = true;
}

void ClientPhase::writeProgress() {
  if (writeBlocked_) restart_ = true;
}

void ClientPhase::writeDrained() {
  writeBlocked_ = false;
}

void ClientPhase::responseDone() {
  stage_ = Stage::Waiting;
  first_ = false;
  inputFull_ = false;
  restart_ = true;
}

void ClientPhase::inputFull(bool full) {
  inputFull_ = full;
}

void ClientPhase::peerClosed() {
  peerClosed_ = true;
}

void ClientPhase::lingering() {
  stage_ = Stage::Lingering;
  inputFull_ = false;
  writeBlocked_ = false;
  restart_ = true;
}

void ClientPhase::tunnel() {
  stage_ = Stage::Tunnel;
  restart_ = true;
}

void ClientPhase::tunnelActivity() {
  restart_ = true;
}

ClientPhase::Timeout ClientPhase::timeout() const {
  switch (stage_) {
    case Stage::Lingering:
      return Timeout::Linger;
    case Stage::Tunnel:
      return Timeout::Tunnel;
    default:
      break;
  }
  if (writeBlocked_) return Timeout::Send;
  switch (stage_) {
    case Stage::Waiting:
      return first_ ? Timeout::Header : Timeout::KeepAlive;
    case Stage::Head:
      return Timeout::Header;
    case Stage::Body:
      return Timeout::Body;
    default:
      return Timeout::None;
  }
}

}  // namespace portico
