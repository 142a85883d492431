#include "net/EventLoop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>
#include <system_error>

namespace portico::net {
namespace {

std::int64_t monotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/// The eventfd's handler: drains the counter; the posted work runs after the batch.
class Waker final : public EventHandler {
 public:
  explicit Waker(int fd) : fd_(fd) {}
  void onEvent(std::uint32_t) override {
    std::uint64_t n;
    while (::read(fd_, &n, sizeof n) > 0) {
    }
  }

 private:
  int fd_;
};

}  // namespace

EventLoop::EventLoop() : now_(monotonicMs()) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) {
    const int err = errno;
    ::close(epoll_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
}

EventLoop::~EventLoop() {
  releaseClosed();
  ::close(wake_);
  ::close(epoll_);
}

bool EventLoop::tryAdd(int fd, std::uint32_t events, EventHandler& handler) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &handler;
  return ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::tryModify(int fd, std::uint32_t events, EventHandler& handler) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &handler;
  return ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::add(int fd, std::uint32_t events, EventHandler& handler) {
  if (!tryAdd(fd, events, handler))
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
}

void EventLoop::modify(int fd, std::uint32_t events, EventHandler& handler) {
  if (!tryModify(fd, events, handler))
    throw std::system_error(errno, std::generic_category(), "epoll_ctl mod");
}

void EventLoop::remove(int fd) {
  epoll_event ev{};
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, &ev);
}

void EventLoop::watch(TimerList& timers) {
  timers_.push_back(&timers);
}

std::int64_t EventLoop::refreshNow() {
  now_ = monotonicMs();
  return now_;
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(postMutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
}

void EventLoop::wakeBy(std::int64_t deadlineMs) {
  if (extraDeadline_ == 0 || deadlineMs < extraDeadline_) extraDeadline_ = deadlineMs;
}

void EventLoop::releaseClosed() {
  // A destructor may release more (a connection its upstream channel): they go in this round.
  while (ListNode* node = released_.front()) {
    node->unlink();
    delete owner<Releasable, &Releasable::releaseNode_>(node);
  }
}

void EventLoop::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(postMutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

std::int64_t EventLoop::nextDeadline() const {
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  for (const TimerList* list : timers_) next = std::min(next, list->next());
  if (extraDeadline_ != 0) next = std::min(next, extraDeadline_);
  return next;
}

void EventLoop::run() {
  Waker waker(wake_);
  add(wake_, EPOLLIN, waker);
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  while (!stopping_.load(std::memory_order_acquire)) {
    const std::int64_t next = nextDeadline();
    int timeout = -1;
    if (next != std::numeric_limits<std::int64_t>::max())
      timeout = static_cast<int>(std::clamp<std::int64_t>(next - now_, 0, 60000));
    const int n = ::epoll_wait(epoll_, events, kBatch, timeout);
    refreshNow();
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    for (int i = 0; i < n; ++i)
      static_cast<EventHandler*>(events[i].data.ptr)->onEvent(events[i].events);
    if (extraDeadline_ != 0 && extraDeadline_ <= now_) extraDeadline_ = 0;
    // By index: a timeout's handler may watch a new list (a route's own timeout, made on
    // first use), which may move the vector.
    for (std::size_t t = 0; t < timers_.size(); ++t) timers_[t]->expire(now_);
    runPosted();
    if (batchEnd_) batchEnd_();
    releaseClosed();
  }
  remove(wake_);
}

}  // namespace portico::net
